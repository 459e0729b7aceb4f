// Unit tests of the queries, the write path's durability ordering, idempotency and replay.
#include <algorithm>
#include <catch2/catch.hpp>
#include <set>

#include "roombus/core/queries.hpp"
#include "support/core_fakes.hpp"

using namespace roombus::core;
using namespace roombus::testing;

TEST_CASE("room info is readable by uid, deleted rooms included", "[core][queries]") {
  World w;
  auto s = w.register_server("meet.example.com", {"alice@x.de"});
  auto uid = w.create_room(s.key, "meet.example.com", "alice@x.de");
  auto info = room_info(w.state(), uid);
  REQUIRE(info.ok());
  CHECK(info->room->uid == uid);
  CHECK(info->server->url == "meet.example.com");
  REQUIRE(w.run(DeleteRoom{s.key, uid}).ok());
  CHECK(room_info(w.state(), uid)->room->deleted);
  CHECK(room_info(w.state(), "00000000000000000000000000000999").error().code ==
        Errc::room_not_found);
}

TEST_CASE("upcoming rooms are those of the key's first server starting in [now, now+minutes]",
          "[core][queries]") {
  World w;  // now = 2021-02-02 12:00 UTC = 13:00 in the fake zone
  auto s = w.register_server("meet.example.com", {"alice@x.de"}, true);
  auto running = w.create_room(s.key, "meet.example.com", "alice@x.de", "2021-02-02T12:30", "60");
  auto at_now = w.create_room(s.key, "meet.example.com", "alice@x.de", "2021-02-02T13:00", "5");
  auto soon = w.create_room(s.key, "meet.example.com", "alice@x.de", "2021-02-02T13:20", "5");
  auto edge = w.create_room(s.key, "meet.example.com", "alice@x.de", "2021-02-02T13:30", "5");
  auto later = w.create_room(s.key, "meet.example.com", "alice@x.de", "2021-02-02T13:31", "5");
  auto gone = w.create_room(s.key, "meet.example.com", "alice@x.de", "2021-02-02T13:10", "5");
  REQUIRE(w.run(DeleteRoom{s.key, gone}).ok());
  // A clone shares the key; the query keeps answering for the prototype (lowest id).
  REQUIRE(w.run(CloneServer{s.key, "meet2.example.com", "Two", "", ""}).ok());

  auto uids = [&](const UpcomingRooms& u) {
    std::vector<std::string> out;
    for (const Room* r : u.rooms) out.push_back(r->uid);
    return out;
  };
  auto r = upcoming_rooms(w.state(), w.service.hash_key(s.key), w.clock.now(), "30", false);
  REQUIRE(r.ok());
  CHECK(r->server_id == s.id);
  CHECK(uids(*r) == std::vector<std::string>{at_now, soon, edge});
  auto with_running =
      upcoming_rooms(w.state(), w.service.hash_key(s.key), w.clock.now(), "30", true);
  CHECK(uids(*with_running) == std::vector<std::string>{running, at_now, soon, edge});
  CHECK(upcoming_rooms(w.state(), w.service.hash_key(s.key), w.clock.now(), "-5", false)
            ->rooms.empty());
  CHECK(uids(*upcoming_rooms(w.state(), w.service.hash_key(s.key), w.clock.now(), "0", false)) ==
        std::vector<std::string>{at_now});
  (void)later;

  CHECK(upcoming_rooms(w.state(), std::nullopt, w.clock.now(), "30", false).error().code ==
        Errc::missing_key);
  CHECK(upcoming_rooms(w.state(), w.service.hash_key("nobody-has-this-key"), w.clock.now(), "30",
                       false)
            .error()
            .code == Errc::server_not_found);
  CHECK(upcoming_rooms(w.state(), w.service.hash_key(s.key), w.clock.now(), "abc", false)
            .error()
            .code == Errc::invalid_minutes);
}

TEST_CASE("rooms another index proposes are kept and ordered exactly as the in-memory query does",
          "[core][queries]") {
  World w;  // now = 2021-02-02 12:00 UTC = 13:00 in the fake zone
  auto s = w.register_server("meet.example.com", {"alice@x.de"});
  // Equal starts: the order is the room number, whatever order the candidates come in.
  for (const char* start : {"2021-02-02T13:20", "2021-02-02T13:20", "2021-02-02T13:05",
                            "2021-02-02T13:20", "2021-02-02T12:40", "2021-02-02T11:00"}) {
    w.create_room(s.key, "meet.example.com", "alice@x.de", start, "30");
  }
  auto key = w.service.hash_key(s.key);
  for (bool include_running : {false, true}) {
    INFO("include_running " << include_running);
    auto window = upcoming_window(w.state(), key, w.clock.now(), "45", include_running);
    REQUIRE(window.ok());
    CHECK(window->server_id == s.id);
    CHECK(window->to - window->from == std::chrono::minutes(45));
    auto expected = upcoming_rooms(w.state(), key, w.clock.now(), "45", include_running);
    REQUIRE(expected.ok());
    // Every room of the server, in reverse creation order: more than the window, unordered.
    std::vector<const Room*> candidates = w.state().rooms_in_order();
    std::reverse(candidates.begin(), candidates.end());
    CHECK(order_upcoming(candidates, *window) == expected->rooms);
  }
  CHECK(upcoming_window(w.state(), std::nullopt, w.clock.now(), "45", false).error().code ==
        Errc::missing_key);
  CHECK(upcoming_window(w.state(), key, w.clock.now(), "x", false).error().code ==
        Errc::invalid_minutes);
  CHECK(w.state().live_room_count(s.id) == 6);
  CHECK(w.state().live_room_count(s.id + 1) == 0);
  CHECK(w.state().longest_minutes() == 30);
}

TEST_CASE("a moved room leaves the old server's upcoming list for the new one's",
          "[core][queries]") {
  World w;
  auto s = w.register_server("meet.example.com", {"alice@x.de"}, true);
  auto uid = w.create_room(s.key, "meet.example.com", "alice@x.de", "2021-02-02T13:20", "5");
  auto clone = w.run(CloneServer{s.key, "meet2.example.com", "Two", "", ""});
  ServerId clone_id = *clone->reply.server_id;
  REQUIRE(w.run(MoveRoom{s.key, uid, clone_id}).ok());
  Instant now = w.clock.now();
  CHECK(rooms_in_window(w.state(), s.id, now, now + 60min, false).empty());
  REQUIRE(rooms_in_window(w.state(), clone_id, now, now + 60min, false).size() == 1);
}

TEST_CASE("a server's schedule version changes with its rooms' places and ends, and only then",
          "[core][queries]") {
  World w;  // now = 2021-02-02 12:00 UTC = 13:00 in the fake zone
  auto one = w.register_server("meet.example.com", {"alice@x.de"}, true);
  auto two = w.clone_server(one, "meet2.example.com");
  std::set<std::uint64_t> seen{0};
  // Runs `command`; checks which of the two servers' versions changed (to values never seen).
  auto expect = [&](const Command& command, bool one_changes, bool two_changes) {
    const std::uint64_t before_one = w.state().schedule_version(one.id);
    const std::uint64_t before_two = w.state().schedule_version(two.id);
    REQUIRE(w.run(command).ok());
    const std::uint64_t after_one = w.state().schedule_version(one.id);
    const std::uint64_t after_two = w.state().schedule_version(two.id);
    CHECK((after_one != before_one) == one_changes);
    CHECK((after_two != before_two) == two_changes);
    if (one_changes) CHECK(seen.insert(after_one).second);
    if (two_changes) CHECK(seen.insert(after_two).second);
  };
  const std::string uid =
      w.create_room(one.key, "meet.example.com", "alice@x.de", "2021-02-02T13:10", "30");
  CHECK(seen.insert(w.state().schedule_version(one.id)).second);
  CHECK(w.state().schedule_version(two.id) == 0);

  expect(UpdateRoom{one.key, uid, {}, "Renamed", {}, {}}, false, false);
  expect(AddParticipant{one.key, uid, "bob@x.de"}, false, false);
  expect(UpdateRoom{one.key, uid, {}, {}, {}, "45"}, true, false);  // the end moves
  expect(UpdateRoom{one.key, uid, {}, {}, "2021-02-02T13:20", {}}, true, false);
  expect(MoveRoom{one.key, uid, two.id}, true, true);
  // Lifecycle facts change a room's stage, not its place: starting (lead), started, ended.
  w.clock.advance(std::chrono::minutes{20});
  expect(Tick{}, false, false);
  CHECK(w.state().stage(w.room(uid).number) != Stage::none);
  expect(DeleteRoom{one.key, uid}, false, true);
}

TEST_CASE("servers for an email are the live enabled ones that admit it", "[core][queries]") {
  World w;
  w.register_server("a.example.com", {"alice@x.de"});
  auto b = w.register_server("b.example.com", {"@x.de"});
  auto c = w.register_server("c.example.com", {"alice@x.de"});
  w.register_server("d.example.com", {"bob@x.de"});
  REQUIRE(w.run(SetServerState{c.id, ServerState::cordoned}).ok());
  auto r = servers_for_email(w.state(), "Alice@x.de");
  REQUIRE(r.ok());
  REQUIRE(r->size() == 2);
  CHECK(r->at(0)->url == "a.example.com");
  CHECK(r->at(1)->id == b.id);
  CHECK(servers_for_email(w.state(), "zed@nowhere.example")->empty());
  CHECK(servers_for_email(w.state(), "nope").error().code == Errc::invalid_email);
}

TEST_CASE("success is reported only once the log says the events are durable", "[core][service]") {
  World w;
  auto s = w.register_server("meet.example.com", {"alice@x.de"});
  w.log.hold = true;
  std::optional<Result<Decision>> outcome;
  w.service.submit(
      "c1", CreateRoom{s.key, "meet.example.com", "alice@x.de", "n", "2021-02-10T13:00", "5"},
      [&](const Result<Decision>& r) { outcome = r; });
  CHECK_FALSE(outcome);
  CHECK(w.log.pending() == 1);
  CHECK(w.service.in_flight() == 1);
  std::size_t heard_before = w.listener.seen.size();
  w.log.release_all();
  REQUIRE(outcome);
  REQUIRE(outcome->ok());
  CHECK(w.listener.seen.size() == heard_before + 1);
  CHECK(w.service.in_flight() == 0);
}

TEST_CASE("when_settled runs once every command in flight is durable and answered, in order",
          "[core][service]") {
  World w;
  auto s = w.register_server("meet.example.com", {"alice@x.de"});
  int settled_now = 0;
  w.service.when_settled([&] { ++settled_now; });
  CHECK(settled_now == 1);  // nothing in flight: at once

  w.log.hold = true;
  std::vector<std::string> order;
  for (const char* id : {"c1", "c2"}) {
    w.service.submit(
        id, CreateRoom{s.key, "meet.example.com", "alice@x.de", "n", "2021-02-10T13:00", "5"},
        [&order, id](const Result<Decision>&) { order.emplace_back(id); });
  }
  w.service.when_settled([&] { order.emplace_back("settled"); });
  CHECK(order.empty());
  REQUIRE(w.log.pending() == 2);
  w.log.release_all();
  CHECK(order == std::vector<std::string>{"c1", "c2", "settled"});

  // Once run, a waiter is forgotten: the next command in flight does not run it again.
  w.service.submit("c3", CreateRoom{s.key, "meet.example.com", "alice@x.de", "n", "", "5"},
                   [](const Result<Decision>&) {});
  w.log.release_all("disk full");  // a failed commit settles too
  CHECK(order.size() == 3);
  CHECK(w.service.in_flight() == 0);
}

TEST_CASE("a failed commit is reported as a storage failure, never as success", "[core][service]") {
  World w;
  auto s = w.register_server("meet.example.com", {"alice@x.de"});
  w.log.hold = true;
  std::optional<Result<Decision>> outcome;
  w.service.submit("c1", CreateRoom{s.key, "meet.example.com", "alice@x.de", "n", "", "5"},
                   [&](const Result<Decision>& r) { outcome = r; });
  std::size_t heard_before = w.listener.seen.size();
  w.log.release_all("disk full");
  REQUIRE(outcome);
  REQUIRE_FALSE(outcome->ok());
  CHECK(outcome->error().code == Errc::storage_failed);
  CHECK(w.listener.seen.size() == heard_before);
}

TEST_CASE("rejections answer at once and write nothing", "[core][service]") {
  World w;
  std::size_t appended = w.log.appended.size();
  auto r = w.run(DeleteRoom{"k", "nope"});
  CHECK_FALSE(r.ok());
  CHECK(w.log.appended.size() == appended);
  CHECK(w.state().position() == 0);
}

TEST_CASE("a repeated chosen command id returns the first outcome and changes nothing",
          "[core][service]") {
  World w;
  auto s = w.register_server("meet.example.com", {"alice@x.de"});
  CreateRoom create{s.key, "meet.example.com", "alice@x.de", "n", "", "5"};
  std::vector<Result<Decision>> outcomes;
  auto record = [&](const Result<Decision>& r) { outcomes.push_back(r); };
  constexpr auto chosen = Service::Id::chosen;

  SECTION("after it was durable") {
    w.service.submit("same", create, record, chosen);
    w.service.submit("same", create, record, chosen);
    REQUIRE(outcomes.size() == 2);
    CHECK(outcomes[0]->reply.room_uid == outcomes[1]->reply.room_uid);
    CHECK(outcomes[1]->events.empty());
    CHECK(w.log.outcomes.size() == 1);
  }
  SECTION("while the first copy is still in flight") {
    w.log.hold = true;
    w.service.submit("same", create, record, chosen);
    w.service.submit("same", create, record, chosen);
    CHECK(outcomes.empty());
    w.log.release_all();
    REQUIRE(outcomes.size() == 2);
    CHECK(outcomes[0]->reply.room_uid == outcomes[1]->reply.room_uid);
  }
  CHECK(w.state().room_count() == 1);
}

TEST_CASE("a rejection under a chosen id is remembered durably and repeated as it was",
          "[core][service]") {
  World w;
  auto s = w.register_server("meet.example.com", {"alice@x.de"});
  CreateRoom bad{s.key, "meet.example.com", "alice@x.de", "n", "", "abc"};
  std::vector<Result<Decision>> outcomes;
  auto record = [&](const Result<Decision>& r) { outcomes.push_back(r); };
  w.log.hold = true;
  w.service.submit("retry-me", bad, record, Service::Id::chosen);
  CHECK(outcomes.empty());  // the remembered rejection must be durable before it is told
  w.log.release_all();
  REQUIRE(outcomes.size() == 1);
  CHECK(outcomes[0].error().code == Errc::invalid_duration);
  REQUIRE(w.log.outcomes.size() == 1);
  CHECK(w.log.outcomes[0].error->code == Errc::invalid_duration);
  // Even a now-valid command under the same id gets the first answer.
  CreateRoom good{s.key, "meet.example.com", "alice@x.de", "n", "", "5"};
  w.service.submit("retry-me", good, record, Service::Id::chosen);
  REQUIRE(outcomes.size() == 2);
  CHECK(outcomes[1].error().code == Errc::invalid_duration);
  CHECK(w.state().room_count() == 0);
}

TEST_CASE("rejections of callers without a valid key are not remembered", "[core][service]") {
  World w;
  w.register_server("meet.example.com", {"alice@x.de"});
  std::optional<Result<Decision>> outcome;
  w.service.submit(
      "made-up", DeleteRoom{"not-a-key-of-anyone", "nope"},
      [&](const Result<Decision>& r) { outcome = r; }, Service::Id::chosen);
  REQUIRE(outcome);
  CHECK(outcome->error().code == Errc::room_not_found);
  CHECK(w.log.outcomes.empty());
  CHECK(w.service.remembered_outcomes() == 0);
}

TEST_CASE("generated command ids are not remembered", "[core][service]") {
  World w;
  auto s = w.register_server("meet.example.com", {"alice@x.de"});
  CHECK(w.log.outcomes.empty());
  CHECK(w.service.remembered_outcomes() == 0);
  std::optional<Result<Decision>> outcome;
  w.service.submit("g1", CreateRoom{s.key, "meet.example.com", "alice@x.de", "n", "", "5"},
                   [&](const Result<Decision>& r) { outcome = r; });
  w.service.submit("g1", CreateRoom{s.key, "meet.example.com", "alice@x.de", "n", "", "5"},
                   [&](const Result<Decision>& r) { outcome = r; });
  CHECK(w.state().room_count() == 2);
}

TEST_CASE("a new API key is never part of a remembered outcome", "[core][service]") {
  World w;
  std::optional<Result<Decision>> first;
  std::optional<Result<Decision>> second;
  RegisterServer reg{"meet.example.com", "Meet", "", "", {}, false, std::nullopt};
  w.service.submit(
      "reg", reg, [&](const Result<Decision>& r) { first = r; }, Service::Id::chosen);
  w.service.submit(
      "reg", reg, [&](const Result<Decision>& r) { second = r; }, Service::Id::chosen);
  REQUIRE(first);
  REQUIRE(second);
  CHECK((*first)->reply.api_key.has_value());
  CHECK_FALSE((*second)->reply.api_key.has_value());
  CHECK((*second)->reply.server_id == (*first)->reply.server_id);
  CHECK_FALSE(w.log.outcomes.at(0).reply.api_key.has_value());
}

TEST_CASE("a duplicate that arrives while the first copy is in flight gets no API key",
          "[core][service]") {
  // Issue 12, defect 4: it used to receive the first copy's full result, new key included.
  World w;
  auto server = w.register_server("other.example.com", {});
  w.log.hold = true;
  std::vector<Result<Decision>> outcomes;
  auto record = [&](const Result<Decision>& r) { outcomes.push_back(r); };
  RegisterServer reg{"meet.example.com", "Meet", "", "", {}, false, std::nullopt};
  w.service.submit("reg", reg, record, Service::Id::chosen);
  w.service.submit("reg", reg, record, Service::Id::chosen);
  w.service.submit("rotate", RotateServerKey{server.id}, record, Service::Id::chosen);
  w.service.submit("rotate", RotateServerKey{server.id}, record, Service::Id::chosen);
  w.log.release_all();
  REQUIRE(outcomes.size() == 4);
  CHECK(outcomes[0]->reply.api_key.has_value());
  CHECK_FALSE(outcomes[1]->reply.api_key.has_value());
  CHECK(outcomes[1]->reply.server_id == outcomes[0]->reply.server_id);
  CHECK(outcomes[2]->reply.api_key.has_value());
  CHECK_FALSE(outcomes[3]->reply.api_key.has_value());
  // A later repeat gets the same remembered form.
  std::optional<Result<Decision>> later;
  w.service.submit(
      "reg", reg, [&](const Result<Decision>& r) { later = r; }, Service::Id::chosen);
  REQUIRE(later);
  CHECK_FALSE((*later)->reply.api_key.has_value());
  CHECK((*later)->reply.server_id == outcomes[0]->reply.server_id);
}

TEST_CASE("replaying a scenario's events rebuilds identical state", "[core][service]") {
  World w;
  auto proto = w.register_server("meet.example.com", {"alice@x.de", "@corp.example"}, true);
  auto a = w.create_room(proto.key, "meet.example.com", "alice@x.de", "2021-02-02T13:20", "30");
  auto b = w.create_room(proto.key, "meet.example.com", "bob@corp.example", "2021-02-03T09:00");
  REQUIRE(w.run(AddParticipant{proto.key, a, "carol@y.de"}).ok());
  REQUIRE(w.run(UpdateRoom{proto.key, b, {}, "Renamed", "2021-02-03T10:00", "60"}).ok());
  auto clone = w.run(CloneServer{proto.key, "meet2.example.com", "Two", "", ""});
  REQUIRE(w.run(MoveRoom{proto.key, a, *clone->reply.server_id}).ok());
  REQUIRE(w.run(RemoveParticipant{proto.key, a, "carol@y.de"}).ok());
  REQUIRE(w.run(DeleteRoom{proto.key, b}).ok());
  auto rotated = w.run(RotateServerKey{proto.id});
  REQUIRE(rotated.ok());
  const std::string fresh_key = *rotated->reply.api_key;
  REQUIRE(w.run(SetServerState{proto.id, ServerState::cordoned}).ok());

  World replayed;
  for (const Event& e : w.log.appended) replayed.service.recover(e);
  CHECK(replayed.state() == w.state());
  CHECK(replayed.state().position() == static_cast<std::int64_t>(w.log.appended.size()));

  SECTION("positions are contiguous and versions count per aggregate") {
    std::map<std::string, std::int64_t> versions;
    for (std::size_t i = 0; i < w.log.appended.size(); ++i) {
      const Event& e = w.log.appended[i];
      CHECK(e.position == static_cast<std::int64_t>(i) + 1);
      CHECK(e.version == ++versions[e.aggregate()]);
    }
  }
  SECTION("chosen command ids seen before the restart are still recognised") {
    std::optional<Result<Decision>> first;
    w.service.submit(
        "chosen-1", AddParticipant{fresh_key, b, "dave@y.de"},
        [&](const Result<Decision>& r) { first = r; }, Service::Id::chosen);
    REQUIRE(first);
    World again;
    for (const Event& e : w.log.appended) again.service.recover(e);
    for (const Outcome& o : w.log.outcomes) again.service.recover(o);
    std::optional<Result<Decision>> outcome;
    again.service.submit(
        "chosen-1", AddParticipant{fresh_key, a, "x@y.de"},
        [&](const Result<Decision>& r) { outcome = r; }, Service::Id::chosen);
    REQUIRE(outcome);
    CHECK(outcome->error().code == Errc::room_deleted);
    CHECK(again.state() == w.state());
  }
}

TEST_CASE("the log and the listeners share one copy of a decision's events", "[core][service]") {
  World w;
  auto s = w.register_server("meet.example.com", {"alice@x.de"});
  w.create_room(s.key, "meet.example.com", "alice@x.de");
  REQUIRE_FALSE(w.log.batches.empty());
  REQUIRE_FALSE(w.listener.batches.empty());
  CHECK(w.log.batches.back() == w.listener.batches.back());  // the same pointer, not a copy
  CHECK(w.log.batches.back()->front().type() == "room.created");
}

TEST_CASE("recovered outcomes keep the first one of a command id", "[core][service]") {
  World w;
  auto s = w.register_server("meet.example.com", {"alice@x.de"});
  // A log written by a careless producer may hold two outcomes for one id; the first is the
  // answer its caller got, so it is the one a repeat must get.
  World again;
  for (const Event& e : w.log.appended) again.service.recover(e);
  again.service.recover(
      Outcome{"dup", make_error(Errc::room_not_found, "first"), {}, {}, std::nullopt});
  again.service.recover(
      Outcome{"dup", make_error(Errc::access_denied, "second"), {}, {}, std::nullopt});
  CHECK(again.service.remembered_outcomes() == 1);
  std::optional<Result<Decision>> repeat;
  again.service.submit(
      "dup", DeleteRoom{s.key, "00000000000000000000000000000001"},
      [&](const Result<Decision>& r) { repeat = r; }, Service::Id::chosen);
  REQUIRE(repeat);
  REQUIRE_FALSE(repeat->ok());
  CHECK(repeat->error().text == "first");
}

TEST_CASE("while outcomes are recovered, chosen ids wait and generated ones run",
          "[core][service][idempotency]") {
  World w;
  auto s = w.register_server("meet.example.com", {"alice@x.de"});
  const std::string uid = w.create_room(s.key, "meet.example.com", "alice@x.de");
  World again;
  for (const Event& e : w.log.appended) again.service.recover(e);
  again.ids.room_uid();  // the first life minted uid 1
  again.service.begin_outcome_recovery();
  CreateRoom create{s.key, "meet.example.com", "alice@x.de", "Retro", "2021-02-10T13:00", "5"};
  std::vector<std::string> order;
  std::optional<Result<Decision>> repeat, fresh, generated;
  // Submits `create` as `id`: its answer goes to `into`, and the order of answers to `order`.
  auto submit = [&](const std::string& id, std::optional<Result<Decision>>& into,
                    Service::Id kind) {
    again.service.submit(
        id, create,
        [&order, &into, id](const Result<Decision>& r) {
          order.push_back(id);
          into = r;
        },
        kind);
  };
  submit("seen", repeat, Service::Id::chosen);
  submit("new", fresh, Service::Id::chosen);
  submit("once", generated, Service::Id::generated);
  CHECK(order == std::vector<std::string>{"once"});
  CHECK(again.service.deferred_submissions() == 2);
  // The outcome the first life gave "seen" arrives after the repeat did: the repeat gets it.
  Outcome seen{"seen", std::nullopt, {}, {}, std::nullopt};
  seen.reply.room_uid = uid;
  again.service.recover(seen);
  CHECK_FALSE(repeat);
  again.service.end_outcome_recovery();
  CHECK(order == std::vector<std::string>{"once", "seen", "new"});
  REQUIRE(repeat->ok());
  CHECK((*repeat)->reply.room_uid == uid);
  CHECK((*repeat)->events.empty());
  REQUIRE(fresh->ok());
  CHECK((*fresh)->events.size() == 1);
  CHECK(again.state().room_count() == 3);  // uid, "once" and "new"

  SECTION("abandoned: the waiting ones are told the log failed") {
    World third;
    for (const Event& e : w.log.appended) third.service.recover(e);
    third.service.begin_outcome_recovery();
    std::optional<Result<Decision>> waiting;
    third.service.submit(
        "seen", create, [&](const Result<Decision>& r) { waiting = r; }, Service::Id::chosen);
    CHECK_FALSE(waiting);
    third.service.abandon_outcome_recovery("disk on fire");
    REQUIRE(waiting);
    REQUIRE_FALSE(waiting->ok());
    CHECK(waiting->error().code == Errc::storage_failed);
    CHECK(third.state().room_count() == 1);
  }
}

namespace {

// Submits under a chosen id with a fingerprint and returns the outcome (nullopt while in flight).
std::optional<Result<Decision>> submit_chosen(World& w, const std::string& id,
                                              const Command& command,
                                              const std::string& fingerprint) {
  std::optional<Result<Decision>> outcome;
  w.service.submit(
      id, command, [&](const Result<Decision>& r) { outcome = r; }, Service::Id::chosen,
      fingerprint);
  return outcome;
}

}  // namespace

TEST_CASE("a chosen command id that comes again with another request is refused",
          "[core][service][idempotency]") {
  World w;
  auto s = w.register_server("meet.example.com", {"alice@x.de"});
  CreateRoom first{s.key, "meet.example.com", "alice@x.de", "Standup", "", "5"};
  CreateRoom other{s.key, "meet.example.com", "alice@x.de", "Retro", "", "5"};
  auto created = submit_chosen(w, "k", first, "fp-standup");
  REQUIRE(created);
  REQUIRE(created->ok());

  auto reused = submit_chosen(w, "k", other, "fp-retro");
  REQUIRE(reused);
  REQUIRE_FALSE(reused->ok());
  CHECK(reused->error().code == Errc::command_id_reused);
  // The same request still gets its first answer; nothing ran twice.
  auto repeat = submit_chosen(w, "k", first, "fp-standup");
  REQUIRE(repeat);
  CHECK((*repeat)->reply.room_uid == (*created)->reply.room_uid);
  CHECK(w.state().room_count() == 1);
  CHECK(w.log.outcomes.size() == 1);
  CHECK(w.log.outcomes[0].fingerprint == "fp-standup");

  SECTION("an empty fingerprint on either side is not compared") {
    auto without = submit_chosen(w, "k", other, "");
    REQUIRE(without);
    CHECK((*without)->reply.room_uid == (*created)->reply.room_uid);
    REQUIRE(submit_chosen(w, "k2", first, "")->ok());
    CHECK(submit_chosen(w, "k2", other, "fp-retro")->ok());
    CHECK(w.state().room_count() == 2);
  }
}

TEST_CASE("remembered SHA-256 fingerprints and replies replay exactly, however they are kept",
          "[core][service][idempotency]") {
  World w;
  auto s = w.register_server("meet.example.com", {"alice@x.de"}, true);
  const std::string hex_a(64, 'a');
  std::string hex_b = hex_a;
  hex_b[63] = 'b';                   // differs in the last digit only
  const std::string upper(64, 'A');  // not lowercase hex: kept as it is
  CreateRoom create{s.key, "meet.example.com", "alice@x.de", "Standup", "", "5"};
  auto created = submit_chosen(w, "k", create, hex_a);
  REQUIRE(created);
  REQUIRE(created->ok());
  const std::string uid = (*created)->reply.room_uid;
  CHECK(submit_chosen(w, "k", create, hex_b)->error().code == Errc::command_id_reused);
  CHECK(submit_chosen(w, "k", create, upper)->error().code == Errc::command_id_reused);
  // The room changes and is deleted: the repeat still names it, and nothing else.
  REQUIRE(w.run(UpdateRoom{s.key, uid, {}, "Renamed", {}, {}}).ok());
  REQUIRE(w.run(DeleteRoom{s.key, uid}).ok());
  auto repeat = submit_chosen(w, "k", create, hex_a);
  REQUIRE(repeat);
  REQUIRE(repeat->ok());
  CHECK((*repeat)->reply.room_uid == uid);
  CHECK((*repeat)->reply.server_id == (*created)->reply.server_id);
  CHECK_FALSE((*repeat)->reply.api_key);

  auto clone = submit_chosen(w, "c", CloneServer{s.key, "two.example.com", "Two", "", ""}, upper);
  REQUIRE(clone);
  REQUIRE(clone->ok());
  auto clone_again =
      submit_chosen(w, "c", CloneServer{s.key, "two.example.com", "Two", "", ""}, upper);
  REQUIRE(clone_again);
  REQUIRE(clone_again->ok());
  CHECK((*clone_again)->reply.server_id == (*clone)->reply.server_id);
  CHECK((*clone_again)->reply.room_uid.empty());
  CHECK(submit_chosen(w, "c", CloneServer{s.key, "two.example.com", "Two", "", ""}, hex_a)
            ->error()
            .code == Errc::command_id_reused);

  auto rejected =
      submit_chosen(w, "r", DeleteRoom{s.key, "0123456789abcdef0123456789abcdef"}, hex_b);
  REQUIRE(rejected);
  REQUIRE_FALSE(rejected->ok());
  auto rejected_again =
      submit_chosen(w, "r", DeleteRoom{s.key, "0123456789abcdef0123456789abcdef"}, hex_b);
  REQUIRE(rejected_again);
  REQUIRE_FALSE(rejected_again->ok());
  CHECK(rejected_again->error().code == rejected->error().code);
  CHECK(rejected_again->error().text == rejected->error().text);
  CHECK(w.log.outcomes.size() == 3);
  CHECK(w.log.outcomes[0].fingerprint == hex_a);  // the log keeps what the caller gave
}

TEST_CASE("a different request under an id still in flight is refused at once",
          "[core][service][idempotency]") {
  World w;
  auto s = w.register_server("meet.example.com", {"alice@x.de"});
  w.log.hold = true;
  std::vector<Result<Decision>> outcomes;
  auto record = [&](const Result<Decision>& r) { outcomes.push_back(r); };
  CreateRoom first{s.key, "meet.example.com", "alice@x.de", "Standup", "", "5"};
  CreateRoom other{s.key, "meet.example.com", "alice@x.de", "Retro", "", "5"};
  w.service.submit("k", first, record, Service::Id::chosen, "fp-1");
  w.service.submit("k", other, record, Service::Id::chosen, "fp-2");
  REQUIRE(outcomes.size() == 1);
  CHECK(outcomes[0].error().code == Errc::command_id_reused);
  w.service.submit("k", first, record, Service::Id::chosen, "fp-1");
  CHECK(outcomes.size() == 1);  // the same request waits for the first copy
  w.log.release_all();
  REQUIRE(outcomes.size() == 3);
  CHECK(outcomes[1]->reply.room_uid == outcomes[2]->reply.room_uid);
  CHECK(w.state().room_count() == 1);
}

TEST_CASE("remembered outcomes are forgotten after the TTL and the id runs anew",
          "[core][service][idempotency]") {
  World w(Service::Options{std::chrono::hours(24)});
  auto s = w.register_server("meet.example.com", {"alice@x.de"});
  CreateRoom create{s.key, "meet.example.com", "alice@x.de", "n", "", "5"};
  REQUIRE(submit_chosen(w, "early", create, "fp")->ok());
  w.clock.advance(std::chrono::hours(12));
  REQUIRE(submit_chosen(w, "late", create, "fp")->ok());
  CHECK(w.service.remembered_outcomes() == 2);
  CHECK(w.state().room_count() == 2);

  w.clock.advance(std::chrono::hours(12) - std::chrono::seconds(1));
  REQUIRE(submit_chosen(w, "early", create, "fp")->ok());
  CHECK(w.state().room_count() == 2);  // one second short of 24 h: still the first answer

  w.clock.advance(std::chrono::seconds(1));
  REQUIRE(submit_chosen(w, "early", create, "other-fp")->ok());  // a new command now
  CHECK(w.state().room_count() == 3);
  CHECK(w.service.remembered_outcomes() == 2);  // "early" again, and "late"
  w.clock.advance(std::chrono::hours(12));
  REQUIRE(submit_chosen(w, "late", create, "fp")->ok());
  CHECK(w.state().room_count() == 4);
  CHECK(w.log.outcomes.back().at == w.clock.now());
}

TEST_CASE("recovery keeps only unexpired outcomes and dates old ones without a time now",
          "[core][service][idempotency]") {
  World w(Service::Options{std::chrono::hours(1)});
  const Instant now = w.clock.now();
  w.service.recover(Outcome{"old", make_error(Errc::room_not_found, "x"), {}, {}, now - 2h});
  w.service.recover(Outcome{"edge", make_error(Errc::room_not_found, "x"), {}, {}, now - 1h});
  w.service.recover(Outcome{"fresh", make_error(Errc::room_not_found, "x"), {}, {}, now - 59min});
  w.service.recover(Outcome{"undated", make_error(Errc::room_not_found, "x"), {}, {}, {}});
  CHECK(w.service.remembered_outcomes() == 2);
  auto undated = submit_chosen(w, "undated", DeleteRoom{"k", "u"}, "");
  REQUIRE(undated);
  CHECK(undated->error().text == "x");
  w.clock.advance(59min);
  CHECK(submit_chosen(w, "undated", DeleteRoom{"k", "u"}, "")->error().text == "x");
  w.clock.advance(1min);
  CHECK(submit_chosen(w, "undated", DeleteRoom{"k", "u"}, "")->error().text != "x");
  CHECK(w.service.remembered_outcomes() == 0);
}

TEST_CASE("canonical command texts differ exactly when the commands do", "[core]") {
  CreateRoom a{"key", "meet", "a@x.de", "n", std::nullopt, "5"};
  CreateRoom empty_start = a;
  empty_start.start = "";
  CreateRoom other_key = a;
  other_key.api_key = "key2";
  CHECK(canonical_text(a) == canonical_text(CreateRoom(a)));
  CHECK(canonical_text(a) != canonical_text(empty_start));  // absent is not empty
  CHECK(canonical_text(a) != canonical_text(other_key));
  // A separator inside a value cannot pose as the next field.
  CHECK(canonical_text(CreateRoom{"k", "m", "a", "x\nemail=1:b", {}, {}}) !=
        canonical_text(CreateRoom{"k", "m", "a", "x", {}, {}}));
  CHECK(canonical_text(DeleteServer{1}) != canonical_text(RotateServerKey{1}));
  UpdateServer members;
  members.id = 1;
  members.members = std::vector<std::string>{"a", "b"};
  UpdateServer joined = members;
  joined.members = std::vector<std::string>{"ab"};
  CHECK(canonical_text(members) != canonical_text(joined));
}
