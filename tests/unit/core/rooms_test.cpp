// Unit tests of the room commands: create, update, delete, move and participants.
#include <catch2/catch.hpp>

#include "support/core_fakes.hpp"

using namespace roombus::core;
using namespace roombus::testing;

namespace {

Errc error_of(const Result<Decision>& r) {
  REQUIRE_FALSE(r.ok());
  return r.error().code;
}

const RoomChanged& room_change(const Event& e) { return std::get<RoomChanged>(e.change); }

}  // namespace

TEST_CASE("a member creates a room with the server's key", "[core][rooms]") {
  World w;
  auto s = w.register_server("meet.example.com", {"alice@x.de"});
  auto r =
      w.run(CreateRoom{s.key, "meet.example.com", "alice@x.de", "Daily", "2021-02-10T13:00", "45"});
  REQUIRE(r.ok());
  REQUIRE(r->events.size() == 1);
  const Room& room = w.room(r->reply.room_uid);
  CHECK(room.uid.size() == 32);
  CHECK(room.number == 1);
  CHECK(room.jitsi_name == "jitsi1");
  CHECK(room.name == "Daily");
  CHECK(room.server_id == s.id);
  CHECK(room.moderator == "alice@x.de");
  CHECK(room.participants == std::vector<std::string>{"alice@x.de"});
  SECTION("the wall-clock start is read in the configured zone") {
    CHECK(room.start == at(2021, 2, 10, 12, 0));
    CHECK(room.end == at(2021, 2, 10, 12, 45));
    CHECK(room.duration_minutes == 45);
  }
  SECTION("the event carries the snapshot, its version, the command id and the time") {
    const Event& e = r->events.front();
    CHECK(e.type() == "room.created");
    CHECK(e.aggregate() == "room:" + room.uid);
    CHECK(e.version == 1);
    CHECK(e.position == w.state().position());
    CHECK_FALSE(e.command_id.empty());
    CHECK(e.time == w.clock.now());
    CHECK(room_change(e).room == room);
  }
}

TEST_CASE("room numbers follow creation order", "[core][rooms]") {
  World w;
  auto s = w.register_server("meet.example.com", {"@x.de"});
  auto a = w.create_room(s.key, "meet.example.com", "alice@x.de");
  auto b = w.create_room(s.key, "meet.example.com", "bob@x.de");
  CHECK(w.room(a).number == 1);
  CHECK(w.room(b).number == 2);
  CHECK(w.state().room_by_number(2)->uid == b);
}

TEST_CASE("an explicit Z or offset in the start fixes the instant", "[core][rooms]") {
  World w;
  auto s = w.register_server("meet.example.com", {"alice@x.de"});
  CHECK(w.room(w.create_room(s.key, "meet.example.com", "alice@x.de", "2021-02-10T13:00Z")).start ==
        at(2021, 2, 10, 13));
  CHECK(w.room(w.create_room(s.key, "meet.example.com", "alice@x.de", "2021-02-10 13:00:00+05:00"))
            .start == at(2021, 2, 10, 8));
}

TEST_CASE("a missing or empty start means now", "[core][rooms]") {
  World w;
  auto s = w.register_server("meet.example.com", {"alice@x.de"});
  CHECK(w.room(w.create_room(s.key, "meet.example.com", "alice@x.de", "")).start == w.clock.now());
  auto r = w.run(CreateRoom{s.key, "meet.example.com", "alice@x.de", "n", std::nullopt, "5"});
  REQUIRE(r.ok());
  CHECK(w.room(r->reply.room_uid).start == w.clock.now());
}

TEST_CASE("create is refused without a matching key, server, membership or valid input",
          "[core][rooms]") {
  World w;
  auto s = w.register_server("meet.example.com", {"alice@x.de"});
  w.register_server("other.example.com", {"alice@x.de"});
  auto create = [&](Text key, std::string url, std::string email, Text name, Text start,
                    Text duration) {
    return w.run(CreateRoom{std::move(key), std::move(url), std::move(email), std::move(name),
                            std::move(start), std::move(duration)});
  };
  CHECK(error_of(create(std::nullopt, "meet.example.com", "alice@x.de", "n", "", "5")) ==
        Errc::missing_key);
  CHECK(error_of(create("", "meet.example.com", "alice@x.de", "n", "", "5")) == Errc::missing_key);
  CHECK(error_of(create("wrong-key-wrong-key", "meet.example.com", "alice@x.de", "n", "", "5")) ==
        Errc::access_denied);
  CHECK(error_of(create(s.key, "other.example.com", "alice@x.de", "n", "", "5")) ==
        Errc::access_denied);
  CHECK(error_of(create(s.key, "nowhere.example.com", "alice@x.de", "n", "", "5")) ==
        Errc::server_not_found);
  CHECK(error_of(create(s.key, "meet.example.com", "not-an-email", "n", "", "5")) ==
        Errc::invalid_email);
  CHECK(error_of(create(s.key, "meet.example.com", "bob@x.de", "n", "", "5")) ==
        Errc::not_a_member);
  CHECK(error_of(create(s.key, "meet.example.com", "alice@x.de", "n", "2021-02-30T10:00", "5")) ==
        Errc::invalid_start);
  CHECK(error_of(create(s.key, "meet.example.com", "alice@x.de", "n", "", std::nullopt)) ==
        Errc::invalid_duration);
  CHECK(error_of(create(s.key, "meet.example.com", "alice@x.de", "n", "", "1.5")) ==
        Errc::invalid_duration);
  CHECK(error_of(create(s.key, "meet.example.com", "alice@x.de", "n", "", "-30")) ==
        Errc::invalid_duration);
  CHECK(error_of(create(s.key, "meet.example.com", "alice@x.de", std::nullopt, "", "5")) ==
        Errc::invalid_argument);
  CHECK(error_of(create(s.key, "meet.example.com", "alice@x.de", std::string(2000, 'x'), "",
                        "5")) == Errc::invalid_argument);
  CHECK(error_of(create(s.key, "meet.example.com", "alice@x.de", "bad \xff name", "", "5")) ==
        Errc::invalid_argument);
  SECTION("and nothing changed") {
    CHECK(w.state().room_count() == 0);
    CHECK(w.log.appended.size() == 2);  // the two registrations only
  }
}

TEST_CASE("the server url is matched case-insensitively and an empty name is allowed",
          "[core][rooms]") {
  World w;
  auto s = w.register_server("meet.example.com", {"alice@x.de"});
  auto r = w.run(CreateRoom{s.key, "MEET.example.com", "ALICE@x.de", "", "", "0"});
  REQUIRE(r.ok());
  CHECK(w.room(r->reply.room_uid).name.empty());
  CHECK(w.room(r->reply.room_uid).end == w.room(r->reply.room_uid).start);
}

TEST_CASE("cordoned and disabled servers take no new rooms", "[core][rooms][servers]") {
  World w;
  auto s = w.register_server("meet.example.com", {"alice@x.de"});
  for (ServerState state : {ServerState::cordoned, ServerState::disabled}) {
    REQUIRE(w.run(SetServerState{s.id, state}).ok());
    CHECK(error_of(w.run(CreateRoom{s.key, "meet.example.com", "alice@x.de", "n", "", "5"})) ==
          Errc::server_unavailable);
  }
  REQUIRE(w.run(SetServerState{s.id, ServerState::enabled}).ok());
  CHECK(w.run(CreateRoom{s.key, "meet.example.com", "alice@x.de", "n", "", "5"}).ok());
}

TEST_CASE("a fresh uid that collides with an existing room is never reused", "[core][rooms]") {
  World w;
  auto s = w.register_server("meet.example.com", {"alice@x.de"});
  w.create_room(s.key, "meet.example.com", "alice@x.de");
  w.ids.repeat_next_uid();
  CHECK(error_of(w.run(CreateRoom{s.key, "meet.example.com", "alice@x.de", "n", "", "5"})) ==
        Errc::conflict);
  CHECK(w.state().room_count() == 1);
}

TEST_CASE("update changes only the given fields and recomputes the end", "[core][rooms]") {
  World w;
  auto s = w.register_server("meet.example.com", {"alice@x.de"});
  auto uid = w.create_room(s.key, "meet.example.com", "alice@x.de", "2021-02-10T13:00", "45", "A");
  Room before = w.room(uid);

  SECTION("duration only") {
    auto r = w.run(UpdateRoom{s.key, uid, std::nullopt, std::nullopt, std::nullopt, "90"});
    REQUIRE(r.ok());
    const Room& after = w.room(uid);
    CHECK(after.name == "A");
    CHECK(after.start == before.start);
    CHECK(after.end == before.start + 90min);
    CHECK(after.version == 2);
    CHECK(room_change(r->events.at(0)).fields == std::vector<std::string>{"duration"});
  }
  SECTION("start and name; an empty start leaves the start alone") {
    REQUIRE(w.run(UpdateRoom{s.key, uid, std::nullopt, "B", "", std::nullopt}).ok());
    CHECK(w.room(uid).start == before.start);
    REQUIRE(w.run(UpdateRoom{s.key, uid, std::nullopt, std::nullopt, "2021-02-11T09:30", {}}).ok());
    CHECK(w.room(uid).name == "B");
    CHECK(w.room(uid).start == at(2021, 2, 11, 8, 30));
    CHECK(w.room(uid).end == at(2021, 2, 11, 9, 15));
  }
  SECTION("naming the current server is not a move") {
    auto r = w.run(UpdateRoom{s.key, uid, "meet.example.com", "A", std::nullopt, "45"});
    REQUIRE(r.ok());
    CHECK(r->events.empty());
    CHECK(w.room(uid).version == 1);
  }
}

TEST_CASE("update can move a room to another server under the same key", "[core][rooms]") {
  World w;
  auto s = w.register_server("meet.example.com", {"alice@x.de"}, true);
  auto uid = w.create_room(s.key, "meet.example.com", "alice@x.de");
  auto clone = w.run(CloneServer{s.key, "meet2.example.com", "Two", "", ""});
  REQUIRE(clone.ok());
  ServerId clone_id = *clone->reply.server_id;
  SECTION("the organiser must be a member of the target") {
    CHECK(error_of(w.run(UpdateRoom{s.key, uid, "meet2.example.com", {}, {}, {}})) ==
          Errc::not_a_member);
  }
  SECTION("with membership it moves and the event names the previous server") {
    REQUIRE(w.run(AddServerMember{clone_id, "alice@x.de"}).ok());
    auto r = w.run(UpdateRoom{s.key, uid, "meet2.example.com", {}, {}, {}});
    REQUIRE(r.ok());
    CHECK(w.room(uid).server_id == clone_id);
    CHECK(room_change(r->events.at(0)).previous_server == s.id);
  }
}

TEST_CASE("update is refused for unknown, deleted or foreign rooms and bad input",
          "[core][rooms]") {
  World w;
  auto a = w.register_server("a.example.com", {"alice@x.de"});
  auto b = w.register_server("b.example.com", {"alice@x.de"});
  auto uid = w.create_room(a.key, "a.example.com", "alice@x.de");
  CHECK(error_of(w.run(UpdateRoom{a.key, "ffffffffffffffffffffffffffffffff", {}, "x", {}, {}})) ==
        Errc::room_not_found);
  CHECK(error_of(w.run(UpdateRoom{std::nullopt, uid, {}, "x", {}, {}})) == Errc::missing_key);
  // jitsi-admin authorised edits against the target server only; the room's own key now counts.
  CHECK(error_of(w.run(UpdateRoom{b.key, uid, "b.example.com", "x", {}, {}})) ==
        Errc::access_denied);
  CHECK(error_of(w.run(UpdateRoom{a.key, uid, "b.example.com", "x", {}, {}})) ==
        Errc::access_denied);
  CHECK(error_of(w.run(UpdateRoom{a.key, uid, "nowhere.example.com", "x", {}, {}})) ==
        Errc::server_not_found);
  CHECK(error_of(w.run(UpdateRoom{a.key, uid, {}, {}, "soon", {}})) == Errc::invalid_start);
  CHECK(error_of(w.run(UpdateRoom{a.key, uid, {}, {}, {}, "abc"})) == Errc::invalid_duration);
  CHECK(w.room(uid).version == 1);
  REQUIRE(w.run(DeleteRoom{a.key, uid}).ok());
  CHECK(error_of(w.run(UpdateRoom{a.key, uid, {}, "x", {}, {}})) == Errc::room_deleted);
}

TEST_CASE("delete is a soft delete: kept, marked, no longer listed or editable", "[core][rooms]") {
  World w;
  auto s = w.register_server("meet.example.com", {"alice@x.de"});
  auto uid = w.create_room(s.key, "meet.example.com", "alice@x.de", "2021-02-02T13:30");
  REQUIRE(w.state().rooms_starting(s.id, w.clock.now(), w.clock.now() + 60min, false).size() == 1);
  CHECK(error_of(w.run(DeleteRoom{std::nullopt, uid})) == Errc::missing_key);
  CHECK(error_of(w.run(DeleteRoom{"some-other-key-1234", uid})) == Errc::access_denied);
  auto r = w.run(DeleteRoom{s.key, uid});
  REQUIRE(r.ok());
  CHECK(r->events.at(0).type() == "room.deleted");
  const Room* room = w.state().room(uid);
  REQUIRE(room != nullptr);
  CHECK(room->deleted);
  CHECK(room->participants == std::vector<std::string>{"alice@x.de"});
  CHECK(w.state().rooms_starting(s.id, w.clock.now(), w.clock.now() + 60min, false).empty());
  CHECK(error_of(w.run(DeleteRoom{s.key, uid})) == Errc::room_deleted);
  CHECK(error_of(w.run(DeleteRoom{s.key, "nope"})) == Errc::room_not_found);
  CHECK(error_of(w.run(AddParticipant{s.key, uid, "bob@x.de"})) == Errc::room_deleted);
  CHECK(error_of(w.run(MoveRoom{s.key, uid, s.id})) == Errc::room_deleted);
}

TEST_CASE("move needs the room's key and a target under the same key that takes rooms",
          "[core][rooms]") {
  World w;
  auto proto = w.register_server("meet.example.com", {"alice@x.de"}, true);
  auto other = w.register_server("other.example.com", {"alice@x.de"});
  auto uid = w.create_room(proto.key, "meet.example.com", "alice@x.de");
  auto clone = w.run(CloneServer{proto.key, "meet2.example.com", "Two", "", ""});
  REQUIRE(clone.ok());
  ServerId clone_id = *clone->reply.server_id;

  CHECK(error_of(w.run(MoveRoom{proto.key, "unknown", clone_id})) == Errc::room_not_found);
  CHECK(error_of(w.run(MoveRoom{std::nullopt, uid, clone_id})) == Errc::missing_key);
  CHECK(error_of(w.run(MoveRoom{other.key, uid, other.id})) == Errc::access_denied);
  CHECK(error_of(w.run(MoveRoom{proto.key, uid, other.id})) == Errc::target_not_found);
  CHECK(error_of(w.run(MoveRoom{proto.key, uid, std::nullopt})) == Errc::target_not_found);
  CHECK(error_of(w.run(MoveRoom{proto.key, uid, 999})) == Errc::target_not_found);

  SECTION("a cordoned target is refused") {
    REQUIRE(w.run(SetServerState{clone_id, ServerState::cordoned}).ok());
    CHECK(error_of(w.run(MoveRoom{proto.key, uid, clone_id})) == Errc::server_unavailable);
  }
  SECTION("moving to the same server succeeds and changes nothing") {
    auto r = w.run(MoveRoom{proto.key, uid, proto.id});
    REQUIRE(r.ok());
    CHECK(r->events.empty());
  }
  SECTION("moving to a clone changes only the server") {
    Room before = w.room(uid);
    auto r = w.run(MoveRoom{proto.key, uid, clone_id});
    REQUIRE(r.ok());
    CHECK(r->events.at(0).type() == "room.moved");
    CHECK(room_change(r->events.at(0)).previous_server == proto.id);
    Room after = w.room(uid);
    CHECK(after.server_id == clone_id);
    after.server_id = before.server_id;
    after.version = before.version;
    CHECK(after == before);
  }
}

TEST_CASE("participants are validated, compared case-insensitively and never duplicated",
          "[core][rooms]") {
  World w;
  auto s = w.register_server("meet.example.com", {"alice@x.de"});
  auto other = w.register_server("other.example.com", {"alice@x.de"});
  auto uid = w.create_room(s.key, "meet.example.com", "alice@x.de");

  CHECK(error_of(w.run(AddParticipant{s.key, "missing", "bob@y.de"})) == Errc::room_not_found);
  CHECK(error_of(w.run(AddParticipant{std::nullopt, uid, "bob@y.de"})) == Errc::missing_key);
  CHECK(error_of(w.run(AddParticipant{other.key, uid, "bob@y.de"})) == Errc::access_denied);
  CHECK(error_of(w.run(AddParticipant{s.key, uid, "bob@y"})) == Errc::invalid_email);

  auto added = w.run(AddParticipant{s.key, uid, "Bob@Y.de"});
  REQUIRE(added.ok());
  CHECK(room_change(added->events.at(0)).participant == "Bob@Y.de");
  auto again = w.run(AddParticipant{s.key, uid, "bob@y.DE"});
  REQUIRE(again.ok());
  CHECK(again->events.empty());
  CHECK(w.room(uid).participants == std::vector<std::string>{"alice@x.de", "Bob@Y.de"});

  CHECK(error_of(w.run(RemoveParticipant{s.key, uid, "carol@y.de"})) == Errc::not_a_participant);
  CHECK(error_of(w.run(RemoveParticipant{s.key, uid, "carol"})) == Errc::invalid_email);
  CHECK(error_of(w.run(RemoveParticipant{other.key, uid, "bob@y.de"})) == Errc::access_denied);
  auto removed = w.run(RemoveParticipant{s.key, uid, "BOB@y.de"});
  REQUIRE(removed.ok());
  CHECK(room_change(removed->events.at(0)).participant == "Bob@Y.de");
  CHECK(w.room(uid).participants == std::vector<std::string>{"alice@x.de"});

  SECTION("the moderator can be removed as a participant and stays moderator") {
    REQUIRE(w.run(RemoveParticipant{s.key, uid, "alice@x.de"}).ok());
    CHECK(w.room(uid).participants.empty());
    CHECK(w.room(uid).moderator == "alice@x.de");
  }
}

TEST_CASE("a room has at most 1000 participants", "[core][rooms]") {
  World w;
  auto s = w.register_server("meet.example.com", {"alice@x.de"});
  auto uid = w.create_room(s.key, "meet.example.com", "alice@x.de");
  for (int i = 1; i < 1000; ++i) {
    REQUIRE(w.run(AddParticipant{s.key, uid, "p" + std::to_string(i) + "@y.de"}).ok());
  }
  CHECK(w.room(uid).participants.size() == 1000);
  CHECK(error_of(w.run(AddParticipant{s.key, uid, "one-more@y.de"})) == Errc::invalid_argument);
  CHECK(w.run(AddParticipant{s.key, uid, "P1@y.de"}).ok());  // already in: still fine
}

TEST_CASE("a copy of the state stands alone: found by uid after the original is gone",
          "[core][state]") {
  auto w = std::make_unique<World>();
  auto s = w->register_server("meet.example.com", {"alice@x.de"});
  const std::string a = w->create_room(s.key, "meet.example.com", "alice@x.de");
  const std::string b = w->create_room(s.key, "meet.example.com", "alice@x.de");
  REQUIRE(w->run(UpdateRoom{s.key, a, {}, "Renamed", "2021-02-11T09:00", {}}).ok());
  State copy = w->state();
  State assigned;
  assigned = w->state();
  w.reset();  // the rooms the original's index viewed are gone
  REQUIRE(copy.room(a) != nullptr);
  CHECK(copy.room(a)->name == "Renamed");
  CHECK(copy.room(a)->number == 1);
  REQUIRE(copy.room(b) != nullptr);
  CHECK(copy.room_by_number(2)->uid == b);
  CHECK(copy.room("0123456789abcdef0123456789abcdef") == nullptr);
  CHECK(assigned == copy);
  const State moved = std::move(copy);
  REQUIRE(moved.room(b) != nullptr);
  CHECK(moved.room(b)->number == 2);
}
