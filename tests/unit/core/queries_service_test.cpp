// Unit tests of the queries, the write path's durability ordering, idempotency and replay.
#include <catch2/catch.hpp>

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
  again.service.recover(Outcome{"dup", make_error(Errc::room_not_found, "first"), {}});
  again.service.recover(Outcome{"dup", make_error(Errc::access_denied, "second"), {}});
  CHECK(again.service.remembered_outcomes() == 1);
  std::optional<Result<Decision>> repeat;
  again.service.submit(
      "dup", DeleteRoom{s.key, "00000000000000000000000000000001"},
      [&](const Result<Decision>& r) { repeat = r; }, Service::Id::chosen);
  REQUIRE(repeat);
  REQUIRE_FALSE(repeat->ok());
  CHECK(repeat->error().text == "first");
}
