// InOrderTracker: slots in the order taken, the done prefix popped as it forms.
#include "roombus/kafka/in_order_tracker.hpp"

#include <algorithm>

namespace roombus::kafka {

void InOrderTracker::take(std::int64_t position) {
  if (!slots_.empty() && position <= slots_.back().position) ordered_ = false;
  slots_.push_back(Slot{position, State::in_flight});
  ++in_flight_;
}

bool InOrderTracker::complete(std::int64_t position) {
  if (settle(position, State::done) == 0) return false;
  bool moved = false;
  while (!slots_.empty() && slots_.front().state == State::done) {
    done_through_ = slots_.front().position;
    slots_.pop_front();
    moved = true;
  }
  if (slots_.empty()) ordered_ = true;
  return moved;
}

bool InOrderTracker::fail(std::int64_t position) { return settle(position, State::failed) > 0; }

std::size_t InOrderTracker::settle(std::int64_t position, State to) {
  if (slots_.empty()) return 0;
  Slot* found = nullptr;
  if (ordered_) {
    const std::int64_t first = slots_.front().position;
    if (position < first || position > slots_.back().position) return 0;
    const auto distance = static_cast<std::uint64_t>(position - first);
    if (distance < slots_.size() && slots_[distance].position == position) {
      found = &slots_[distance];
    } else {
      auto it = std::lower_bound(
          slots_.begin(), slots_.end(), position,
          [](const Slot& slot, std::int64_t wanted) { return slot.position < wanted; });
      if (it != slots_.end() && it->position == position) found = &*it;
    }
    if (found == nullptr || found->state != State::in_flight) return 0;
    found->state = to;
    --in_flight_;
    return 1;
  }
  std::size_t settled = 0;
  for (Slot& slot : slots_) {
    if (slot.position != position || slot.state != State::in_flight) continue;
    slot.state = to;
    ++settled;
  }
  in_flight_ -= settled;
  return settled;
}

}  // namespace roombus::kafka
