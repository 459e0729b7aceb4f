// In-memory state of the hexagon, built by evolve() or restored from a snapshot; indexes kept for
// every query path.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
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
  static Result<State> restore(std::int64_t position, std::vector<Server> servers,
                               std::vector<Room> rooms, std::vector<Stage> stages = {});

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
  // flag). A deque, so that growing it never copies the rooms.
  std::deque<Room> rooms_;
  // uid -> number. It holds numbers, not the uids: each uid is stored once, in its room (it was
  // three times: a map key, the room, the number index), and a copied state's index is valid.
  TextIndex uids_;
  std::map<ServerId, Server> servers_;
  std::unordered_map<std::string, ServerId> live_urls_;  // lowercase url -> id
  // hash -> live server ids, ascending within one hash whatever the order of history.
  std::multimap<std::string, ServerId, std::less<>> key_index_;
  // Per server, live rooms ordered by (start, number): the upcoming-rooms query path.
  std::map<ServerId, std::set<std::pair<Instant, std::int64_t>>> schedule_;
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
