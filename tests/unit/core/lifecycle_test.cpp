// Unit tests of the room lifecycle (starting, started, ended) with a fake clock, and of the due
// index behind it.
#include <catch2/catch.hpp>

#include "support/core_fakes.hpp"

using namespace roombus::core;
using namespace roombus::testing;

namespace {

struct Fact {
  std::string type;
  std::string uid;
  Instant due{};
  std::int64_t late = 0;
  friend bool operator==(const Fact&, const Fact&) = default;
};

std::ostream& operator<<(std::ostream& os, const Fact& f) {
  return os << f.type << " " << f.uid.substr(30) << " due " << format_iso_utc(f.due) << " late "
            << f.late;
}

// The lifecycle facts among the events appended since `from`.
std::vector<Fact> facts_since(const World& w, std::size_t from) {
  std::vector<Fact> out;
  for (std::size_t i = from; i < w.log.appended.size(); ++i) {
    const Event& e = w.log.appended[i];
    const auto* r = std::get_if<RoomChanged>(&e.change);
    if (r == nullptr || !is_lifecycle(r->change)) continue;
    REQUIRE(r->due.has_value());
    CHECK(e.time == w.clock.now());
    CHECK(r->late_seconds == (e.time - *r->due).count());
    out.push_back({e.type(), r->room.uid, *r->due, r->late_seconds});
  }
  return out;
}

std::vector<Fact> tick(World& w, std::size_t max = 2000) {
  const std::size_t before = w.log.appended.size();
  auto r = w.run(Tick{max});
  REQUIRE(r.ok());
  return facts_since(w, before);
}

// Runs a command that must succeed; returns the types of the events it emitted.
std::vector<std::string> types_of(World& w, const Command& command) {
  auto r = w.run(command);
  REQUIRE(r.ok());
  std::vector<std::string> out;
  for (const Event& e : r->events) out.push_back(e.type());
  return out;
}

// A world with one server (alice@x.de and bob@x.de members) at 2021-02-02 12:00 UTC.
struct Scene {
  Scene()
      : meet(w.register_server("meet.example.com", {"@x.de"}, true)),
        other(w.clone_server(meet, "other.example.com")) {}
  std::string create(const std::string& start, const std::string& duration = "30") {
    return w.create_room(meet.key, "meet.example.com", "alice@x.de", start, duration);
  }
  World w;
  World::Registered meet;
  World::Registered other;
};

const Instant noon = at(2021, 2, 2, 12);

}  // namespace

TEST_CASE("a room gets starting at start minus the lead, started at start, ended at end, once",
          "[core][lifecycle]") {
  Scene s;
  const std::string uid = s.create("2021-02-02T13:00:00Z");
  CHECK(tick(s.w).empty());
  CHECK(s.w.state().next_due() == at(2021, 2, 2, 12, 50));

  s.w.clock.set(at(2021, 2, 2, 12, 49, 59));
  CHECK(tick(s.w).empty());
  s.w.clock.set(at(2021, 2, 2, 12, 50));
  CHECK(tick(s.w) == std::vector<Fact>{{"room.starting", uid, at(2021, 2, 2, 12, 50), 0}});
  CHECK(tick(s.w).empty());
  CHECK(s.w.state().next_due() == at(2021, 2, 2, 13));

  s.w.clock.set(at(2021, 2, 2, 13, 0, 3));
  CHECK(tick(s.w) == std::vector<Fact>{{"room.started", uid, at(2021, 2, 2, 13), 3}});
  s.w.clock.set(at(2021, 2, 2, 13, 30));
  CHECK(tick(s.w) == std::vector<Fact>{{"room.ended", uid, at(2021, 2, 2, 13, 30), 0}});
  s.w.clock.set(at(2021, 2, 3));
  CHECK(tick(s.w).empty());
  CHECK(s.w.state().next_due() == std::nullopt);

  SECTION("each fact is a room event with the next version and the room's snapshot") {
    std::int64_t version = 0;
    for (const Event& e : s.w.log.appended) {
      const auto* r = std::get_if<RoomChanged>(&e.change);
      if (r == nullptr) continue;
      CHECK(e.version == ++version);
      CHECK(r->room.version == e.version);
      CHECK(r->room.start == at(2021, 2, 2, 13));
    }
    CHECK(version == 4);
    CHECK(s.w.room(uid).version == 4);
    CHECK(s.w.state().stage(s.w.room(uid).number) == Stage::ended);
  }
}

TEST_CASE("a room created inside the lead is starting in the same decision, due now",
          "[core][lifecycle]") {
  Scene s;
  const auto before = s.w.log.appended.size();
  const std::string uid = s.create("2021-02-02T12:05:00Z");
  CHECK(facts_since(s.w, before) == std::vector<Fact>{{"room.starting", uid, noon, 0}});
  CHECK(s.w.log.appended.back().command_id == s.w.log.appended[before].command_id);
  CHECK(tick(s.w).empty());
  s.w.clock.set(at(2021, 2, 2, 12, 5));
  CHECK(tick(s.w) == std::vector<Fact>{{"room.started", uid, at(2021, 2, 2, 12, 5), 0}});

  SECTION("so is one created exactly at the edge of the lead") {
    const auto mark = s.w.log.appended.size();
    const std::string edge = s.create("2021-02-02T12:15:00Z");  // now is 12:05
    CHECK(facts_since(s.w, mark) ==
          std::vector<Fact>{{"room.starting", edge, at(2021, 2, 2, 12, 5), 0}});
  }
}

TEST_CASE("a room created in the past is starting at once; started and ended follow, late",
          "[core][lifecycle]") {
  Scene s;
  const auto before = s.w.log.appended.size();
  const std::string uid = s.create("2021-02-02T10:00:00Z", "60");
  CHECK(facts_since(s.w, before) == std::vector<Fact>{{"room.starting", uid, noon, 0}});
  CHECK(s.w.state().next_due() == at(2021, 2, 2, 10));
  CHECK(tick(s.w) == std::vector<Fact>{{"room.started", uid, at(2021, 2, 2, 10), 7200},
                                       {"room.ended", uid, at(2021, 2, 2, 11), 3600}});
  CHECK(tick(s.w).empty());
}

TEST_CASE("a room created without a start starts now: starting at once, started at the next tick",
          "[core][lifecycle]") {
  Scene s;
  auto r = s.w.run(CreateRoom{s.meet.key, "meet.example.com", "alice@x.de", "Now", "", "20"});
  REQUIRE(r.ok());
  REQUIRE(r->events.size() == 2);
  CHECK(r->events[1].type() == "room.starting");
  CHECK(tick(s.w) == std::vector<Fact>{{"room.started", r->reply.room_uid, noon, 0}});
}

TEST_CASE("what fell due while nothing ticked comes in one tick, each fact once, late",
          "[core][lifecycle]") {
  Scene s;
  const std::string uid = s.create("2021-02-02T13:00:00Z", "30");
  s.w.clock.set(at(2021, 2, 2, 15));  // down from 12:00 to 15:00
  CHECK(tick(s.w) == std::vector<Fact>{{"room.starting", uid, at(2021, 2, 2, 12, 50), 7800},
                                       {"room.started", uid, at(2021, 2, 2, 13), 7200},
                                       {"room.ended", uid, at(2021, 2, 2, 13, 30), 5400}});
  CHECK(tick(s.w).empty());
}

TEST_CASE("facts due at once come in (due, room, stage) order, each room's in stage order",
          "[core][lifecycle]") {
  Scene s;
  const std::string a = s.create("2021-02-02T12:30:00Z", "5");
  const std::string b = s.create("2021-02-02T12:32:00Z", "30");
  const std::string c = s.create("2021-02-02T12:40:00Z", "0");
  s.w.clock.set(at(2021, 2, 2, 13));
  CHECK(tick(s.w) == std::vector<Fact>{{"room.starting", a, at(2021, 2, 2, 12, 20), 2400},
                                       {"room.starting", b, at(2021, 2, 2, 12, 22), 2280},
                                       {"room.started", a, at(2021, 2, 2, 12, 30), 1800},
                                       {"room.starting", c, at(2021, 2, 2, 12, 30), 1800},
                                       {"room.started", b, at(2021, 2, 2, 12, 32), 1680},
                                       {"room.ended", a, at(2021, 2, 2, 12, 35), 1500},
                                       {"room.started", c, at(2021, 2, 2, 12, 40), 1200},
                                       {"room.ended", c, at(2021, 2, 2, 12, 40), 1200}});
  CHECK(s.w.state().next_due() == at(2021, 2, 2, 13, 2));
}

TEST_CASE("a tick emits at most max_events facts, and the next one goes on in order",
          "[core][lifecycle]") {
  Scene s;
  std::vector<std::string> uids;
  for (int i = 0; i < 4; ++i)
    uids.push_back(s.create("2021-02-02T12:3" + std::to_string(i) + ":00Z"));
  s.w.clock.set(at(2021, 2, 2, 14));
  std::vector<Fact> all;
  for (int i = 0; i < 10; ++i) {
    auto part = tick(s.w, 5);
    CHECK(part.size() <= 5);
    all.insert(all.end(), part.begin(), part.end());
  }
  REQUIRE(all.size() == 12);
  CHECK(std::is_sorted(all.begin(), all.end(), [](const Fact& x, const Fact& y) {
    return x.due < y.due || (x.due == y.due && x.uid < y.uid);
  }));
  CHECK(s.w.state().next_due() == std::nullopt);
}

TEST_CASE("a new start begins a new cycle", "[core][lifecycle]") {
  Scene s;
  const std::string uid = s.create("2021-02-02T12:05:00Z");  // starting at once
  const auto update = [&](const std::string& start) {
    return types_of(s.w,
                    UpdateRoom{s.meet.key, uid, std::nullopt, std::nullopt, start, std::nullopt});
  };

  SECTION("moved later, out of the lead: nothing at the old times, all again at the new ones") {
    CHECK(update("2021-02-02T14:00:00Z") == std::vector<std::string>{"room.updated"});
    s.w.clock.set(at(2021, 2, 2, 12, 5));
    CHECK(tick(s.w).empty());
    s.w.clock.set(at(2021, 2, 2, 13, 50));
    CHECK(tick(s.w) == std::vector<Fact>{{"room.starting", uid, at(2021, 2, 2, 13, 50), 0}});
    s.w.clock.set(at(2021, 2, 2, 14));
    CHECK(tick(s.w) == std::vector<Fact>{{"room.started", uid, at(2021, 2, 2, 14), 0}});
  }
  SECTION("moved later but still inside the lead: starting again at once") {
    CHECK(update("2021-02-02T12:08:00Z") ==
          std::vector<std::string>{"room.updated", "room.starting"});
  }
  SECTION("moved earlier into the lead from far ahead: starting at once") {
    CHECK(update("2021-02-03T09:00:00Z") == std::vector<std::string>{"room.updated"});
    CHECK(s.w.state().next_due() == at(2021, 2, 3, 8, 50));
    CHECK(update("2021-02-02T12:09:00Z") ==
          std::vector<std::string>{"room.updated", "room.starting"});
    CHECK(s.w.state().next_due() == at(2021, 2, 2, 12, 9));
  }
  SECTION("after it started and ended, a new start runs the whole cycle again") {
    s.w.clock.set(at(2021, 2, 2, 12, 40));
    CHECK(tick(s.w).size() == 2);  // started, ended
    CHECK(update("2021-02-02T15:00:00Z") == std::vector<std::string>{"room.updated"});
    s.w.clock.set(at(2021, 2, 2, 16));
    CHECK(tick(s.w).size() == 3);
  }
}

TEST_CASE("a duration change only moves the end", "[core][lifecycle]") {
  Scene s;
  const std::string uid = s.create("2021-02-02T12:05:00Z", "30");
  s.w.clock.set(at(2021, 2, 2, 12, 10));
  CHECK(tick(s.w).size() == 1);  // started
  const auto duration = [&](const std::string& minutes) {
    return types_of(s.w,
                    UpdateRoom{s.meet.key, uid, std::nullopt, std::nullopt, std::nullopt, minutes});
  };
  SECTION("longer: ended at the new end, nothing again") {
    CHECK(duration("60") == std::vector<std::string>{"room.updated"});
    s.w.clock.set(at(2021, 2, 2, 12, 40));
    CHECK(tick(s.w).empty());
    s.w.clock.set(at(2021, 2, 2, 13, 5));
    CHECK(tick(s.w) == std::vector<Fact>{{"room.ended", uid, at(2021, 2, 2, 13, 5), 0}});
  }
  SECTION("shorter, into the past: ended at the next tick, late") {
    CHECK(duration("2") == std::vector<std::string>{"room.updated"});
    CHECK(tick(s.w) == std::vector<Fact>{{"room.ended", uid, at(2021, 2, 2, 12, 7), 180}});
  }
}

TEST_CASE("a move to another server continues the cycle", "[core][lifecycle]") {
  Scene s;
  const std::string uid = s.create("2021-02-02T12:05:00Z");  // starting at once
  CHECK(types_of(s.w, MoveRoom{s.meet.key, uid, s.other.id}) ==
        std::vector<std::string>{"room.moved"});
  CHECK(types_of(s.w, UpdateRoom{s.meet.key, uid, std::string("meet.example.com"), std::nullopt,
                                 std::nullopt, std::nullopt}) ==
        std::vector<std::string>{"room.updated"});
  s.w.clock.set(at(2021, 2, 2, 12, 5));
  CHECK(tick(s.w) == std::vector<Fact>{{"room.started", uid, at(2021, 2, 2, 12, 5), 0}});

  SECTION("a room moved before its lead gets starting once, on its new server") {
    const std::string later = s.create("2021-02-02T13:00:00Z");
    CHECK(types_of(s.w, MoveRoom{s.meet.key, later, s.other.id}) ==
          std::vector<std::string>{"room.moved"});
    s.w.clock.set(at(2021, 2, 2, 12, 50));
    const auto mark = s.w.log.appended.size();
    CHECK(tick(s.w) == std::vector<Fact>{{"room.ended", uid, at(2021, 2, 2, 12, 35), 900},
                                         {"room.starting", later, at(2021, 2, 2, 12, 50), 0}});
    CHECK(std::get<RoomChanged>(s.w.log.appended[mark + 1].change).room.server_id == s.other.id);
  }
}

TEST_CASE("a deleted room gets nothing more", "[core][lifecycle]") {
  Scene s;
  const std::string before_start = s.create("2021-02-02T13:00:00Z");
  const std::string started = s.create("2021-02-02T12:01:00Z");  // starting at once
  s.w.clock.set(at(2021, 2, 2, 12, 2));
  CHECK(tick(s.w).size() == 1);
  CHECK(types_of(s.w, DeleteRoom{s.meet.key, before_start}) ==
        std::vector<std::string>{"room.deleted"});
  CHECK(types_of(s.w, DeleteRoom{s.meet.key, started}) == std::vector<std::string>{"room.deleted"});
  CHECK(s.w.state().next_due() == std::nullopt);
  s.w.clock.set(at(2021, 2, 3));
  CHECK(tick(s.w).empty());
}

TEST_CASE("a command that changes nothing emits no lifecycle fact either", "[core][lifecycle]") {
  Scene s;
  const std::string uid = s.create("2021-02-02T12:05:00Z");
  const auto next = s.w.state().next_due();
  const auto appended = s.w.log.appended.size();
  CHECK(types_of(s.w, UpdateRoom{s.meet.key, uid, std::string("meet.example.com"), std::nullopt,
                                 std::string("2021-02-02T12:05:00Z"), std::string("30")})
            .empty());
  CHECK(types_of(s.w, MoveRoom{s.meet.key, uid, s.meet.id}).empty());
  CHECK(types_of(s.w, AddParticipant{s.meet.key, uid, "ALICE@x.de"}).empty());
  CHECK(tick(s.w).empty());
  CHECK(s.w.log.appended.size() == appended);
  CHECK(s.w.state().next_due() == next);
}

TEST_CASE("participant changes keep the cycle", "[core][lifecycle]") {
  Scene s;
  const std::string uid = s.create("2021-02-02T12:05:00Z");
  CHECK(types_of(s.w, AddParticipant{s.meet.key, uid, "bob@x.de"}) ==
        std::vector<std::string>{"room.participant_added"});
  s.w.clock.set(at(2021, 2, 2, 12, 5));
  CHECK(tick(s.w).size() == 1);
}

TEST_CASE("the lead is configurable", "[core][lifecycle]") {
  Scene s;
  s.w.service.set_starting_soon(std::chrono::minutes{30});
  const std::string ahead = s.create("2021-02-02T13:00:00Z");
  CHECK(s.w.state().next_due() == at(2021, 2, 2, 12, 30));
  const auto mark = s.w.log.appended.size();
  const std::string inside = s.create("2021-02-02T12:25:00Z");
  CHECK(facts_since(s.w, mark).size() == 1);
  s.w.clock.set(at(2021, 2, 2, 12, 30));
  CHECK(tick(s.w) == std::vector<Fact>{{"room.started", inside, at(2021, 2, 2, 12, 25), 300},
                                       {"room.starting", ahead, at(2021, 2, 2, 12, 30), 0}});
}

TEST_CASE("a state rebuilt from the log owes exactly what the original owed", "[core][lifecycle]") {
  Scene s;
  s.create("2021-02-02T12:05:00Z");
  s.create("2021-02-02T13:00:00Z");
  s.w.clock.set(at(2021, 2, 2, 12, 10));
  CHECK(tick(s.w).size() == 1);

  World replayed;  // a restart: the same log applied to a fresh service
  for (const Event& e : s.w.log.appended) replayed.service.recover(e);
  CHECK(replayed.state() == s.w.state());
  CHECK(replayed.state().next_due() == s.w.state().next_due());
  replayed.clock.set(at(2021, 2, 2, 14));
  s.w.clock.set(at(2021, 2, 2, 14));
  const auto original = tick(s.w);
  CHECK(original.size() == 4);
  CHECK(tick(replayed) == original);

  SECTION("and so does one restored from its data with the stages") {
    std::vector<Server> servers;
    for (const auto& [id, server] : s.w.state().servers()) servers.push_back(server);
    std::vector<Room> rooms;
    for (const Room* r : s.w.state().rooms_in_order()) rooms.push_back(*r);
    auto restored = State::restore(s.w.state().position(), servers, rooms, s.w.state().stages());
    REQUIRE(restored.ok());
    CHECK(*restored == s.w.state());
    restored->enable_lifecycle(std::chrono::minutes{10});
    CHECK(restored->next_due() == s.w.state().next_due());
    CHECK(restored->due_facts(at(2021, 2, 3), 100).empty());
  }
}

TEST_CASE("a copy without the due index keeps the stages and can build the index again",
          "[core][lifecycle]") {
  Scene s;
  s.create("2021-02-02T12:05:00Z");
  State copy = s.w.state();
  copy.disable_lifecycle();
  CHECK_FALSE(copy.lifecycle_enabled());
  CHECK(copy.next_due() == std::nullopt);
  CHECK(copy.due_index_entries() == 0);
  const auto mark = s.w.log.appended.size();
  s.w.clock.set(at(2021, 2, 2, 13));
  CHECK(tick(s.w).size() == 2);
  for (std::size_t i = mark; i < s.w.log.appended.size(); ++i) copy.apply(s.w.log.appended[i]);
  CHECK(copy == s.w.state());
  CHECK(copy.due_index_entries() == 0);
  copy.enable_lifecycle(std::chrono::minutes{10});
  CHECK(copy.next_due() == s.w.state().next_due());
}

TEST_CASE("a restore refuses stages that do not match the rooms", "[core][lifecycle]") {
  Scene s;
  s.create("2021-02-02T13:00:00Z");
  std::vector<Room> rooms{*s.w.state().room_by_number(1)};
  auto bad = State::restore(s.w.state().position(), {}, rooms, {Stage::none, Stage::none});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == Errc::invalid_argument);
}

TEST_CASE("the due index holds one live entry per pending room and bounded garbage",
          "[core][lifecycle]") {
  Scene s;
  std::vector<std::string> uids;
  for (int i = 0; i < 1500; ++i) uids.push_back(s.create("2021-02-03T10:00:00Z"));
  CHECK(s.w.state().due_index_entries() == 1500);
  for (int round = 0; round < 4; ++round) {
    for (const auto& uid : uids) {
      auto r =
          s.w.run(UpdateRoom{s.meet.key, uid, std::nullopt, std::nullopt,
                             "2021-02-03T1" + std::to_string(round + 1) + ":00:00Z", std::nullopt});
      REQUIRE(r.ok());
    }
    CHECK(s.w.state().due_index_entries() <= 2 * 1500 + 1024);
  }
  for (std::size_t i = 0; i < 1000; ++i) {
    REQUIRE(s.w.run(DeleteRoom{s.meet.key, uids[i]}).ok());
  }
  CHECK(s.w.state().due_index_entries() <= 2 * 500 + 1024);
  CHECK(s.w.state().next_due() == at(2021, 2, 3, 13, 50));
  s.w.clock.set(at(2021, 2, 3, 13, 50));
  CHECK(tick(s.w).size() == 500);
}

TEST_CASE("the due index finds the smallest due entries without changing", "[core][lifecycle]") {
  DueIndex index;
  std::vector<DueFact> all;
  for (int i = 0; i < 200; ++i) {
    // A scrambled order of dues, some equal, in the past and in the future of t=1000.
    const DueFact f{Instant{std::chrono::seconds{(i * 7919) % 1500}}, i + 1, Stage::started};
    all.push_back(f);
    index.push(f);
  }
  std::sort(all.begin(), all.end());
  const auto even = [](const DueFact& f) { return f.number % 2 == 0; };
  std::vector<DueFact> expected;
  for (const DueFact& f : all) {
    if (f.due <= Instant{std::chrono::seconds{1000}} && even(f)) expected.push_back(f);
  }
  CHECK(index.smallest(Instant{std::chrono::seconds{1000}}, 1000, even) == expected);
  expected.resize(10);
  CHECK(index.smallest(Instant{std::chrono::seconds{1000}}, 10, even) == expected);
  CHECK(index.size() == 200);
  for (const DueFact& f : all) {
    REQUIRE(index.top() == f);
    index.pop();
  }
  CHECK(index.empty());
}
