// Unit tests of the event and snapshot codecs, and of State::restore which snapshots rely on.
#include "roombus/json/event_codec.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "roombus/core/queries.hpp"
#include "roombus/json/demand_codec.hpp"
#include "roombus/json/snapshot_codec.hpp"
#include "support/core_fakes.hpp"

using namespace roombus::core;
using namespace roombus::testing;
using roombus::json::decode_event_payload;
using roombus::json::decode_snapshot;
using roombus::json::encode_event_payload;
using roombus::json::encode_public_event;
using roombus::json::encode_snapshot;

namespace {

Room sample_room() {
  Room r;
  r.uid = "0123456789abcdef0123456789abcdef";
  r.number = 7;
  r.jitsi_name = "abcdefghij";
  r.name = "Daily \"stand-up\" / Ünïcødé \\ <b>";
  r.start = at(2021, 2, 10, 12);
  r.duration_minutes = 45;
  r.end = r.start + std::chrono::minutes{45};
  r.moderator = "alice@x.de";
  r.participants = {"bob@y.de", "Carol@Z.de"};
  r.server_id = 2;
  r.version = 3;
  return r;
}

Server sample_server() {
  Server s;
  s.id = 3;
  s.url = "meet.example.com";
  s.name = "Meet";
  s.app_id = "app";
  s.app_secret = "s3cret-app";
  s.api_key_hash = "hash(secret-key)";
  s.members = {"alice@x.de", "@corp.example"};
  s.allow_clone = true;
  s.state = ServerState::cordoned;
  s.prototype_id = 1;
  s.version = 4;
  return s;
}

Event envelope(std::variant<RoomChanged, ServerChanged> change) {
  Event e;
  e.position = 12;
  e.version = 3;
  e.command_id = "cmd-9";
  e.time = at(2021, 2, 2, 12);
  e.change = std::move(change);
  return e;
}

Event room_event(RoomChange kind) {
  RoomChanged c;
  c.change = kind;
  c.room = sample_room();
  if (is_lifecycle(kind)) {
    c.due = at(2021, 2, 2, 11, 59, 30);
    c.late_seconds = 30;
  }
  return envelope(c);
}

Event server_event(ServerChange kind) {
  ServerChanged c;
  c.change = kind;
  c.server = sample_server();
  return envelope(c);
}

// Checks both directions of the round trip for one event.
void check_round_trip(const Event& e) {
  const std::string payload = encode_event_payload(e);
  auto decoded = decode_event_payload(payload);
  INFO(payload);
  REQUIRE(decoded.ok());
  CHECK(*decoded == e);
  CHECK(encode_event_payload(*decoded) == payload);
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at_pos = text.find(from);
  REQUIRE(at_pos != std::string::npos);
  return text.replace(at_pos, from.size(), to);
}

// The text of the error decoding `payload` gives; fails the test if it decodes.
std::string decode_error(const std::string& payload) {
  auto r = decode_event_payload(payload);
  INFO(payload);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::invalid_argument);
  return r.error().text;
}

std::string snapshot_error(const std::string& snapshot) {
  auto r = decode_snapshot(snapshot);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::invalid_argument);
  return r.error().text;
}

std::vector<Server> servers_of(const State& s) {
  std::vector<Server> out;
  for (const auto& [id, server] : s.servers()) out.push_back(server);
  return out;
}

std::vector<Room> rooms_of(const State& s) {
  std::vector<Room> out;
  for (const Room* r : s.rooms_in_order()) out.push_back(*r);
  return out;
}

// A history that leaves every index in a shape that depends on its order: a clone sharing its
// prototype's key, the prototype put again after the clone, a shortened and a deleted room, a
// deleted server, a moved room, a rotated key, a cordoned server.
struct Scenario {
  World w;
  World::Registered proto;
  std::string a;
  std::string b;
  ServerId clone = 0;

  Scenario() {
    proto = w.register_server("meet.example.com", {"alice@x.de", "@corp.example"}, true);
    a = w.create_room(proto.key, "meet.example.com", "alice@x.de", "2021-02-02T13:20", "30");
    b = w.create_room(proto.key, "meet.example.com", "bob@corp.example", "2021-02-03T09:00", "600");
    REQUIRE(w.run(AddParticipant{proto.key, a, "carol@y.de"}).ok());
    REQUIRE(w.run(UpdateRoom{proto.key, b, {}, "Renamed", "2021-02-03T10:00", "60"}).ok());
    auto cloned = w.run(CloneServer{proto.key, "meet2.example.com", "Two", "", ""});
    REQUIRE(cloned.ok());
    clone = *cloned->reply.server_id;
    UpdateServer rename;
    rename.id = proto.id;
    rename.name = "Prototype";
    REQUIRE(w.run(rename).ok());
    auto spare = w.register_server("spare.example.com", {});
    REQUIRE(w.run(DeleteServer{spare.id}).ok());
  }

  // More history, after a snapshot was taken.
  void continue_history() {
    w.create_room(proto.key, "meet.example.com", "alice@x.de", "2021-02-04T08:00", "5");
    REQUIRE(w.run(MoveRoom{proto.key, a, clone}).ok());
    REQUIRE(w.run(RemoveParticipant{proto.key, a, "carol@y.de"}).ok());
    REQUIRE(w.run(DeleteRoom{proto.key, b}).ok());
    REQUIRE(w.run(RotateServerKey{proto.id}).ok());
    REQUIRE(w.run(SetServerState{proto.id, ServerState::cordoned}).ok());
  }
};

}  // namespace

// --- events ---------------------------------------------------------------------------------

TEST_CASE("A room event is written with the documented members in the documented order",
          "[json][events]") {
  RoomChanged c;
  c.change = RoomChange::moved;
  c.room = sample_room();
  c.previous_server = 1;
  CHECK(encode_event_payload(envelope(c)) ==
        R"({"type":"room.moved","position":12,"version":3,"command_id":"cmd-9",)"
        R"("time":"2021-02-02T12:00:00Z","room":{"uid":"0123456789abcdef0123456789abcdef",)"
        R"("number":7,"jitsi_name":"abcdefghij","name":"Daily \"stand-up\" / Ünïcødé \\ <b>",)"
        R"("start":"2021-02-10T12:00:00Z","duration_minutes":45,"end":"2021-02-10T12:45:00Z",)"
        R"("moderator":"alice@x.de","participants":["bob@y.de","Carol@Z.de"],"server_id":2,)"
        R"("deleted":false,"version":3},"previous_server_id":1})");
}

TEST_CASE("A lifecycle event carries when it fell due and how late it came, last",
          "[json][events]") {
  CHECK(encode_event_payload(room_event(RoomChange::started)) ==
        R"({"type":"room.started","position":12,"version":3,"command_id":"cmd-9",)"
        R"("time":"2021-02-02T12:00:00Z","room":{"uid":"0123456789abcdef0123456789abcdef",)"
        R"("number":7,"jitsi_name":"abcdefghij","name":"Daily \"stand-up\" / Ünïcødé \\ <b>",)"
        R"("start":"2021-02-10T12:00:00Z","duration_minutes":45,"end":"2021-02-10T12:45:00Z",)"
        R"("moderator":"alice@x.de","participants":["bob@y.de","Carol@Z.de"],"server_id":2,)"
        R"("deleted":false,"version":3},"due":"2021-02-02T11:59:30Z","late_seconds":30})");
  CHECK(encode_public_event(room_event(RoomChange::ended)).find(R"("late_seconds":30})") !=
        std::string::npos);
}

TEST_CASE("Decoding wants due and late_seconds on lifecycle events and nowhere else",
          "[json][events]") {
  const std::string starting = encode_event_payload(room_event(RoomChange::starting));
  const std::string created = encode_event_payload(room_event(RoomChange::created));
  CHECK(decode_error(replaced(starting, R"(,"late_seconds":30)", "")) ==
        "event payload: missing member 'late_seconds'");
  CHECK(decode_error(replaced(starting, R"("due":"2021-02-02T11:59:30Z",)", "")) ==
        "event payload: missing member 'due'");
  CHECK(decode_error(replaced(starting, R"("late_seconds":30)", R"("late_seconds":-1)")) ==
        "event payload: late_seconds must not be negative");
  CHECK(decode_error(replaced(starting, R"("late_seconds":30)", R"("late_seconds":"30")")) ==
        "event payload: late_seconds must be an integer, not a string");
  CHECK(decode_error(replaced(starting, R"("due":"2021-02-02T11:59:30Z")", R"("due":1612267170)"))
            .find("event payload: due must be") == 0);
  CHECK(decode_error(replaced(created, R"("version":3}})",
                              R"("version":3},"due":"2021-02-02T11:59:30Z","late_seconds":0})")) ==
        "event payload: unexpected member 'due'");
}

TEST_CASE("A demand forecast is written with the documented members in the documented order",
          "[json][demand]") {
  Demand d;
  d.server_id = 4;
  d.at = at(2021, 2, 2, 12, 2, 30);
  d.buckets = {{at(2021, 2, 2, 12, 0), 2, 7}, {at(2021, 2, 2, 12, 5), 0, 0}};
  CHECK(roombus::json::encode_demand(d) ==
        R"({"server_id":4,"at":"2021-02-02T12:02:30Z","bucket_minutes":5,"buckets":[)"
        R"({"start":"2021-02-02T12:00:00Z","rooms":2,"participants":7},)"
        R"({"start":"2021-02-02T12:05:00Z","rooms":0,"participants":0}]})");
}

TEST_CASE("A server event is written with the documented members in the documented order",
          "[json][events]") {
  CHECK(encode_event_payload(server_event(ServerChange::cloned)) ==
        R"({"type":"server.cloned","position":12,"version":3,"command_id":"cmd-9",)"
        R"("time":"2021-02-02T12:00:00Z","server":{"id":3,"url":"meet.example.com",)"
        R"("name":"Meet","app_id":"app","app_secret":"s3cret-app",)"
        R"j("api_key_hash":"hash(secret-key)","members":["alice@x.de","@corp.example"],)j"
        R"("allow_clone":true,"state":"cordoned","prototype_id":1,"deleted":false,"version":4}})");
}

TEST_CASE("Every kind of room change survives a round trip exactly", "[json][events]") {
  for (RoomChange kind :
       {RoomChange::created, RoomChange::updated, RoomChange::deleted, RoomChange::moved,
        RoomChange::participant_added, RoomChange::participant_removed, RoomChange::starting,
        RoomChange::started, RoomChange::ended}) {
    INFO(to_string(kind));
    check_round_trip(room_event(kind));
  }
}

TEST_CASE("Every kind of server change survives a round trip exactly", "[json][events]") {
  for (ServerChange kind :
       {ServerChange::registered, ServerChange::updated, ServerChange::deleted,
        ServerChange::key_rotated, ServerChange::state_changed, ServerChange::cloned}) {
    INFO(to_string(kind));
    check_round_trip(server_event(kind));
  }
}

TEST_CASE("Optional members are written only when set and round trip when they are",
          "[json][events]") {
  Event plain = room_event(RoomChange::created);
  const std::string text = encode_event_payload(plain);
  CHECK(text.find("previous_server_id") == std::string::npos);
  CHECK(text.find("\"participant\"") == std::string::npos);
  CHECK(text.find("\"fields\"") == std::string::npos);

  RoomChanged all;
  all.change = RoomChange::updated;
  all.room = sample_room();
  all.previous_server = 1;
  all.participant = "dave@y.de";
  all.fields = {"name", "start", "duration"};
  const std::string full = encode_event_payload(envelope(all));
  CHECK(full.find(R"("previous_server_id":1,"participant":"dave@y.de",)"
                  R"("fields":["name","start","duration"]})") != std::string::npos);
  check_round_trip(envelope(all));

  SECTION("a server without a prototype has prototype_id null") {
    Event e = server_event(ServerChange::registered);
    std::get<ServerChanged>(e.change).server.prototype_id.reset();
    CHECK(encode_event_payload(e).find(R"("prototype_id":null)") != std::string::npos);
    check_round_trip(e);
  }
  SECTION("empty strings and lists, deleted flags and every server state round trip") {
    Room r;  // every field at its default: empty strings, epoch times
    r.deleted = true;
    check_round_trip(
        envelope(RoomChanged{RoomChange::deleted, r, std::nullopt, "", {}, std::nullopt, 0}));
    for (ServerState st : {ServerState::enabled, ServerState::cordoned, ServerState::disabled}) {
      Event e = server_event(ServerChange::state_changed);
      std::get<ServerChanged>(e.change).server.state = st;
      std::get<ServerChanged>(e.change).server.deleted = true;
      check_round_trip(e);
    }
  }
  SECTION("extreme integers and times round trip") {
    Event e = room_event(RoomChange::created);
    e.position = INT64_MAX;
    e.version = INT64_MIN;
    auto& room = std::get<RoomChanged>(e.change).room;
    room.number = -1;
    room.start = at(1970, 1, 1);
    room.end = at(9999, 12, 31, 23, 59, 59) + std::chrono::minutes{366 * 24 * 60};  // year 10000
    e.time = at(0, 1, 1);
    check_round_trip(e);
    CHECK(encode_event_payload(e).find(R"("end":"10000-12-31T23:59:59Z")") != std::string::npos);
    CHECK(encode_event_payload(e).find(R"("time":"0000-01-01T00:00:00Z")") != std::string::npos);
  }
}

TEST_CASE("Strings are carried byte for byte, invalid UTF-8 and control characters included",
          "[json][events]") {
  Event e = room_event(RoomChange::updated);
  auto& room = std::get<RoomChanged>(e.change).room;
  room.name = std::string("a\xFFz\xC3(\x00\x01\n\t\"\\/\x7f\xF0\x9F\x98\x80", 18);
  room.participants = {"", std::string("\xED\xA0\x80", 3)};  // an encoded UTF-16 surrogate
  e.command_id = "\xE2\x82";
  check_round_trip(e);
  CHECK(encode_event_payload(e).find(R"(\u0000\u0001\n\t\"\\/)") != std::string::npos);
}

TEST_CASE("Every event of a real history round trips", "[json][events]") {
  Scenario s;
  s.continue_history();
  REQUIRE(s.w.log.appended.size() > 10);
  for (const Event& e : s.w.log.appended) {
    INFO(e.type());
    check_round_trip(e);
  }
}

TEST_CASE("The public encoding hides the server's secrets and is always valid UTF-8",
          "[json][events]") {
  const Event e = server_event(ServerChange::key_rotated);
  const std::string text = encode_public_event(e);
  CHECK(text ==
        R"({"type":"server.key_rotated","position":12,"version":3,"command_id":"cmd-9",)"
        R"("time":"2021-02-02T12:00:00Z","server":{"id":3,"url":"meet.example.com",)"
        R"("name":"Meet","app_id":"app","members":["alice@x.de","@corp.example"],)"
        R"("allow_clone":true,"state":"cordoned","prototype_id":1,"deleted":false,"version":4}})");
  CHECK(text.find("s3cret") == std::string::npos);
  CHECK(text.find("hash(") == std::string::npos);
  CHECK(text.find("app_secret") == std::string::npos);
  CHECK(text.find("api_key_hash") == std::string::npos);
  // Not a log payload: it cannot be mistaken for one.
  CHECK(decode_error(text) == "event payload: missing member 'server.app_secret'");

  SECTION("room events are the log payload, with invalid UTF-8 replaced by U+FFFD") {
    Event r = room_event(RoomChange::participant_added);
    std::get<RoomChanged>(r.change).participant = "caf\xC3";
    std::get<RoomChanged>(r.change).room.name = "ok \xF0\x9F\x98\x80 \xFF\xFE!";
    const std::string pub = encode_public_event(r);
    CHECK(pub.find("\"participant\":\"caf\xEF\xBF\xBD\"") != std::string::npos);
    CHECK(pub.find("\"name\":\"ok \xF0\x9F\x98\x80 \xEF\xBF\xBD\xEF\xBF\xBD!\"") !=
          std::string::npos);
    std::get<RoomChanged>(r.change).participant = "caf\xC3\xA9";
    std::get<RoomChanged>(r.change).room.name = "ok";
    CHECK(encode_public_event(r) == encode_event_payload(r));
  }
}

TEST_CASE("Decoding refuses text that is not JSON, with the offset", "[json][events]") {
  CHECK(decode_error("") == "event payload: not valid JSON at offset 0: the document is empty");
  CHECK(decode_error("{\"type\":") == "event payload: not valid JSON at offset 8: invalid value");
  CHECK(decode_error("{} {}") ==
        "event payload: not valid JSON at offset 3: the document root "
        "must not be followed by other values");
  CHECK(decode_error(std::string("{}\0{}", 5)) ==
        "event payload: not valid JSON at offset 2: a NUL byte");
  CHECK(decode_error("\xFF\xFE\x00garbage") ==
        "event payload: not valid JSON at offset 0: invalid value");
  CHECK(decode_error("[1]") == "event payload: the document must be an object, not an array");
  CHECK(decode_error("null") == "event payload: the document must be an object, not null");
  CHECK(decode_error("{}") == "event payload: missing member 'type'");
  SECTION("deep nesting cannot exhaust the stack") {
    CHECK_FALSE(decode_event_payload(std::string(1000000, '[')).ok());
    CHECK_FALSE(decode_event_payload(std::string(200000, '[') + std::string(200000, ']')).ok());
  }
}

TEST_CASE("Decoding refuses every truncation of a valid payload", "[json][events]") {
  RoomChanged c{RoomChange::updated, sample_room(), 1, "x@y.de", {"name"}, std::nullopt, 0};
  for (const Event& e : {envelope(c), server_event(ServerChange::registered)}) {
    const std::string payload = encode_event_payload(e);
    for (std::size_t n = 0; n < payload.size(); ++n) {
      auto r = decode_event_payload(std::string_view(payload).substr(0, n));
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().code == Errc::invalid_argument);
    }
  }
}

TEST_CASE("Decoding refuses wrong types and names the member", "[json][events]") {
  const std::string room = encode_event_payload(room_event(RoomChange::created));
  const std::string server = encode_event_payload(server_event(ServerChange::registered));
  CHECK(decode_error(replaced(room, R"("position":12)", R"("position":"12")")) ==
        "event payload: position must be an integer, not a string");
  CHECK(decode_error(
            replaced(room, R"("version":3,"command_id")", R"("version":3.0,"command_id")")) ==
        "event payload: version must be an integer, not a floating-point number");
  CHECK(decode_error(replaced(room, R"("position":12)", R"("position":9223372036854775808)")) ==
        "event payload: position must be an integer, not an integer beyond int64");
  CHECK(decode_error(replaced(room, R"("command_id":"cmd-9")", R"("command_id":null)")) ==
        "event payload: command_id must be a string, not null");
  CHECK(decode_error(replaced(room, R"("deleted":false)", R"("deleted":0)")) ==
        "event payload: room.deleted must be true or false, not an integer");
  CHECK(decode_error(replaced(room, R"(["bob@y.de",)", R"([1,)")) ==
        "event payload: room.participants[0] must be a string, not an integer");
  CHECK(decode_error(replaced(room, R"("participants":[)", R"("participants":{"a":[)")) ==
        "event payload: not valid JSON at offset 431: missing a comma or '}' after an object "
        "member");
  CHECK(decode_error(replaced(room, R"("participants":["bob@y.de","Carol@Z.de"])",
                              R"("participants":"bob@y.de")")) ==
        "event payload: room.participants must be an array of strings, not a string");
  CHECK(decode_error(replaced(room, R"("room":{)", R"("room":[{)") + "]") ==
        "event payload: not valid JSON at offset 426: missing a comma or ']' after an array "
        "element");
  CHECK(decode_error(replaced(server, R"("state":"cordoned")", R"("state":"paused")")) ==
        R"(event payload: server.state must be "enabled", "cordoned" or "disabled", not "paused")");
  CHECK(decode_error(replaced(server, R"("prototype_id":1)", R"("prototype_id":"1")")) ==
        "event payload: server.prototype_id must be null or an integer, not a string");
  CHECK(decode_error(replaced(server, R"("server":{)", R"("server":[],"x":{)")) ==
        "event payload: server must be an object, not an array");
}

TEST_CASE("Decoding refuses times that are not canonical ISO-8601 UTC", "[json][events]") {
  const std::string room = encode_event_payload(room_event(RoomChange::created));
  for (const char* bad :
       {"2021-02-10 12:00:00Z", "2021-02-10T12:00:00", "2021-02-10T12:00Z",
        "2021-02-10T12:00:00+00:00", "2021-02-30T12:00:00Z", "2021-02-10T24:00:00Z",
        "2021-02-10T12:60:00Z", "2021-02-10T12:00:60Z", "2021-13-10T12:00:00Z",
        "02021-02-10T12:00:00Z", "99999-02-10T12:00:00Z", "2021-2-10T12:00:00Z", "",
        "2021-02-10t12:00:00z", "+2021-02-10T12:00:00Z"}) {
    INFO(bad);
    const std::string text = replaced(room, R"("start":"2021-02-10T12:00:00Z")",
                                      std::string(R"("start":")") + bad + "\"");
    CHECK(decode_error(text).find("event payload: room.start must be an ISO-8601 UTC time like "
                                  "2021-02-02T12:00:00Z, not \"") == 0);
  }
  CHECK(decode_error(replaced(room, R"("time":"2021-02-02T12:00:00Z")", R"("time":1612267200)")) ==
        "event payload: time must be an ISO-8601 UTC time string, not an integer");
}

TEST_CASE("Decoding refuses unknown types, missing, unknown and repeated members",
          "[json][events]") {
  const std::string room = encode_event_payload(room_event(RoomChange::created));
  const std::string server = encode_event_payload(server_event(ServerChange::registered));
  CHECK(decode_error(replaced(room, "room.created", "room.exploded")) ==
        "event payload: unknown event type \"room.exploded\" (expected "
        "room.<created|updated|deleted|moved|participant_added|participant_removed|starting|"
        "started|ended> or server.<registered|updated|deleted|key_rotated|state_changed|cloned>)");
  CHECK(decode_error(replaced(room, "room.created", "server.created"))
            .find("event payload: unknown event type \"server.created\"") == 0);
  CHECK(decode_error(replaced(room, "room.created", "room.unknown"))
            .find("event payload: unknown event type") == 0);
  CHECK(decode_error(replaced(room, R"("type":"room.created")", R"("type":7)")) ==
        "event payload: type must be a string, not an integer");
  // The change must match the type.
  CHECK(decode_error(replaced(server, "server.registered", "room.created")) ==
        "event payload: missing member 'room'");
  CHECK(decode_error(replaced(room, R"("moderator":"alice@x.de",)", "")) ==
        "event payload: missing member 'room.moderator'");
  CHECK(decode_error(replaced(room, R"("time":"2021-02-02T12:00:00Z",)", "")) ==
        "event payload: missing member 'time'");
  CHECK(decode_error(replaced(room, R"("version":3}})", R"("version":3,"colour":"red"}})")) ==
        "event payload: unexpected member 'room.colour'");
  CHECK(decode_error(replaced(room, R"("version":3}})", R"("version":3},"server":{}})")) ==
        "event payload: unexpected member 'server'");
  CHECK(decode_error(replaced(room, R"("position":12,)", R"("position":12,"position":13,)")) ==
        "event payload: repeated member 'position'");
  CHECK(decode_error(replaced(server, R"("allow_clone":true,)",
                              R"("allow_clone":true,"allow_clone":true,)")) ==
        "event payload: repeated member 'server.allow_clone'");
  SECTION("optional members exist only in the form the encoder writes") {
    const std::string end = R"("version":3}})";
    CHECK(decode_error(replaced(room, end, R"("version":3},"previous_server_id":null})")) ==
          "event payload: previous_server_id must be an integer, not null");
    CHECK(decode_error(replaced(room, end, R"("version":3},"participant":""})")) ==
          "event payload: participant must not be empty when present");
    CHECK(decode_error(replaced(room, end, R"("version":3},"fields":[]})")) ==
          "event payload: fields must not be empty when present");
    CHECK(decode_error(replaced(server, R"("version":4}})", R"("version":4},"fields":["x"]})")) ==
          "event payload: unexpected member 'fields'");
  }
}

TEST_CASE("Decoding random corruptions of payloads never crashes and round trips what it accepts",
          "[json][events]") {
  RoomChanged c{RoomChange::updated, sample_room(), 1, "x@y.de", {"name"}, std::nullopt, 0};
  std::mt19937 random(20210202);
  for (const Event& e : {envelope(c), server_event(ServerChange::registered)}) {
    const std::string payload = encode_event_payload(e);
    std::uniform_int_distribution<std::size_t> where(0, payload.size() - 1);
    std::uniform_int_distribution<int> byte(0, 255);
    for (int i = 0; i < 5000; ++i) {
      std::string mutated = payload;
      for (int k = 0; k <= i % 3; ++k) mutated[where(random)] = static_cast<char>(byte(random));
      auto r = decode_event_payload(mutated);
      if (r.ok()) {
        CHECK(decode_event_payload(encode_event_payload(*r)).value() == *r);
      } else {
        CHECK(r.error().code == Errc::invalid_argument);
      }
    }
  }
}

// --- State::restore -------------------------------------------------------------------------

TEST_CASE("Restore rebuilds a state equal to the one events built, indexes included",
          "[json][restore]") {
  Scenario s;
  s.continue_history();
  const State& original = s.w.state();
  auto restored = State::restore(original.position(), servers_of(original), rooms_of(original));
  REQUIRE(restored.ok());
  CHECK(*restored == original);
  // The same answers from every query path.
  const auto uids = [](const std::vector<const Room*>& rooms) {
    std::vector<std::string> out;
    for (const Room* r : rooms) out.push_back(r->uid);
    return out;
  };
  const auto ids = [](const std::vector<const Server*>& servers) {
    std::vector<ServerId> out;
    for (const Server* sv : servers) out.push_back(sv->id);
    return out;
  };
  const Instant from = at(2021, 2, 2, 12);
  const Instant to = from + std::chrono::hours{72};
  for (const auto& [id, server] : original.servers()) {
    INFO(id);
    CHECK(uids(restored->rooms_starting(id, from, to, true)) ==
          uids(original.rooms_starting(id, from, to, true)));
    CHECK(uids(restored->rooms_starting(id, from + std::chrono::minutes{20}, to, true)) ==
          uids(original.rooms_starting(id, from + std::chrono::minutes{20}, to, true)));
    CHECK(restored->open_room_count(id, from) == original.open_room_count(id, from));
    CHECK(ids(restored->live_servers_by_key_hash(server.api_key_hash)) ==
          ids(original.live_servers_by_key_hash(server.api_key_hash)));
    const Server* by_url = restored->live_server_by_url(server.url);
    CHECK((by_url == nullptr) == (original.live_server_by_url(server.url) == nullptr));
  }
  CHECK(restored->next_server_id() == original.next_server_id());
  CHECK(restored->next_room_number() == original.next_room_number());
  CHECK(restored->live_room_count() == original.live_room_count());
  // Restored servers and rooms are the state's own copies.
  CHECK(restored->room(s.a) != original.room(s.a));
}

TEST_CASE("Restore then apply gives the same state as applying everything", "[json][restore]") {
  Scenario s;
  const std::size_t cut = s.w.log.appended.size();
  const State& middle = s.w.state();
  auto restored = State::restore(middle.position(), servers_of(middle), rooms_of(middle));
  REQUIRE(restored.ok());
  s.continue_history();
  State state = std::move(restored).value();
  for (std::size_t i = cut; i < s.w.log.appended.size(); ++i) state.apply(s.w.log.appended[i]);
  CHECK(state == s.w.state());
}

TEST_CASE("An empty restore is the empty state", "[json][restore]") {
  auto restored = State::restore(0, {}, {});
  REQUIRE(restored.ok());
  CHECK(*restored == State{});
}

TEST_CASE("Restore refuses data that events could not have produced", "[json][restore]") {
  Scenario s;
  const State& st = s.w.state();
  auto error_text = [](const Result<State>& r) {
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::invalid_argument);
    return r.error().text;
  };
  CHECK(error_text(State::restore(-1, {}, {})) == "state position must not be negative, got -1");

  auto rooms = rooms_of(st);
  std::swap(rooms[0], rooms[1]);
  CHECK(error_text(State::restore(st.position(), servers_of(st), rooms)) ==
        "room '00000000000000000000000000000002' has number 2 where 1 was expected (rooms must "
        "come in number order from 1)");
  rooms = rooms_of(st);
  rooms[1].uid = rooms[0].uid;
  CHECK(error_text(State::restore(st.position(), servers_of(st), rooms)) ==
        "room '00000000000000000000000000000001' appears twice");

  auto servers = servers_of(st);
  servers.push_back(servers[0]);
  CHECK(error_text(State::restore(st.position(), servers, rooms_of(st))) ==
        "server 1 appears twice");
  servers = servers_of(st);
  servers[1].url = "MEET.example.com";
  CHECK(error_text(State::restore(st.position(), servers, rooms_of(st))) ==
        "live servers 1 and 2 share the url 'MEET.example.com'");
  // A deleted server's url may be taken again.
  servers[1].deleted = true;
  CHECK(State::restore(st.position(), servers, rooms_of(st)).ok());
}

// --- snapshots ------------------------------------------------------------------------------

TEST_CASE("A snapshot of a non-trivial state decodes to an equal state", "[json][snapshot]") {
  Scenario s;
  s.continue_history();
  const std::string snapshot = encode_snapshot(s.w.state());
  auto decoded = decode_snapshot(snapshot);
  INFO(snapshot);
  REQUIRE(decoded.ok());
  CHECK(*decoded == s.w.state());
  CHECK(encode_snapshot(*decoded) == snapshot);
  CHECK(snapshot.rfind("{\"format\":\"roombus.snapshot.v1\",\"position\":", 0) == 0);
}

TEST_CASE("A service restored from a snapshot and the later events equals the live one",
          "[json][snapshot]") {
  Scenario s;
  const std::size_t cut = s.w.log.appended.size();
  const std::string snapshot = encode_snapshot(s.w.state());
  s.continue_history();

  World restarted;
  auto state = decode_snapshot(snapshot);
  REQUIRE(state.ok());
  restarted.service.restore(std::move(state).value());
  for (std::size_t i = cut; i < s.w.log.appended.size(); ++i) {
    restarted.service.recover(s.w.log.appended[i]);
  }
  CHECK(restarted.state() == s.w.state());
}

TEST_CASE("A snapshot holds one record per line in the documented layout", "[json][snapshot]") {
  World w;
  auto srv = w.register_server("meet.example.com", {"alice@x.de"});
  w.create_room(srv.key, "meet.example.com", "alice@x.de", "2021-02-10T13:00Z", "45", "Daily");
  CHECK(
      encode_snapshot(w.state()) ==
      "{\"format\":\"roombus.snapshot.v1\",\"position\":2,\n"
      "\"servers\":[\n"
      R"({"id":1,"url":"meet.example.com","name":"Server meet.example.com","app_id":"app",)"
      R"j("app_secret":"secret","api_key_hash":"hash(generated-key-1)","members":["alice@x.de"],)j"
      R"("allow_clone":false,"state":"enabled","prototype_id":null,"deleted":false,"version":1})"
      "\n],\n"
      R"("room_fields":["uid","number","jitsi_name","name","start","duration_minutes","end",)"
      R"("moderator","participants","server_id","deleted","version"],)"
      "\n\"room_count\":1,\n"
      "\"rooms\":[\n"
      R"(["00000000000000000000000000000001",1,"jitsi1","Daily",1612962000,45,1612964700,)"
      R"("alice@x.de",["alice@x.de"],1,false,1])"
      "\n],\n\"room_stages\":\"0\"}\n");
  CHECK(encode_snapshot(State{}) ==
        "{\"format\":\"roombus.snapshot.v1\",\"position\":0,\n\"servers\":[\n],\n"
        "\"room_fields\":[\"uid\",\"number\",\"jitsi_name\",\"name\",\"start\","
        "\"duration_minutes\",\"end\",\"moderator\",\"participants\",\"server_id\",\"deleted\","
        "\"version\"],\n\"room_count\":0,\n\"rooms\":[\n],\n\"room_stages\":\"\"}\n");
  CHECK(*decode_snapshot(encode_snapshot(State{})) == State{});
}

TEST_CASE("A snapshot may be re-spaced but not reordered", "[json][snapshot]") {
  Scenario s;
  const std::string snapshot = encode_snapshot(s.w.state());
  std::string spaced;
  for (char c : snapshot) {
    spaced += c;
    if (c == ',' || c == ':' || c == '[' || c == '{') spaced += " \t\r\n";
  }
  auto decoded = decode_snapshot(spaced);
  REQUIRE(decoded.ok());
  CHECK(*decoded == s.w.state());
  CHECK(
      snapshot_error(replaced(snapshot, R"("position")", R"("Position")"))
          .find("snapshot: expected member 'position' at offset 32, found \"\\x22Position\\x22") ==
      0);
}

TEST_CASE("A corrupted snapshot is rejected with a text saying where", "[json][snapshot]") {
  Scenario s;
  const std::string snapshot = encode_snapshot(s.w.state());

  SECTION("every truncation") {
    // Without its final newline the document is still whole.
    CHECK(decode_snapshot(snapshot.substr(0, snapshot.size() - 1)).ok());
    for (std::size_t n = 0; n + 1 < snapshot.size(); ++n) {
      auto r = decode_snapshot(std::string_view(snapshot).substr(0, n));
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().code == Errc::invalid_argument);
    }
    const std::size_t rooms_end = snapshot.find("\n],\n\"room_stages\"");
    CHECK(snapshot_error(snapshot.substr(0, rooms_end)) ==
          "snapshot: expected ']' after rooms[1] at offset " + std::to_string(rooms_end) +
              " (the text ends there)");
  }
  SECTION("another format") {
    CHECK(snapshot_error(replaced(snapshot, "snapshot.v1", "snapshot.v2")) ==
          "snapshot: format \"roombus.snapshot.v2\" is not supported (expected "
          "roombus.snapshot.v1)");
    CHECK(snapshot_error(replaced(snapshot, R"("version"],)", R"("version","colour"],)")) ==
          "snapshot: room_fields do not match this format's room layout");
    CHECK(snapshot_error(R"({"position":1})") ==
          "snapshot: expected member 'format' at offset 1, found \"\\x22position\\x22:1}\"");
    CHECK(snapshot_error("[]") ==
          "snapshot: expected '{' to open the snapshot at offset 0, "
          "found \"[]\"");
  }
  SECTION("wrong counts and types") {
    CHECK(snapshot_error(replaced(snapshot, "\"room_count\":2", "\"room_count\":3")) ==
          "snapshot: room_count is 3 but 2 rooms follow");
    CHECK(snapshot_error(replaced(snapshot, "\"room_count\":2", "\"room_count\":-2")) ==
          "snapshot: room_count must not be negative");
    CHECK(snapshot_error(replaced(snapshot, "\"position\":", "\"position\":\"x\",\"y\":")) ==
          "snapshot: position must be an integer, not a string");
    CHECK(snapshot_error(replaced(snapshot, ",1612268400,", ",\"2021-02-02T13:00:00Z\",")) ==
          "snapshot: rooms[0].start must be an integer (Unix seconds), not a string");
    CHECK(snapshot_error(replaced(snapshot, R"(,"carol@y.de"],)", R"(,7],)")) ==
          "snapshot: rooms[0].participants[1] must be a string, not an integer");
    CHECK(snapshot_error(replaced(snapshot, ",false,2]", ",false]")) ==
          "snapshot: rooms[0] must have 12 fields (see room_fields), not 11");
    CHECK(snapshot_error(replaced(snapshot, "\"rooms\":[\n[", "\"rooms\":[\n{\"x\":1},[")) ==
          "snapshot: rooms[0] must be an array, not an object");
    CHECK(snapshot_error(replaced(snapshot, "\"state\":\"enabled\"", "\"state\":\"on\"")) ==
          "snapshot: servers[0].state must be \"enabled\", \"cordoned\" or \"disabled\", not "
          "\"on\"");
    CHECK(snapshot_error(replaced(snapshot, "\"id\":2,", "\"id\":1,")) ==
          "snapshot: server 1 appears twice");
    CHECK(snapshot_error(replaced(snapshot, "[\"00000000000000000000000000000002\",2,",
                                  "[\"00000000000000000000000000000002\",3,")) ==
          "snapshot: room '00000000000000000000000000000002' has number 3 where 2 was expected "
          "(rooms must come in number order from 1)");
  }
  SECTION("broken JSON and trailing text") {
    CHECK(snapshot_error(replaced(snapshot, "],\n\"room_fields\"", "],,\n\"room_fields\"")) ==
          "snapshot: not valid JSON at offset " +
              std::to_string(snapshot.find("],\n\"room_fields\"") + 2) +
              ": invalid value (in the name of member 'room_fields')");
    CHECK(snapshot_error(snapshot + "x") ==
          "snapshot: unexpected text after the snapshot at offset " +
              std::to_string(snapshot.size()) + ", found \"x\"");
    CHECK(snapshot_error(snapshot + std::string(1, '\0'))
              .find("snapshot: unexpected text after the snapshot") == 0);
  }
  SECTION("random corruption never crashes") {
    std::mt19937 random(42);
    std::uniform_int_distribution<std::size_t> where(0, snapshot.size() - 1);
    std::uniform_int_distribution<int> byte(0, 255);
    for (int i = 0; i < 3000; ++i) {
      std::string mutated = snapshot;
      for (int k = 0; k <= i % 3; ++k) mutated[where(random)] = static_cast<char>(byte(random));
      auto r = decode_snapshot(mutated);
      if (!r.ok()) CHECK(r.error().code == Errc::invalid_argument);
    }
  }
}

TEST_CASE("A snapshot keeps each room's lifecycle stage", "[json][snapshot]") {
  Scenario s;
  s.w.clock.set(at(2021, 2, 2, 12, 20));  // room a (12:20 UTC) started, b not yet starting
  REQUIRE(s.w.run(Tick{}).ok());
  REQUIRE(s.w.state().stage(1) == Stage::started);
  const std::string snapshot = encode_snapshot(s.w.state());
  CHECK(snapshot.find("\n],\n\"room_stages\":\"20\"}\n") != std::string::npos);
  auto decoded = decode_snapshot(snapshot);
  REQUIRE(decoded.ok());
  CHECK(*decoded == s.w.state());
  CHECK(decoded->stages() == std::vector<Stage>{Stage::started, Stage::none});

  SECTION("a snapshot written before lifecycle events loads with every room at none") {
    auto old = decode_snapshot(replaced(snapshot, ",\n\"room_stages\":\"20\"", ""));
    REQUIRE(old.ok());
    CHECK(old->stages() == std::vector<Stage>{Stage::none, Stage::none});
    CHECK(old->room_count() == 2);
  }
  SECTION("stages that do not fit the rooms are refused") {
    CHECK(snapshot_error(replaced(snapshot, "\"room_stages\":\"20\"", "\"room_stages\":\"2\"")) ==
          "snapshot: room_stages has 1 stages for 2 rooms");
    CHECK(snapshot_error(replaced(snapshot, "\"room_stages\":\"20\"", "\"room_stages\":\"24\"")) ==
          "snapshot: room_stages[1] must be a digit 0-3, not \"4\"");
    CHECK(snapshot_error(replaced(snapshot, "\"room_stages\":\"20\"", "\"room_stages\":20")) ==
          "snapshot: room_stages must be a string, not an integer");
    CHECK(snapshot_error(replaced(snapshot, "\"room_stages\"", "\"stages\""))
              .find("snapshot: expected member 'room_stages'") == 0);
  }
}

// Not run by default: `adapters_tests "[bench]"` prints encode/decode times for 100k rooms
// (ROOMBUS_BENCH_ROOMS=1000000 for another size).
TEST_CASE("Snapshot encode and decode time for 100k rooms", "[.][bench]") {
  // Process CPU time, not wall time: the machine running this is often shared.
  struct Clock {
    using duration = std::chrono::nanoseconds;
    static duration now() {
      return duration{
          static_cast<std::int64_t>(static_cast<double>(std::clock()) * 1e9 / CLOCKS_PER_SEC)};
    }
  };
  const auto ms = [](Clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
  };
  constexpr int kServers = 20;
  const char* rooms_env = std::getenv("ROOMBUS_BENCH_ROOMS");
  const int room_total = rooms_env != nullptr ? std::atoi(rooms_env) : 100000;
  State state;
  std::int64_t position = 0;
  const auto apply = [&](std::variant<RoomChanged, ServerChanged> change, std::int64_t version) {
    Event e;
    e.position = ++position;
    e.version = version;
    e.command_id = "cmd-" + std::to_string(position);
    e.time = at(2021, 2, 2, 12);
    e.change = std::move(change);
    state.apply(e);
  };
  const auto build_start = Clock::now();
  for (int i = 1; i <= kServers; ++i) {
    Server s = sample_server();
    s.id = i;
    s.url = "meet" + std::to_string(i) + ".example.com";
    s.prototype_id.reset();
    s.api_key_hash = "sha256-" + std::string(64, static_cast<char>('a' + i % 6));
    apply(ServerChanged{ServerChange::registered, s}, 1);
  }
  for (int i = 1; i <= room_total; ++i) {
    char uid[33];
    std::snprintf(uid, sizeof uid, "%032x", static_cast<unsigned>(i) * 2654435761u);
    Room r;
    r.uid = uid;
    r.number = i;
    r.jitsi_name = "jitsi" + std::to_string(i) + "abcdefghij";
    r.name = "Weekly planning meeting " + std::to_string(i);
    r.start = at(2021, 3, 1) + std::chrono::minutes{i * 7};
    r.duration_minutes = 30 + i % 90;
    r.end = r.start + std::chrono::minutes{r.duration_minutes};
    r.moderator = "organiser" + std::to_string(i % 500) + "@example.com";
    r.participants = {"first.person@example.com", "second.person@example.org"};
    r.server_id = 1 + i % kServers;
    r.deleted = i % 10 == 0;
    r.version = 1;
    apply(RoomChanged{RoomChange::created, r, std::nullopt, "", {}, std::nullopt, 0}, 1);
  }
  const auto build_time = Clock::now() - build_start;
  // Best of three: the machine may be shared.
  std::string snapshot;
  Clock::duration encode_time = Clock::duration::max();
  Clock::duration decode_time = Clock::duration::max();
  Clock::duration restore_time = Clock::duration::max();
  for (int round = 0; round < 3; ++round) {
    const auto t0 = Clock::now();
    snapshot = encode_snapshot(state);
    const auto t1 = Clock::now();
    auto decoded = decode_snapshot(snapshot);
    const auto t2 = Clock::now();
    REQUIRE(decoded.ok());
    auto servers = servers_of(state);
    auto rooms = rooms_of(state);
    const auto t3 = Clock::now();
    auto restored = State::restore(state.position(), std::move(servers), std::move(rooms));
    const auto t4 = Clock::now();
    REQUIRE(restored.ok());
    if (round == 0) CHECK(*decoded == state);
    encode_time = std::min(encode_time, t1 - t0);
    decode_time = std::min(decode_time, t2 - t1);
    restore_time = std::min(restore_time, t4 - t3);
  }
  std::printf(
      "snapshot of %d rooms: %zu bytes (%.0f per room), CPU time: encode %.1f ms, decode %.1f ms "
      "(of which State::restore %.1f ms); building it with apply() took %.1f ms\n",
      room_total, snapshot.size(), static_cast<double>(snapshot.size()) / room_total,
      ms(encode_time), ms(decode_time), ms(restore_time), ms(build_time));

  const auto t5 = Clock::now();
  std::size_t bytes = 0;
  for (const Room* r : state.rooms_in_order()) {
    Event e;
    e.position = r->number;
    e.version = 1;
    e.command_id = "cmd";
    e.change = RoomChanged{RoomChange::created, *r, std::nullopt, "", {}, std::nullopt, 0};
    const std::string payload = encode_event_payload(e);
    bytes += payload.size();
    if (!decode_event_payload(payload).ok()) FAIL("event did not decode");
  }
  const auto t6 = Clock::now();
  std::printf(
      "event payloads: %d encoded and decoded in %.1f ms CPU (%.2f us each, %zu bytes avg)\n",
      room_total, ms(t6 - t5), ms(t6 - t5) * 1000 / room_total,
      bytes / static_cast<std::size_t>(room_total));
}
