// Room lifecycle: the stages a room's schedule passes through, when each falls due, and the heap
// that finds the earliest due one.
#pragma once

#include <chrono>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "roombus/core/events.hpp"
#include "roombus/core/model.hpp"
#include "roombus/core/time.hpp"

namespace roombus::core {

// Where a room is in its current cycle. A cycle begins when the room is created or its start
// changes (back to none); each later stage is reached by the lifecycle event of the same name.
enum class Stage : std::uint8_t { none, starting, started, ended };

inline constexpr std::chrono::minutes kDefaultStartingSoon{10};

// The change that reaches `stage` (starting, started or ended; not none).
RoomChange change_reaching(Stage stage);
// The stage a lifecycle change reaches; nullopt for the other changes.
std::optional<Stage> stage_reached(RoomChange change);
// The stage after `stage`; nullopt after ended (the cycle is over).
std::optional<Stage> next_stage(Stage stage);

// When `stage` falls due: start - lead (starting), start (started), end (ended).
Instant due_at(const Room& room, Stage stage, std::chrono::minutes lead);

// A lifecycle fact: room `number` reaches `stage`, which fell due at `due`. Ordered by (due,
// number, stage): the order in which facts are emitted.
struct DueFact {
  Instant due{};
  std::int64_t number = 0;
  Stage stage = Stage::none;
  friend auto operator<=>(const DueFact&, const DueFact&) = default;
};

// A binary min-heap of DueFacts, 16 bytes each, with lazy invalidation: an entry is never looked
// for when its room changes; the State treats it as garbage unless it still matches the room
// (prunes garbage from the top, and rebuilds when garbage outnumbers live entries). Room numbers
// must be below 2^56.
class DueIndex {
 public:
  void push(const DueFact& fact);
  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }
  DueFact top() const { return unpack(heap_.front()); }
  void pop();
  void clear() { heap_.clear(); }
  // Replaces the contents by `facts` in O(n).
  void assign(const std::vector<DueFact>& facts);
  std::size_t capacity_bytes() const { return heap_.capacity() * sizeof(Entry); }

  // The smallest entries with due <= now that `valid` accepts, in order, at most `max` of them,
  // without changing the heap: a best-first walk from the root that stops at `max` (so it costs
  // O(max log max) plus the garbage it passes, not a visit of everything due).
  std::vector<DueFact> smallest(Instant now, std::size_t max,
                                const std::function<bool(const DueFact&)>& valid) const;

 private:
  struct Entry {
    std::int64_t due;   // Unix seconds
    std::uint64_t key;  // number << 8 | stage: (due, key) orders like DueFact
    friend auto operator<=>(const Entry&, const Entry&) = default;
  };
  static_assert(sizeof(Entry) == 16);
  static Entry pack(const DueFact& fact);
  static DueFact unpack(const Entry& entry);
  void sift_up(std::size_t i);
  void sift_down(std::size_t i);

  std::vector<Entry> heap_;
};

}  // namespace roombus::core
