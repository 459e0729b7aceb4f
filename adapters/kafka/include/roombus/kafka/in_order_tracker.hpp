// InOrderTracker: work finishes in any order; what may be committed is where the done prefix ends.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>

namespace roombus::kafka {

// Positions (a partition's offsets, the relay's log positions) are taken as their work starts and
// settled as it ends, in any order; done_through() is the last position such that it and every
// position taken before it are done. That is what may be committed: the command consumer stores
// done_through() + 1 as its partition's offset, the relay saves it as its cursor.
//
// Positions are normally taken in increasing order, with gaps allowed (offsets of records that
// are not ours to see: transaction markers, compacted records). A position taken out of order
// (a partition's log rewound under the consumer) is tracked too: slots leave in the order taken,
// and settling a position settles every slot holding it. Settling a position that is not in
// flight (already settled, or never taken since the tracker was made) changes nothing; a late
// report of a position taken again since is the owner's to tell apart.
//
// A failed slot is no longer in flight but never done: done_through() stays before it until the
// owner replaces the tracker (the relay rewinds to done_through() and takes everything again).
//
// Threads: none of its own and no locking; the owner serialises every call (the consumer on the
// io_context's thread, the relay under its mutex). It holds positions only, one slot per
// position taken and not yet passed by done_through(); the owner keeps the work itself.
class InOrderTracker {
 public:
  // Nothing done yet: done_through() is -1, before a partition's first offset.
  InOrderTracker() = default;
  // Everything up to `done_through` is done already (a saved cursor).
  explicit InOrderTracker(std::int64_t done_through) : done_through_(done_through) {}

  // The work of `position` starts.
  void take(std::int64_t position);
  // The work of `position` is done. True when done_through() moved: there is something new to
  // commit.
  bool complete(std::int64_t position);
  // The work of `position` failed for good. True when it was in flight (the first report of the
  // failure, not a repeat or a report from before the tracker was made).
  bool fail(std::int64_t position);

  std::int64_t done_through() const { return done_through_; }
  // Taken and neither done nor failed.
  std::size_t in_flight() const { return in_flight_; }

 private:
  enum class State : std::uint8_t { in_flight, done, failed };
  struct Slot {
    std::int64_t position = 0;
    State state = State::in_flight;
  };

  // Moves every in-flight slot of `position` to `to`; how many there were.
  std::size_t settle(std::int64_t position, State to);

  std::int64_t done_through_ = -1;
  // In the order taken; the front is never done (done slots at the front leave at once).
  std::deque<Slot> slots_;
  std::size_t in_flight_ = 0;
  // Every slot's position above the one before it: a slot is found by its distance from the
  // front (consecutive positions) or by binary search (gaps), not by a scan.
  bool ordered_ = true;
};

}  // namespace roombus::kafka
