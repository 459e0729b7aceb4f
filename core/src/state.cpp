// State: applies events (evolve), or restores a snapshot, and keeps the indexes queries rely on.
#include "roombus/core/state.hpp"

#include <algorithm>
#include <cassert>
#include <exception>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include "roombus/core/rules.hpp"

namespace roombus::core {
namespace {

// Garbage the due index may hold beyond the live entries before it is rebuilt; keeps a small
// state from rebuilding on every change.
constexpr std::size_t kDueGarbageSlack = 1024;

bool is_pending(const Room& room, Stage stage) { return !room.deleted && stage != Stage::ended; }

}  // namespace

RoomStore::RoomStore(const RoomStore& other)
    : first_(other.first_), base_(other.base_), size_(other.size_) {
  blocks_.reserve(other.blocks_.size());
  for (std::size_t b = 0; b < other.blocks_.size(); ++b) {
    std::vector<Room>& block = blocks_.emplace_back();
    // A later block is filled up to kBlock in place; a copy that held only its rooms would move
    // them when it grew.
    if (b >= base_) block.reserve(kBlock);
    block.insert(block.end(), other.blocks_[b].begin(), other.blocks_[b].end());
  }
}

RoomStore& RoomStore::operator=(const RoomStore& other) {
  if (this != &other) *this = RoomStore(other);
  return *this;
}

Room& RoomStore::push_back(Room room) {
  if ((size_ - first_) % kBlock == 0) blocks_.emplace_back().reserve(kBlock);
  ++size_;
  return blocks_.back().emplace_back(std::move(room));
}

bool operator==(const RoomStore& a, const RoomStore& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!(a[i] == b[i])) return false;
  }
  return true;
}

std::size_t Schedule::first_block_not_below(const Entry& entry) const {
  return static_cast<std::size_t>(
      std::partition_point(blocks_.begin(), blocks_.end(),
                           [&](const std::vector<Entry>& block) { return block.back() < entry; }) -
      blocks_.begin());
}

Schedule::const_iterator Schedule::lower_bound(const Entry& entry) const {
  const std::size_t b = first_block_not_below(entry);
  if (b == blocks_.size()) return end();
  const std::vector<Entry>& block = blocks_[b];
  return {&blocks_, b,
          static_cast<std::size_t>(std::lower_bound(block.begin(), block.end(), entry) -
                                   block.begin())};
}

bool Schedule::try_append(const Entry& entry) {
  if (!blocks_.empty() && !(blocks_.back().back() < entry)) return false;
  // Appended blocks are filled up: entries that come in order are not inserted before.
  if (blocks_.empty() || blocks_.back().size() == kMaxBlock) blocks_.emplace_back();
  blocks_.back().push_back(entry);
  ++size_;
  return true;
}

void Schedule::merge(const std::vector<Entry>& sorted) {
  if (sorted.empty()) return;
  if (blocks_.empty()) return cut_into_blocks(sorted);
  std::vector<Entry> all;
  all.reserve(size_ + sorted.size());
  std::merge(begin(), end(), sorted.begin(), sorted.end(), std::back_inserter(all));
  cut_into_blocks(all);
}

void Schedule::cut_into_blocks(const std::vector<Entry>& sorted) {
  blocks_.clear();
  blocks_.reserve((sorted.size() + kMaxBlock - 1) / kMaxBlock);
  for (std::size_t from = 0; from < sorted.size(); from += kMaxBlock) {
    const std::size_t to = std::min(from + kMaxBlock, sorted.size());
    blocks_.emplace_back(sorted.begin() + static_cast<std::ptrdiff_t>(from),
                         sorted.begin() + static_cast<std::ptrdiff_t>(to));
  }
  size_ = sorted.size();
}

bool Schedule::insert(const Entry& entry) {
  if (try_append(entry)) return true;
  const std::size_t b = first_block_not_below(entry);  // < blocks_.size(): not after the last
  auto at = std::lower_bound(blocks_[b].begin(), blocks_[b].end(), entry);
  if (*at == entry) return false;
  if (blocks_[b].size() < kMaxBlock) {
    blocks_[b].insert(at, entry);
  } else {
    // Split in halves; the entry goes into the half it sorts in.
    constexpr std::size_t kHalf = kMaxBlock / 2;
    const auto offset = static_cast<std::size_t>(at - blocks_[b].begin());
    std::vector<Entry> upper(blocks_[b].begin() + kHalf, blocks_[b].end());
    blocks_[b].erase(blocks_[b].begin() + kHalf, blocks_[b].end());
    blocks_.insert(blocks_.begin() + static_cast<std::ptrdiff_t>(b) + 1, std::move(upper));
    std::vector<Entry>& half = offset <= kHalf ? blocks_[b] : blocks_[b + 1];
    const std::size_t in_half = offset <= kHalf ? offset : offset - kHalf;
    half.insert(half.begin() + static_cast<std::ptrdiff_t>(in_half), entry);
  }
  ++size_;
  return true;
}

bool Schedule::erase(const Entry& entry) {
  const std::size_t b = first_block_not_below(entry);
  if (b == blocks_.size()) return false;
  std::vector<Entry>& block = blocks_[b];
  auto at = std::lower_bound(block.begin(), block.end(), entry);
  if (*at != entry) return false;
  block.erase(at);
  --size_;
  if (block.empty()) {
    blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(b));
  } else if (block.size() < kMaxBlock / 2 && blocks_.size() > 1) {
    even_out(b + 1 < blocks_.size() ? b : b - 1);
  }
  return true;
}

void Schedule::even_out(std::size_t left) {
  std::vector<Entry>& l = blocks_[left];
  std::vector<Entry>& r = blocks_[left + 1];
  const std::size_t total = l.size() + r.size();
  if (total <= kMaxBlock) {
    l.insert(l.end(), r.begin(), r.end());
    blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(left) + 1);
    return;
  }
  const std::size_t half = total / 2;
  if (l.size() < half) {
    const auto n = static_cast<std::ptrdiff_t>(half - l.size());
    l.insert(l.end(), r.begin(), r.begin() + n);
    r.erase(r.begin(), r.begin() + n);
  } else {
    const auto n = static_cast<std::ptrdiff_t>(l.size() - half);
    r.insert(r.begin(), l.end() - n, l.end());
    l.erase(l.end() - n, l.end());
  }
}

bool operator==(const Schedule& a, const Schedule& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

std::int64_t State::number_of(std::string_view uid) const {
  return uids_.find(uid, [this](std::int64_t number) -> std::string_view {
    return rooms_[static_cast<std::size_t>(number - 1)].uid;
  });
}

const Room* State::room(std::string_view uid) const {
  const std::int64_t number = number_of(uid);
  return number == 0 ? nullptr : &rooms_[static_cast<std::size_t>(number - 1)];
}

const Room* State::room_by_number(std::int64_t number) const {
  if (number < 1 || number > static_cast<std::int64_t>(rooms_.size())) return nullptr;
  return &rooms_[static_cast<std::size_t>(number - 1)];
}

const Server* State::server(ServerId id) const {
  auto it = servers_.find(id);
  return it == servers_.end() ? nullptr : &it->second;
}

const Server* State::live_server_by_url(std::string_view url) const {
  auto it = live_urls_.find(lowercase(url));
  return it == live_urls_.end() ? nullptr : server(it->second);
}

std::vector<const Server*> State::live_servers_by_key_hash(std::string_view key_hash) const {
  std::vector<const Server*> out;
  if (key_hash.empty()) return out;
  auto [first, last] = key_index_.equal_range(key_hash);
  for (auto it = first; it != last; ++it) out.push_back(server(it->second));
  std::sort(out.begin(), out.end(), [](const Server* a, const Server* b) { return a->id < b->id; });
  return out;
}

ServerId State::next_server_id() const {
  return servers_.empty() ? 1 : servers_.rbegin()->first + 1;
}

std::size_t State::live_room_count() const {
  std::size_t n = 0;
  for (const auto& [id, rooms] : schedule_) n += rooms.size();
  return n;
}

std::size_t State::live_room_count(ServerId server) const {
  auto it = schedule_.find(server);
  return it == schedule_.end() ? 0 : it->second.size();
}

std::vector<const Room*> State::rooms_in_order() const {
  std::vector<const Room*> out;
  out.reserve(rooms_.size());
  for (std::size_t i = 0; i < rooms_.size(); ++i) out.push_back(&rooms_[i]);
  return out;
}

std::vector<const Room*> State::rooms_starting(ServerId server_id, Instant from, Instant to,
                                               bool include_running) const {
  std::vector<const Room*> out;
  auto sched = schedule_.find(server_id);
  if (sched == schedule_.end() || to < from) return out;
  const auto& rooms = sched->second;
  // A running room started at most `longest_minutes_` before `from`, so the scan starts there.
  Instant scan_from = include_running ? from - std::chrono::minutes{longest_minutes_} : from;
  for (auto it = rooms.lower_bound({scan_from, 0}); it != rooms.end() && it->first <= to; ++it) {
    const Room* r = room_by_number(it->second);
    if (in_window(*r, from, to, include_running)) out.push_back(r);
  }
  return out;
}

std::size_t State::open_room_count(ServerId server_id, Instant now) const {
  auto sched = schedule_.find(server_id);
  if (sched == schedule_.end()) return 0;
  return static_cast<std::size_t>(
      std::count_if(sched->second.begin(), sched->second.end(),
                    [&](const auto& entry) { return room_by_number(entry.second)->end >= now; }));
}

std::uint64_t State::schedule_version(ServerId server) const {
  auto it = schedule_versions_.find(server);
  return it == schedule_versions_.end() ? 0 : it->second;
}

void State::touch_schedule(ServerId server) { schedule_versions_[server] = ++schedule_changes_; }

void State::unindex_room(const Room& old) {
  if (old.deleted) return;
  auto sched = schedule_.find(old.server_id);
  if (sched == schedule_.end()) return;
  sched->second.erase({old.start, old.number});
  if (sched->second.empty()) schedule_.erase(sched);
}

void State::put_room(Room room, Stage stage) {
  const bool live = !room.deleted;
  const ServerId server_id = room.server_id;
  const std::pair<Instant, std::int64_t> slot{room.start, room.number};
  const std::int64_t minutes = room.duration_minutes;
  // Whether what rooms_starting() answers may change: not for a lifecycle stage or a new name.
  bool moved = true;
  if (const std::int64_t number = number_of(room.uid); number != 0) {
    Room& old = rooms_[static_cast<std::size_t>(number - 1)];
    moved = old.deleted != room.deleted || old.server_id != room.server_id ||
            old.start != room.start || old.end != room.end;
    if (moved && !old.deleted) touch_schedule(old.server_id);
    unindex_room(old);
    stages_[static_cast<std::size_t>(old.number - 1)] = stage;
    old = std::move(room);
  } else {
    // Numbers are handed out in creation order; replay must see them in the same order.
    assert(room.number == next_room_number());
    stages_.push_back(stage);
    const Room& added = rooms_.push_back(std::move(room));
    uids_.insert(added.uid, added.number);
  }
  if (live) {
    schedule_[server_id].insert(slot);
    if (moved) touch_schedule(server_id);
    longest_minutes_ = std::max(longest_minutes_, minutes);
  }
}

void State::put_server(const Server& server) {
  auto it = servers_.find(server.id);
  if (it != servers_.end()) {
    const Server& old = it->second;
    if (!old.deleted) {
      live_urls_.erase(lowercase(old.url));
      auto [first, last] = key_index_.equal_range(old.api_key_hash);
      for (auto k = first; k != last; ++k) {
        if (k->second == old.id) {
          key_index_.erase(k);
          break;
        }
      }
    }
    it->second = server;
  } else {
    servers_.emplace(server.id, server);
  }
  if (!server.deleted) {
    live_urls_[lowercase(server.url)] = server.id;
    if (!server.api_key_hash.empty()) {
      // Kept in id order within one hash, so the index depends on the data only, not on the
      // order of history: a restored state must equal the one apply() built.
      auto [first, last] = key_index_.equal_range(server.api_key_hash);
      auto before = std::find_if(first, last, [&](const auto& k) { return k.second > server.id; });
      key_index_.emplace_hint(before, server.api_key_hash, server.id);
    }
  }
}

Result<State> State::restore(std::int64_t position, std::vector<Server> servers,
                             std::vector<Room> rooms, std::vector<Stage> stages) {
  if (position < 0) {
    return make_error(Errc::invalid_argument,
                      "state position must not be negative, got " + std::to_string(position));
  }
  if (!stages.empty() && stages.size() != rooms.size()) {
    return make_error(Errc::invalid_argument, std::to_string(stages.size()) + " stages for " +
                                                  std::to_string(rooms.size()) + " rooms");
  }
  State state;
  state.position_ = position;
  for (const Server& server : servers) {
    if (state.servers_.count(server.id) != 0) {
      return make_error(Errc::invalid_argument,
                        "server " + std::to_string(server.id) + " appears twice");
    }
    if (!server.deleted) {
      if (const Server* other = state.live_server_by_url(server.url)) {
        return make_error(Errc::invalid_argument, "live servers " + std::to_string(other->id) +
                                                      " and " + std::to_string(server.id) +
                                                      " share the url '" + server.url + "'");
      }
    }
    state.put_server(server);
  }
  // What put_room() does for each room, in bulk, in two halves that touch different members:
  // the uid index here, the schedules on a second thread meanwhile when there are enough rooms
  // to pay for one (the kernel clears the pages of both as they are first written, and that is
  // most of their time). The rooms stay where the caller decoded them.
  std::exception_ptr thrown;
  std::thread helper;
  if (rooms.size() >= kRestoreHelperRooms && std::thread::hardware_concurrency() > 1) {
    try {
      helper = std::thread([&] {
        try {
          state.schedule_restored(rooms);
        } catch (...) {
          thrown = std::current_exception();
        }
      });
    } catch (const std::system_error&) {
      // No thread to be had: this one does both.
    }
  }
  std::optional<Error> error;
  try {
    error = state.index_restored(rooms);
  } catch (...) {
    if (helper.joinable()) helper.join();
    throw;
  }
  if (helper.joinable()) {
    helper.join();
    if (thrown) std::rethrow_exception(thrown);
  } else if (!error) {
    state.schedule_restored(rooms);
  }
  if (error) return *std::move(error);
  if (stages.empty()) {
    state.stages_.assign(rooms.size(), Stage::none);
  } else {
    state.stages_ = std::move(stages);
  }
  state.rooms_ = RoomStore(std::move(rooms));
  return state;
}

std::optional<Error> State::index_restored(const std::vector<Room>& rooms) {
  // One probe per room, with the slots of the rooms a few ahead already on their way into the
  // cache: the table is larger than the caches, and a miss per room was most of this loop.
  const std::size_t n = rooms.size();
  const auto uid_of = [&rooms](std::int64_t number) -> std::string_view {
    return rooms[static_cast<std::size_t>(number - 1)].uid;
  };
  constexpr std::size_t kAhead = 8;
  std::uint64_t hashes[kAhead] = {};
  uids_.reserve(n);
  for (std::size_t i = 0; i < std::min(kAhead, n); ++i) {
    hashes[i] = TextIndex::hash(rooms[i].uid);
    uids_.prefetch(hashes[i]);
  }
  for (std::size_t i = 0; i < n; ++i) {
    const Room& room = rooms[i];
    const auto number = static_cast<std::int64_t>(i) + 1;
    if (room.number != number) {
      return make_error(Errc::invalid_argument,
                        "room '" + room.uid + "' has number " + std::to_string(room.number) +
                            " where " + std::to_string(number) +
                            " was expected (rooms must come in number order from 1)");
    }
    const std::uint64_t h = hashes[i % kAhead];
    if (i + kAhead < n) {
      hashes[i % kAhead] = TextIndex::hash(rooms[i + kAhead].uid);
      uids_.prefetch(hashes[i % kAhead]);
    }
    if (uids_.insert_unique(h, room.uid, number, uid_of) != 0) {
      return make_error(Errc::invalid_argument, "room '" + room.uid + "' appears twice");
    }
  }
  return std::nullopt;
}

void State::schedule_restored(const std::vector<Room>& rooms) {
  // Each schedule takes the rooms that sort after all its others at once; the rest are sorted
  // and merged in at the end, not inserted one by one.
  ServerId last_server = 0;
  Schedule* schedule = nullptr;
  std::vector<Schedule::Entry>* late = nullptr;
  std::map<ServerId, std::vector<Schedule::Entry>> late_by_server;
  for (std::size_t i = 0; i < rooms.size(); ++i) {
    const Room& room = rooms[i];
    if (room.deleted) continue;
    if (schedule == nullptr || room.server_id != last_server) {
      last_server = room.server_id;
      schedule = &schedule_[last_server];
      late = nullptr;
    }
    const auto number = static_cast<std::int64_t>(i) + 1;
    if (!schedule->try_append({room.start, number})) {
      if (late == nullptr) late = &late_by_server[last_server];
      late->emplace_back(room.start, number);
    }
    longest_minutes_ = std::max(longest_minutes_, room.duration_minutes);
  }
  for (auto& [server, entries] : late_by_server) {
    std::sort(entries.begin(), entries.end());
    schedule_[server].merge(entries);
  }
  // A version for every server with live rooms, as put_room() would have left them.
  for (const auto& [server, rooms_of_server] : schedule_) touch_schedule(server);
}

void State::apply(const Event& event) {
  assert(event.position == position_ + 1);
  if (const auto* r = std::get_if<RoomChanged>(&event.change)) {
    const Room& next = r->room;
    Stage stage = Stage::none;
    bool was_pending = false;
    bool changed = true;
    if (const Room* old = room(next.uid)) {
      const Stage before = this->stage(old->number);
      was_pending = is_pending(*old, before);
      // A new start is a new cycle; a new duration only moves the end of this one.
      stage = old->start == next.start ? before : Stage::none;
      changed = stage != before || old->end != next.end || old->deleted != next.deleted;
    }
    if (auto reached = stage_reached(r->change)) {
      changed = changed || *reached != stage;
      stage = *reached;
    }
    put_room(next, stage);
    if (lead_) track_due(next, stage, was_pending, changed);
  } else {
    put_server(std::get<ServerChanged>(event.change).server);
  }
  position_ = event.position;
}

Stage State::stage(std::int64_t number) const {
  if (number < 1 || number > static_cast<std::int64_t>(stages_.size())) return Stage::none;
  return stages_[static_cast<std::size_t>(number - 1)];
}

bool State::is_current(const DueFact& fact) const {
  const Room* r = room_by_number(fact.number);
  if (r == nullptr || r->deleted) return false;
  const auto next = next_stage(stage(fact.number));
  return next == fact.stage && due_at(*r, fact.stage, *lead_) == fact.due;
}

void State::track_due(const Room& room, Stage stage, bool was_pending, bool changed) {
  const bool pending = is_pending(room, stage);
  pending_ = pending_ + (pending ? 1 : 0) - (was_pending ? 1 : 0);
  if (pending && changed) {
    const Stage next = *next_stage(stage);
    due_.push(DueFact{due_at(room, next, *lead_), room.number, next});
  }
  while (!due_.empty() && !is_current(due_.top())) due_.pop();
  if (due_.size() > 2 * pending_ + kDueGarbageSlack) rebuild_due();
}

void State::rebuild_due() {
  std::vector<DueFact> facts;
  // Every room, at most: reserved pages that are not written cost nothing. After a restore
  // pending_ is 0, and growing from there took 20 reallocations for 500k rooms and touched twice
  // the pages.
  facts.reserve(rooms_.size());
  for (std::size_t i = 0; i < rooms_.size(); ++i) {
    const Room& r = rooms_[i];
    if (!is_pending(r, stages_[i])) continue;
    const Stage next = *next_stage(stages_[i]);
    facts.push_back(DueFact{due_at(r, next, *lead_), r.number, next});
  }
  pending_ = facts.size();
  due_.assign(facts);
}

void State::enable_lifecycle(std::chrono::minutes lead) {
  lead_ = lead;
  rebuild_due();
}

void State::disable_lifecycle() {
  lead_.reset();
  due_ = DueIndex{};
  pending_ = 0;
}

std::optional<Instant> State::next_due() const {
  if (!lead_ || due_.empty()) return std::nullopt;
  return due_.top().due;
}

std::vector<DueFact> State::due_facts(Instant now, std::size_t max) const {
  if (!lead_) return {};
  return due_.smallest(now, max, [this](const DueFact& f) { return is_current(f); });
}

bool operator==(const State& a, const State& b) {
  // Not the due index (derived, and only built where decisions are made). Not longest_minutes_: a
  // bound that depends on history, not on the data (see state.hpp). Any bound at or above the
  // longest live room answers every query alike.
  return a.position_ == b.position_ && a.rooms_ == b.rooms_ && a.servers_ == b.servers_ &&
         a.live_urls_ == b.live_urls_ && a.key_index_ == b.key_index_ &&
         a.schedule_ == b.schedule_ && a.stages_ == b.stages_;
}

}  // namespace roombus::core
