// Lifecycle stages and the due-fact heap (sift up/down by hand: the walk in smallest() relies on
// the children of node i being 2i+1 and 2i+2, which std::push_heap does not promise).
#include "roombus/core/lifecycle.hpp"

#include <array>
#include <cassert>
#include <queue>
#include <utility>

namespace roombus::core {
namespace {

constexpr std::array<std::pair<Stage, RoomChange>, 3> kReachedBy{{
    {Stage::starting, RoomChange::starting},
    {Stage::started, RoomChange::started},
    {Stage::ended, RoomChange::ended},
}};

}  // namespace

RoomChange change_reaching(Stage stage) {
  for (const auto& [reached, change] : kReachedBy) {
    if (reached == stage) return change;
  }
  assert(false && "Stage::none is reached by no change");
  return RoomChange::starting;
}

std::optional<Stage> stage_reached(RoomChange change) {
  for (const auto& [reached, by] : kReachedBy) {
    if (by == change) return reached;
  }
  return std::nullopt;
}

std::optional<Stage> next_stage(Stage stage) {
  if (stage == Stage::ended) return std::nullopt;
  return static_cast<Stage>(static_cast<std::uint8_t>(stage) + 1);
}

Instant due_at(const Room& room, Stage stage, std::chrono::minutes lead) {
  switch (stage) {
    case Stage::starting:
      return room.start - lead;
    case Stage::started:
      return room.start;
    case Stage::ended:
    case Stage::none:
      break;
  }
  return room.end;
}

DueIndex::Entry DueIndex::pack(const DueFact& fact) {
  assert(fact.number >= 0 && fact.number < (std::int64_t{1} << 56));
  return Entry{fact.due.time_since_epoch().count(), (static_cast<std::uint64_t>(fact.number) << 8) |
                                                        static_cast<std::uint64_t>(fact.stage)};
}

DueFact DueIndex::unpack(const Entry& entry) {
  return DueFact{Instant{std::chrono::seconds{entry.due}},
                 static_cast<std::int64_t>(entry.key >> 8), static_cast<Stage>(entry.key & 0xff)};
}

void DueIndex::sift_up(std::size_t i) {
  while (i > 0) {
    const std::size_t parent = (i - 1) / 2;
    if (!(heap_[i] < heap_[parent])) break;
    std::swap(heap_[i], heap_[parent]);
    i = parent;
  }
}

void DueIndex::sift_down(std::size_t i) {
  const std::size_t n = heap_.size();
  for (;;) {
    std::size_t smallest = i;
    const std::size_t left = 2 * i + 1;
    const std::size_t right = left + 1;
    if (left < n && heap_[left] < heap_[smallest]) smallest = left;
    if (right < n && heap_[right] < heap_[smallest]) smallest = right;
    if (smallest == i) return;
    std::swap(heap_[i], heap_[smallest]);
    i = smallest;
  }
}

void DueIndex::push(const DueFact& fact) {
  heap_.push_back(pack(fact));
  sift_up(heap_.size() - 1);
}

void DueIndex::pop() {
  assert(!heap_.empty());
  heap_.front() = heap_.back();
  heap_.pop_back();
  if (!heap_.empty()) sift_down(0);
}

void DueIndex::assign(const std::vector<DueFact>& facts) {
  heap_.clear();
  heap_.shrink_to_fit();
  heap_.reserve(facts.size());
  for (const DueFact& f : facts) heap_.push_back(pack(f));
  for (std::size_t i = heap_.size() / 2; i-- > 0;) sift_down(i);
}

std::vector<DueFact> DueIndex::smallest(Instant now, std::size_t max,
                                        const std::function<bool(const DueFact&)>& valid) const {
  std::vector<DueFact> out;
  const std::int64_t limit = now.time_since_epoch().count();
  // The frontier: nodes whose parents were taken; the smallest of them is the next in order.
  using Node = std::pair<Entry, std::size_t>;
  std::priority_queue<Node, std::vector<Node>, std::greater<>> frontier;
  if (!heap_.empty() && heap_[0].due <= limit) frontier.emplace(heap_[0], 0);
  while (!frontier.empty() && out.size() < max) {
    const std::size_t i = frontier.top().second;
    frontier.pop();
    const DueFact fact = unpack(heap_[i]);
    if (valid(fact)) out.push_back(fact);
    for (std::size_t child : {2 * i + 1, 2 * i + 2}) {
      if (child < heap_.size() && heap_[child].due <= limit) frontier.emplace(heap_[child], child);
    }
  }
  return out;
}

}  // namespace roombus::core
