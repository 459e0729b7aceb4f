// In-memory state of the hexagon, built by evolve() or restored from a snapshot; indexes kept for
// every query path.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "roombus/core/events.hpp"
#include "roombus/core/lifecycle.hpp"
#include "roombus/core/model.hpp"
#include "roombus/core/result.hpp"
#include "roombus/core/text_index.hpp"

namespace roombus::core {

// Rooms by index (room number - 1), each stored once and never moved: a reference stays valid as
// rooms are added, and a copy's references point into the copy. The rooms a restore() is given
// stay in the vector they came in (no copy of them, and that vector may sit on huge pages the
// decoder asked for), and every later room goes into blocks of kBlock reserved up front. A
// std::deque held two rooms per 448-byte allocation, and a restart moved every decoded room
// into one: for 500k rooms 112 MB of fresh pages and 250k allocations.
class RoomStore {
 public:
  static constexpr std::size_t kBlock = 4096;

  RoomStore() = default;
  explicit RoomStore(std::vector<Room> restored)
      : first_(restored.size()), base_(restored.empty() ? 0 : 1), size_(restored.size()) {
    if (!restored.empty()) blocks_.push_back(std::move(restored));
  }
  RoomStore(const RoomStore& other);
  RoomStore& operator=(const RoomStore& other);
  RoomStore(RoomStore&& other) noexcept
      : blocks_(std::exchange(other.blocks_, {})),
        first_(std::exchange(other.first_, 0)),
        base_(std::exchange(other.base_, 0)),
        size_(std::exchange(other.size_, 0)) {}
  RoomStore& operator=(RoomStore&& other) noexcept {
    blocks_ = std::exchange(other.blocks_, {});
    first_ = std::exchange(other.first_, 0);
    base_ = std::exchange(other.base_, 0);
    size_ = std::exchange(other.size_, 0);
    return *this;
  }
  ~RoomStore() = default;

  std::size_t size() const { return size_; }
  Room& operator[](std::size_t i) {
    if (i < first_) return blocks_[0][i];
    const std::size_t later = i - first_;
    return blocks_[base_ + later / kBlock][later % kBlock];
  }
  const Room& operator[](std::size_t i) const {
    if (i < first_) return blocks_[0][i];
    const std::size_t later = i - first_;
    return blocks_[base_ + later / kBlock][later % kBlock];
  }
  Room& push_back(Room room);

  // The same rooms in the same order, however each side's blocks are cut.
  friend bool operator==(const RoomStore& a, const RoomStore& b);

 private:
  std::vector<std::vector<Room>> blocks_;
  std::size_t first_ = 0;  // rooms in blocks_[0] when it holds the restored ones
  std::size_t base_ = 0;   // 1 when it does: where the blocks of kBlock start
  std::size_t size_ = 0;
};

// One server's live rooms ordered by (start, number): the index getRooms scans. Sorted blocks of
// at most kMaxBlock entries of 16 B, where a std::set took a 48-byte node per room: a restart
// built 500k nodes one by one, a fifth of State::restore's time, and a scan of a window now
// reads contiguous entries. An erase that leaves a block under half full merges it with a
// neighbour or evens the two out, so deletions cannot leave the blocks sparse.
class Schedule {
 public:
  using Entry = std::pair<Instant, std::int64_t>;  // (start, room number)
  static constexpr std::size_t kMaxBlock = 256;

  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Entry;
    using difference_type = std::ptrdiff_t;
    using pointer = const Entry*;
    using reference = const Entry&;

    const_iterator() = default;
    const Entry& operator*() const { return (*blocks_)[block_][i_]; }
    const Entry* operator->() const { return &(*blocks_)[block_][i_]; }
    const_iterator& operator++() {
      if (++i_ == (*blocks_)[block_].size()) {
        ++block_;
        i_ = 0;
      }
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator before = *this;
      ++*this;
      return before;
    }
    friend bool operator==(const const_iterator& a, const const_iterator& b) {
      return a.block_ == b.block_ && a.i_ == b.i_;
    }

   private:
    friend class Schedule;
    const_iterator(const std::vector<std::vector<Entry>>* blocks, std::size_t block, std::size_t i)
        : blocks_(blocks), block_(block), i_(i) {}
    const std::vector<std::vector<Entry>>* blocks_ = nullptr;
    std::size_t block_ = 0;
    std::size_t i_ = 0;
  };

  const_iterator begin() const { return {&blocks_, 0, 0}; }
  const_iterator end() const { return {&blocks_, blocks_.size(), 0}; }
  // The first entry not less than `entry`.
  const_iterator lower_bound(const Entry& entry) const;
  // False when `entry` is there already. O(1) for an entry after all others (rooms restored or
  // created in start order); else a binary search and a move of at most kMaxBlock entries.
  bool insert(const Entry& entry);
  // Adds `entry` when it sorts after every entry (O(1)), else returns false and adds nothing.
  bool try_append(const Entry& entry);
  // Adds `sorted` (ascending, none of them here yet) in one pass over both: a restart's way to
  // add the rooms that did not come in order.
  void merge(const std::vector<Entry>& sorted);
  // False when `entry` is not there.
  bool erase(const Entry& entry);
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  friend bool operator==(const Schedule& a, const Schedule& b);

 private:
  // The first block whose last entry is not less than `entry`, or blocks_.size().
  std::size_t first_block_not_below(const Entry& entry) const;
  // Replaces the blocks with `sorted`, in full blocks.
  void cut_into_blocks(const std::vector<Entry>& sorted);
  // Moves entries between blocks `left` and `left + 1` so that both are at least half full, or
  // merges them when one block holds both.
  void even_out(std::size_t left);

  std::vector<std::vector<Entry>> blocks_;  // none empty; each sorted, and all in order
  std::size_t size_ = 0;
};

// Not thread-safe by design: one thread (the io_context's) owns it.
class State {
 public:
  // Rebuilds the state a snapshot describes: every server (any order) and every room in number
  // order (numbers 1..n), deleted ones included, as of log position `position`. The indexes are
  // derived from that data, so the result equals (==) the state that apply() built. Data that
  // apply() could not have produced (a duplicate server id or room uid, a gap in the room
  // numbers, two live servers on one URL, a negative position) is Errc::invalid_argument.
  // `stages`: each room's lifecycle stage, in number order; empty means none for every room (a
  // snapshot written before lifecycle events existed). The due index starts disabled.
  // `rooms` becomes the state's own storage, not copied. With at least kRestoreHelperRooms rooms
  // (and more than one CPU) the schedules are built on a second thread, joined before it returns.
  static Result<State> restore(std::int64_t position, std::vector<Server> servers,
                               std::vector<Room> rooms, std::vector<Stage> stages = {});
  // Below it, a thread costs more than it saves.
  static constexpr std::size_t kRestoreHelperRooms = 50000;

  State() = default;
  // Copies are whole and independent: the uid index holds numbers, not pointers into rooms_.
  State(const State&) = default;
  State& operator=(const State&) = default;
  State(State&&) noexcept = default;
  State& operator=(State&&) noexcept = default;
  ~State() = default;

  std::int64_t position() const { return position_; }

  const Room* room(std::string_view uid) const;
  const Room* room_by_number(std::int64_t number) const;
  // Including deleted servers (tombstones keep rooms' history readable); callers check `deleted`.
  const Server* server(ServerId id) const;
  // Live (not deleted) server whose URL equals `url` case-insensitively.
  const Server* live_server_by_url(std::string_view url) const;
  // Live servers holding this key hash, lowest id first (clones share their prototype's key).
  std::vector<const Server*> live_servers_by_key_hash(std::string_view key_hash) const;

  ServerId next_server_id() const;
  std::int64_t next_room_number() const { return static_cast<std::int64_t>(rooms_.size()) + 1; }

  const std::map<ServerId, Server>& servers() const { return servers_; }
  std::size_t room_count() const { return rooms_.size(); }
  std::size_t live_room_count() const;
  // Live rooms of one server (those rooms_starting() can list), in O(log n).
  std::size_t live_room_count(ServerId server) const;
  // An upper bound on the duration of every live room (it never shrinks): how far before a
  // window a room still running in it can have started.
  std::int64_t longest_minutes() const { return longest_minutes_; }
  // Rooms in creation order (by number).
  std::vector<const Room*> rooms_in_order() const;

  // Live rooms of a server whose start lies in [from, to], ordered by start then number; with
  // include_running, also rooms that started before `from` and end at or after it.
  std::vector<const Room*> rooms_starting(ServerId server, Instant from, Instant to,
                                          bool include_running) const;
  // Live rooms of a server that have not ended at `now`.
  std::size_t open_room_count(ServerId server, Instant now) const;
  // A value that changes whenever the server's live rooms (what rooms_starting() can answer)
  // change: an answer computed under one value stays right while the value and the window hold.
  // Never repeats within this State's life; 0 for a server whose rooms have not changed since
  // the State was built.
  std::uint64_t schedule_version(ServerId server) const;

  // --- lifecycle (lifecycle.hpp) ---
  // The stage of room `number` in its current cycle; none for an unknown number.
  Stage stage(std::int64_t number) const;
  // Every room's stage, in number order. Data, not an index: it is what the log's lifecycle
  // events set, so snapshots keep it.
  const std::vector<Stage>& stages() const { return stages_; }
  // Builds the due index (the next fact of every live room whose cycle is not over, due with
  // `lead` before the start for room.starting); apply() keeps it up to date from then on. Off
  // until called: only the state that decides needs it, not the snapshotter's copy.
  void enable_lifecycle(std::chrono::minutes lead);
  bool lifecycle_enabled() const { return lead_.has_value(); }
  // Drops the due index: for a copy of the state that only applies events (the snapshotter's).
  void disable_lifecycle();
  // When the earliest pending fact falls due; nullopt when none is pending or the index is off.
  // O(1): garbage never stays on top of the index.
  std::optional<Instant> next_due() const;
  // The facts due at `now`, earliest first, at most `max`: only each room's next stage (a room
  // may owe more; emitting one makes the next current). Does not change the state.
  std::vector<DueFact> due_facts(Instant now, std::size_t max) const;
  // Heap entries held (live and garbage), and the bytes reserved for them.
  std::size_t due_index_entries() const { return due_.size(); }
  std::size_t due_index_bytes() const { return due_.capacity_bytes(); }

  // The one way state changes. Events must arrive in position order without gaps.
  void apply(const Event& event);

  friend bool operator==(const State& a, const State& b);

 private:
  // State::restore's two halves, each on its own members: the uid index (and the numbers'
  // check), and the schedules with what derives from them.
  std::optional<Error> index_restored(const std::vector<Room>& rooms);
  void schedule_restored(const std::vector<Room>& rooms);
  void put_room(Room room, Stage stage);
  void put_server(const Server& server);
  void unindex_room(const Room& room);
  void touch_schedule(ServerId server);
  // Due index upkeep after a room changed: counts it, pushes its next fact when that changed,
  // prunes garbage from the top, rebuilds when garbage outnumbers the live entries.
  void track_due(const Room& room, Stage stage, bool was_pending, bool changed);
  bool is_current(const DueFact& fact) const;
  void rebuild_due();

  std::int64_t position_ = 0;
  // The number of the room with this uid, or 0.
  std::int64_t number_of(std::string_view uid) const;

  // rooms_[n - 1] is room number n (numbers are dense and rooms never leave: deletion is a
  // flag). Growing it never moves the rooms.
  RoomStore rooms_;
  // uid -> number. It holds numbers, not the uids: each uid is stored once, in its room (it was
  // three times: a map key, the room, the number index), and a copied state's index is valid.
  TextIndex uids_;
  std::map<ServerId, Server> servers_;
  std::unordered_map<std::string, ServerId> live_urls_;  // lowercase url -> id
  // hash -> live server ids, ascending within one hash whatever the order of history.
  std::multimap<std::string, ServerId, std::less<>> key_index_;
  // Per server, live rooms ordered by (start, number): the upcoming-rooms query path.
  std::map<ServerId, Schedule> schedule_;
  // Derived from history, so operator== ignores them: each server's schedule_version() and the
  // counter they are drawn from.
  std::unordered_map<ServerId, std::uint64_t> schedule_versions_;
  std::uint64_t schedule_changes_ = 0;
  // Upper bound on live rooms' durations for the "already running" scan. It only grows (a room
  // shortened or deleted leaves it high), so it depends on history and operator== ignores it.
  std::int64_t longest_minutes_ = 0;
  std::vector<Stage> stages_;  // stages_[n - 1] is the stage of room number n
  // Derived, so operator== ignores them: the lead the index was built with (nullopt: off), the
  // index, and how many of its entries are live (one per live room whose cycle is not over).
  std::optional<std::chrono::minutes> lead_;
  DueIndex due_;
  std::size_t pending_ = 0;
};

// The window rule of State::rooms_starting() for one room: it starts in [from, to], or (with
// include_running) started before `from` and has not ended by then.
inline bool in_window(const Room& room, Instant from, Instant to, bool include_running) {
  return room.start <= to && (room.start >= from || (include_running && room.end >= from));
}

// evolve(state, event) -> state, done in place: the one way state changes.
inline void evolve(State& state, const Event& event) { state.apply(event); }

}  // namespace roombus::core
