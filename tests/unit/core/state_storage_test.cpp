// Unit tests: the State's room store and schedule blocks against plain standard containers, and
// a bulk restore of many rooms (several blocks of each) against the state events built.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <iterator>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "roombus/core/state.hpp"
#include "roombus/core/time.hpp"

using namespace roombus::core;

namespace {

using Entry = Schedule::Entry;

const Instant kT0 = instant_from_utc_fields({2031, 1, 6, 9, 0, 0});

Entry entry(std::int64_t minute, std::int64_t number) {
  return {kT0 + std::chrono::minutes{minute}, number};
}

std::vector<Entry> entries_of(const Schedule& s) { return {s.begin(), s.end()}; }

void check_same(const Schedule& s, const std::set<Entry>& model, std::mt19937_64& random) {
  REQUIRE(s.size() == model.size());
  REQUIRE(s.empty() == model.empty());
  REQUIRE(entries_of(s) == std::vector<Entry>(model.begin(), model.end()));
  for (int probe = 0; probe < 50; ++probe) {
    const Entry e = entry(static_cast<std::int64_t>(random() % 120),
                          static_cast<std::int64_t>(random() % 3000));
    auto mine = s.lower_bound(e);
    auto theirs = model.lower_bound(e);
    REQUIRE((mine == s.end()) == (theirs == model.end()));
    if (theirs != model.end()) REQUIRE(*mine == *theirs);
  }
}

Room room(std::int64_t number, std::mt19937_64& random) {
  Room r;
  r.uid = std::to_string(random()) + "-" + std::to_string(number);
  r.number = number;
  r.jitsi_name = "jitsi" + std::to_string(number);
  r.name = "Room " + std::to_string(number);
  r.start = kT0 + std::chrono::minutes{static_cast<std::int64_t>(random() % (7 * 24 * 60))};
  r.duration_minutes = 15 + static_cast<std::int64_t>(random() % 120);
  r.end = r.start + std::chrono::minutes{r.duration_minutes};
  r.moderator = "alice@x.de";
  r.participants = {"alice@x.de"};
  r.server_id = 1 + static_cast<ServerId>(random() % 3);
  r.version = 1;
  return r;
}

Event event(std::int64_t position, RoomChange change, Room r) {
  Event e;
  e.position = position;
  e.version = r.version;
  e.command_id = "test";
  e.time = kT0;
  e.change = RoomChanged{change, std::move(r), std::nullopt, {}, {}, std::nullopt, 0};
  return e;
}

Event server_event(std::int64_t position, ServerId id) {
  Server s;
  s.id = id;
  s.url = "meet" + std::to_string(id) + ".example.com";
  s.name = "Meet";
  s.api_key_hash = "hash" + std::to_string(id);
  s.members = {"alice@x.de"};
  s.version = 1;
  Event e;
  e.position = position;
  e.version = 1;
  e.command_id = "test";
  e.time = kT0;
  e.change = ServerChanged{ServerChange::registered, s};
  return e;
}

std::vector<std::string> uids(const std::vector<const Room*>& rooms) {
  std::vector<std::string> out;
  for (const Room* r : rooms) out.push_back(r->uid);
  return out;
}

}  // namespace

TEST_CASE("a schedule holds what a std::set holds, in the same order", "[core][schedule]") {
  std::mt19937_64 random(7);
  Schedule s;
  std::set<Entry> model;
  check_same(s, model, random);
  CHECK_FALSE(s.erase(entry(1, 1)));

  SECTION("inserts and erases in any order, splitting and evening out blocks") {
    for (int round = 0; round < 40; ++round) {
      // Rounds that mostly insert, then rounds that mostly erase, down to a few entries.
      const bool growing = round % 20 < 12;
      for (int i = 0; i < 400; ++i) {
        const Entry e = entry(static_cast<std::int64_t>(random() % 120),
                              static_cast<std::int64_t>(random() % 3000));
        if (growing == (random() % 4 != 0)) {
          REQUIRE(s.insert(e) == model.insert(e).second);
        } else {
          REQUIRE(s.erase(e) == (model.erase(e) == 1));
          if (!model.empty() && random() % 2 == 0) {
            // An entry that is there, so that erasing empties the schedule in the end.
            auto it = model.begin();
            std::advance(it, static_cast<std::ptrdiff_t>(random() % model.size()));
            const Entry present = *it;
            REQUIRE(s.erase(present));
            model.erase(present);
          }
        }
      }
      check_same(s, model, random);
    }
  }

  SECTION("entries in order are appended, and inserts in between still sort") {
    for (std::int64_t n = 1; n <= 3000; ++n) {
      REQUIRE(s.try_append(entry(n / 10, n)));
      model.insert(entry(n / 10, n));
    }
    CHECK_FALSE(s.try_append(entry(0, 0)));
    CHECK_FALSE(s.try_append(*model.rbegin()));
    check_same(s, model, random);
    for (std::int64_t n = 3001; n <= 4000; ++n) {
      const Entry e = entry(static_cast<std::int64_t>(random() % 300), n);
      REQUIRE(s.insert(e));
      model.insert(e);
    }
    check_same(s, model, random);
  }

  SECTION("sorted entries merge in, into an empty schedule or a full one") {
    std::vector<Entry> sorted;
    for (std::int64_t n = 1; n <= 1000; ++n) sorted.push_back(entry(n % 97, n));
    std::sort(sorted.begin(), sorted.end());
    s.merge(sorted);
    model.insert(sorted.begin(), sorted.end());
    check_same(s, model, random);
    sorted.clear();
    for (std::int64_t n = 1001; n <= 1600; ++n) sorted.push_back(entry(n % 113, n));
    std::sort(sorted.begin(), sorted.end());
    s.merge(sorted);
    model.insert(sorted.begin(), sorted.end());
    check_same(s, model, random);
    s.merge({});
    check_same(s, model, random);
  }

  SECTION("a copy is equal, and independent") {
    for (std::int64_t n = 1; n <= 700; ++n) s.insert(entry(n % 50, n));
    Schedule copy = s;
    CHECK(copy == s);
    REQUIRE(copy.erase(entry(3, 3)));
    CHECK_FALSE(copy == s);
    CHECK(s.lower_bound(entry(3, 3)) != s.end());
    CHECK(*s.lower_bound(entry(3, 3)) == entry(3, 3));
  }

  SECTION("schedules cut into blocks differently are equal when they hold the same") {
    Schedule appended;
    Schedule inserted;
    for (std::int64_t n = 1; n <= 1000; ++n) REQUIRE(appended.insert(entry(0, n)));
    for (std::int64_t n = 1000; n >= 1; --n) REQUIRE(inserted.insert(entry(0, n)));
    CHECK(appended == inserted);
    REQUIRE(inserted.erase(entry(0, 500)));
    CHECK_FALSE(appended == inserted);
  }
}

TEST_CASE("a room store keeps its rooms in place while it grows", "[core][restore]") {
  std::mt19937_64 random(11);
  std::vector<Room> restored;
  for (std::int64_t n = 1; n <= 10; ++n) restored.push_back(room(n, random));
  const std::size_t later = 2 * RoomStore::kBlock + 5;

  for (const bool from_restore : {true, false}) {
    INFO(from_restore);
    RoomStore store = from_restore ? RoomStore(restored) : RoomStore();
    std::vector<const Room*> places;
    std::vector<Room> expected = from_restore ? restored : std::vector<Room>{};
    for (std::size_t i = 0; i < store.size(); ++i) places.push_back(&store[i]);
    while (expected.size() < restored.size() + later) {
      expected.push_back(room(static_cast<std::int64_t>(expected.size()) + 1, random));
      places.push_back(&store.push_back(expected.back()));
    }
    REQUIRE(store.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
      REQUIRE(&store[i] == places[i]);
      REQUIRE(store[i] == expected[i]);
    }
    // A copy is its own, and grows in place too.
    RoomStore copy = store;
    CHECK(copy == store);
    CHECK(&copy[0] != &store[0]);
    const Room* last = &copy[copy.size() - 1];
    copy.push_back(room(static_cast<std::int64_t>(copy.size()) + 1, random));
    CHECK(&copy[copy.size() - 2] == last);
    CHECK_FALSE(copy == store);
    // Moved from: empty, and usable.
    RoomStore moved = std::move(copy);
    CHECK(copy.size() == 0);  // NOLINT(bugprone-use-after-move): the documented state
    copy.push_back(room(1, random));
    CHECK(copy.size() == 1);
  }
  // The same rooms, restored or pushed one by one: equal.
  RoomStore pushed;
  for (const Room& r : restored) pushed.push_back(r);
  CHECK(pushed == RoomStore(restored));
}

TEST_CASE("a restore of many rooms equals the state their events built, and then evolves alike",
          "[core][restore]") {
  std::mt19937_64 random(19);
  State built;
  std::int64_t position = 0;
  for (ServerId id = 1; id <= 3; ++id) built.apply(server_event(++position, id));
  // More rooms than a room store block, many schedule blocks, and enough for restore to build
  // the schedules on a second thread; some updated, some deleted, so that each schedule gets
  // rooms out of start order.
  const auto total = static_cast<std::int64_t>(State::kRestoreHelperRooms) + 300;
  for (std::int64_t n = 1; n <= total; ++n) {
    Room r = room(n, random);
    built.apply(event(++position, RoomChange::created, r));
  }
  for (int i = 0; i < 800; ++i) {
    Room r = *built.room_by_number(1 + static_cast<std::int64_t>(random() % total));
    ++r.version;
    const bool remove = i % 3 == 0;
    if (remove) {
      r.deleted = true;
    } else {
      r.start = kT0 + std::chrono::minutes{static_cast<std::int64_t>(random() % 10000)};
      r.end = r.start + std::chrono::minutes{r.duration_minutes};
    }
    built.apply(event(++position, remove ? RoomChange::deleted : RoomChange::updated, r));
  }

  std::vector<Server> servers;
  for (const auto& [id, server] : built.servers()) servers.push_back(server);
  std::vector<Room> rooms;
  for (const Room* r : built.rooms_in_order()) rooms.push_back(*r);
  auto restored = State::restore(built.position(), servers, rooms, built.stages());
  REQUIRE(restored.ok());
  State state = std::move(restored).value();
  const auto same_answers = [&] {
    REQUIRE(state == built);
    CHECK(state.live_room_count() == built.live_room_count());
    for (ServerId id = 1; id <= 3; ++id) {
      INFO(id);
      CHECK(state.live_room_count(id) == built.live_room_count(id));
      CHECK(state.schedule_version(id) != 0);
      for (const int hours : {0, 30, 100, 200}) {
        const Instant from = kT0 + std::chrono::hours{hours};
        const Instant to = from + std::chrono::hours{20};
        CHECK(uids(state.rooms_starting(id, from, to, true)) ==
              uids(built.rooms_starting(id, from, to, true)));
        CHECK(state.open_room_count(id, from) == built.open_room_count(id, from));
      }
    }
    for (const Room* r : built.rooms_in_order()) REQUIRE(state.room(r->uid)->number == r->number);
  };
  same_answers();

  SECTION("a duplicate uid or a gap is still refused, with or without the second thread") {
    for (const std::size_t size : {rooms.size(), std::size_t{100}}) {
      std::vector<Room> bad(rooms.begin(), rooms.begin() + static_cast<std::ptrdiff_t>(size));
      bad[size - 1].uid = bad[size / 2].uid;
      auto refused = State::restore(built.position(), servers, bad);
      REQUIRE_FALSE(refused.ok());
      CHECK(refused.error().text == "room '" + bad[size / 2].uid + "' appears twice");
      bad[size - 1] = rooms[size - 1];
      bad[size - 2].number = 7;
      refused = State::restore(built.position(), servers, bad);
      REQUIRE_FALSE(refused.ok());
      CHECK(refused.error().text.find("has number 7 where " + std::to_string(size - 1) +
                                      " was expected") != std::string::npos);
    }
  }

  // Creates go into new blocks after the restored ones; moves and deletes reach restored rooms.
  for (int i = 0; i < 5000; ++i) {
    Event e;
    if (i % 2 == 0) {
      e = event(++position, RoomChange::created, room(built.next_room_number(), random));
    } else {
      Room r = *built.room_by_number(1 + static_cast<std::int64_t>(random() % total));
      ++r.version;
      r.deleted = i % 7 == 1;
      r.start = kT0 + std::chrono::minutes{static_cast<std::int64_t>(random() % 10000)};
      r.end = r.start + std::chrono::minutes{r.duration_minutes};
      e = event(++position, r.deleted ? RoomChange::deleted : RoomChange::updated, r);
    }
    const Room* before = state.room_by_number(1);
    built.apply(e);
    state.apply(e);
    REQUIRE(state.room_by_number(1) == before);
  }
  same_answers();
}
