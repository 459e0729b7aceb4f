// Unit tests of the binary snapshot codec: round trips equal to the state, and damage refused.
#include "roombus/json/snapshot_binary.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "roombus/json/snapshot_codec.hpp"
#include "support/core_fakes.hpp"

using namespace roombus::core;
using namespace roombus::testing;
using roombus::json::decode_binary_snapshot;
using roombus::json::decode_stored_snapshot;
using roombus::json::encode_binary_snapshot;
using roombus::json::is_binary_snapshot;

namespace {

// A history that touches every field a snapshot keeps: a prototype and its clone, a deleted and a
// cordoned server, participants, a moved, a renamed and a deleted room, lifecycle stages.
struct Scenario {
  World w;
  World::Registered proto;
  std::string a;
  std::string b;

  Scenario() {
    proto = w.register_server("meet.example.com", {"alice@x.de", "@corp.example"}, true);
    a = w.create_room(proto.key, "meet.example.com", "alice@x.de", "2021-02-02T13:20", "30");
    b = w.create_room(proto.key, "meet.example.com", "bob@corp.example", "2021-02-03T09:00", "600");
    REQUIRE(w.run(AddParticipant{proto.key, a, "carol@y.de"}).ok());
    REQUIRE(w.run(UpdateRoom{proto.key, b, {}, "Renamed", "2021-02-03T10:00", "60"}).ok());
    auto cloned = w.run(CloneServer{proto.key, "meet2.example.com", "Two", "", ""});
    REQUIRE(cloned.ok());
    auto spare = w.register_server("spare.example.com", {});
    REQUIRE(w.run(DeleteServer{spare.id}).ok());
    w.create_room(proto.key, "meet.example.com", "alice@x.de", "2021-02-04T08:00", "5");
    REQUIRE(w.run(MoveRoom{proto.key, a, *cloned->reply.server_id}).ok());
    REQUIRE(w.run(DeleteRoom{proto.key, b}).ok());
    REQUIRE(w.run(SetServerState{proto.id, ServerState::cordoned}).ok());
    w.clock.set(at(2021, 2, 2, 12, 20));  // room a (12:20 UTC) started
    REQUIRE(w.run(Tick{}).ok());
  }
};

std::string binary_error(std::string_view bytes) {
  auto r = decode_binary_snapshot(bytes);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == Errc::invalid_argument);
  return r.error().text;
}

// Values no command produces but the layout must carry exactly: empty and long texts, NUL and
// invalid UTF-8, negative and huge numbers, an end before the start.
State odd_state() {
  Server s;
  s.id = 9'000'000'000;
  s.url = std::string("nul\0byte.example", 16);
  s.api_key_hash = std::string(300, 'k');
  s.members = {"", "\xff\xfe", "@x"};
  s.state = ServerState::disabled;
  s.prototype_id = -1;
  s.version = INT64_MAX;
  Room r;
  r.uid = "ffffffffffffffffffffffffffffffff";
  r.number = 1;
  r.start = Instant{std::chrono::seconds{-62'000'000'000}};
  r.end = Instant{std::chrono::seconds{INT64_MAX}};
  r.duration_minutes = INT64_MIN;
  r.participants = {std::string(200, 'p')};
  r.server_id = 9'000'000'000;
  r.deleted = true;
  r.version = -5;
  Room r2 = r;
  r2.uid = "0";
  r2.number = 2;
  r2.end = Instant{std::chrono::seconds{INT64_MIN}};
  r2.deleted = false;
  auto state = State::restore(INT64_MAX, {s}, {r, r2}, {Stage::ended, Stage::starting});
  REQUIRE(state.ok());
  return std::move(state).value();
}

}  // namespace

TEST_CASE("A binary snapshot decodes to a state equal to the one encoded", "[snapshot][binary]") {
  Scenario s;
  REQUIRE(s.w.state().stage(1) == Stage::started);
  const std::string snapshot = encode_binary_snapshot(s.w.state());
  auto decoded = decode_binary_snapshot(snapshot);
  REQUIRE(decoded.ok());
  CHECK(*decoded == s.w.state());
  CHECK(decoded->stages() == s.w.state().stages());
  CHECK(encode_binary_snapshot(*decoded) == snapshot);
  // Smaller than the JSON snapshot of the same state.
  CHECK(snapshot.size() < roombus::json::encode_snapshot(s.w.state()).size());

  SECTION("in chunks of one or two rooms, decoded on several threads") {
    for (std::size_t per_chunk : {std::size_t{1}, std::size_t{2}}) {
      const std::string chunked = encode_binary_snapshot(s.w.state(), per_chunk);
      auto back = decode_binary_snapshot(chunked);
      REQUIRE(back.ok());
      CHECK(*back == s.w.state());
      CHECK(encode_binary_snapshot(*back, per_chunk) == chunked);
    }
  }
  SECTION("the empty state") {
    auto empty = decode_binary_snapshot(encode_binary_snapshot(State{}));
    REQUIRE(empty.ok());
    CHECK(*empty == State{});
  }
  SECTION("values at the edges of their types") {
    const State odd = odd_state();
    const std::string bytes = encode_binary_snapshot(odd);
    auto back = decode_binary_snapshot(bytes);
    REQUIRE(back.ok());
    CHECK(*back == odd);
    CHECK(back->room_by_number(1)->end == odd.room_by_number(1)->end);
    CHECK(back->room_by_number(2)->end == odd.room_by_number(2)->end);
    CHECK(back->server(9'000'000'000)->url.size() == 16);
    CHECK(encode_binary_snapshot(*back) == bytes);
  }
}

TEST_CASE("A service restored from a binary snapshot and the later events equals the live one",
          "[snapshot][binary]") {
  World live;
  auto srv = live.register_server("meet.example.com", {"alice@x.de"}, true);
  const std::string a =
      live.create_room(srv.key, "meet.example.com", "alice@x.de", "2021-02-10T13:00", "45");
  const std::size_t cut = live.log.appended.size();
  const std::string snapshot = encode_binary_snapshot(live.state());
  live.create_room(srv.key, "meet.example.com", "alice@x.de", "2021-02-11T13:00", "45");
  REQUIRE(live.run(AddParticipant{srv.key, a, "bob@y.de"}).ok());

  World restarted;
  auto state = decode_binary_snapshot(snapshot);
  REQUIRE(state.ok());
  restarted.service.restore(std::move(state).value());
  for (std::size_t i = cut; i < live.log.appended.size(); ++i) {
    restarted.service.recover(live.log.appended[i]);
  }
  CHECK(restarted.state() == live.state());
}

TEST_CASE("A binary snapshot starts with its magic, format version and position",
          "[snapshot][binary]") {
  World w;
  auto srv = w.register_server("meet.example.com", {"alice@x.de"});
  w.create_room(srv.key, "meet.example.com", "alice@x.de", "2021-02-10T13:00Z", "45", "Daily");
  const std::string bytes = encode_binary_snapshot(w.state());
  CHECK(bytes.substr(0, 22) == std::string("RBSTATE\0\1\0\0\0\2\0\0\0\0\0\0\0\1\1", 22));
  CHECK(is_binary_snapshot(bytes));
  CHECK_FALSE(is_binary_snapshot(roombus::json::encode_snapshot(w.state())));
  CHECK_FALSE(is_binary_snapshot("RBSTATE"));
}

TEST_CASE("A damaged binary snapshot is refused with a text saying what and where",
          "[snapshot][binary]") {
  Scenario s;
  const std::string snapshot = encode_binary_snapshot(s.w.state());
  // One chunk of 3 rooms: its size is the varint after the rooms per chunk (0x80 0x80 0x04).
  REQUIRE(snapshot.substr(21, 4) == std::string("\x03\x80\x80\x04", 4));
  std::size_t rooms_bytes = 0;
  for (std::size_t i = 25, shift = 0;; ++i, shift += 7) {
    const auto b = static_cast<unsigned char>(snapshot[i]);
    rooms_bytes |= static_cast<std::size_t>(b & 0x7f) << shift;
    if (b < 0x80) break;
  }
  REQUIRE((snapshot[25] & 0x7f) != 0);  // so that decrementing that byte makes the size 1 less

  SECTION("another format version") {
    std::string v2 = snapshot;
    v2[8] = 2;
    CHECK(binary_error(v2) == "snapshot: binary format version 2 is not supported (expected 1)");
  }
  SECTION("another magic") {
    std::string other = snapshot;
    other[0] = 'X';
    CHECK(binary_error(other) ==
          "snapshot: not a binary snapshot: it does not start with the magic \"RBSTATE\\0\"");
  }
  SECTION("every truncation") {
    for (std::size_t n = 0; n < snapshot.size(); ++n) {
      auto r = decode_binary_snapshot(std::string_view(snapshot).substr(0, n));
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().code == Errc::invalid_argument);
    }
    CHECK(binary_error(snapshot.substr(0, 12)) ==
          "snapshot: truncated: 12 bytes, shorter than the 20-byte header");
    CHECK(binary_error(snapshot.substr(0, snapshot.size() - 1))
              .find("snapshot: " + std::to_string(rooms_bytes - 1) +
                    " bytes follow the servers at "
                    "offset ") == 0);
  }
  SECTION("bytes after the last room") {
    CHECK(binary_error(snapshot + "x") ==
          "snapshot: " + std::to_string(rooms_bytes + 1) + " bytes follow the servers at offset " +
              std::to_string(snapshot.size() - rooms_bytes) + ", but the room chunks take " +
              std::to_string(rooms_bytes));
  }
  SECTION("counts the payload cannot hold") {
    std::string more = snapshot;
    more[21] = 0x7f;  // the room count (3)
    CHECK(binary_error(more) ==
          "snapshot: room count: a count larger than the rest of the payload can hold at "
          "offset 21");
    more = snapshot;
    more[21] = 4;
    CHECK(binary_error(more).find("snapshot: rooms[3].") == 0);
  }
  SECTION("values out of range") {
    // The last room's flags byte is the one before its version (1 byte).
    std::string flags = snapshot;
    flags[snapshot.size() - 2] = static_cast<char>(0x08);
    CHECK(binary_error(flags) == "snapshot: rooms[2].flags: unknown flag bits at offset " +
                                     std::to_string(snapshot.size() - 2));
    std::string overlong = snapshot;
    overlong.replace(20, 1, std::string(11, '\x80'));
    CHECK(binary_error(overlong) ==
          "snapshot: server count: a number longer than 10 bytes at offset 20");
    std::string sized = snapshot;
    sized[25] = static_cast<char>(sized[25] - 1);
    CHECK(binary_error(sized).find("snapshot: " + std::to_string(rooms_bytes) +
                                   " bytes follow the servers at offset ") == 0);
  }
  SECTION("data State::restore refuses") {
    World w;
    auto srv = w.register_server("meet.example.com", {"alice@x.de"});
    const std::string uid =
        w.create_room(srv.key, "meet.example.com", "alice@x.de", "2021-02-10T13:00Z", "45");
    w.create_room(srv.key, "meet.example.com", "alice@x.de", "2021-02-11T13:00Z", "45");
    std::string twice = encode_binary_snapshot(w.state());
    const std::string second = "00000000000000000000000000000002";
    twice.replace(twice.rfind(second), second.size(), uid);
    CHECK(binary_error(twice) == "snapshot: room '" + uid + "' appears twice");
  }
  SECTION("a damaged chunk among several: the first one's error") {
    const std::string chunked = encode_binary_snapshot(s.w.state(), 1);
    std::string damaged = chunked;
    damaged[damaged.size() - 2] = static_cast<char>(0x08);  // the last room's flags
    CHECK(binary_error(damaged) == "snapshot: rooms[2].flags: unknown flag bits at offset " +
                                       std::to_string(chunked.size() - 2));
    // Sizes that still add up but split the rooms elsewhere (one byte each, at 23, 24 and 25).
    REQUIRE(chunked.substr(20, 3) == "\x03\x03\x01");
    std::string shifted = chunked;
    shifted[23] = static_cast<char>(shifted[23] + 1);
    shifted[24] = static_cast<char>(shifted[24] - 1);
    CHECK(binary_error(shifted).find("snapshot: rooms[0] to [0] end at offset ") == 0);
  }
  SECTION("random corruption never crashes") {
    std::mt19937 random(42);
    std::uniform_int_distribution<std::size_t> where(0, snapshot.size() - 1);
    std::uniform_int_distribution<int> byte(0, 255);
    for (int i = 0; i < 5000; ++i) {
      std::string mutated = snapshot;
      for (int k = 0; k <= i % 3; ++k) mutated[where(random)] = static_cast<char>(byte(random));
      auto r = decode_binary_snapshot(mutated);
      if (!r.ok()) CHECK(r.error().code == Errc::invalid_argument);
    }
    const std::string chunked = encode_binary_snapshot(s.w.state(), 1);
    std::uniform_int_distribution<std::size_t> where_chunked(0, chunked.size() - 1);
    for (int i = 0; i < 2000; ++i) {
      std::string mutated = chunked;
      mutated[where_chunked(random)] = static_cast<char>(byte(random));
      auto r = decode_binary_snapshot(mutated);
      if (!r.ok()) CHECK(r.error().code == Errc::invalid_argument);
    }
  }
}

TEST_CASE("A stored snapshot is decoded by its format marker: binary, or JSON from before",
          "[snapshot][binary]") {
  Scenario s;
  auto from_binary = decode_stored_snapshot(encode_binary_snapshot(s.w.state()));
  REQUIRE(from_binary.ok());
  CHECK(*from_binary == s.w.state());
  auto from_json = decode_stored_snapshot(roombus::json::encode_snapshot(s.w.state()));
  REQUIRE(from_json.ok());
  CHECK(*from_json == s.w.state());
  CHECK(from_json->stages() == s.w.state().stages());

  auto json_error = decode_stored_snapshot("{\"format\":\"roombus.snapshot.v9\"}");
  REQUIRE_FALSE(json_error.ok());
  CHECK(json_error.error().text.find("snapshot: format \"roombus.snapshot.v9\"") == 0);
  for (std::string_view other : {std::string_view(""), std::string_view("RBSTA"),
                                 std::string_view("[]"), std::string_view("\0\0\0", 3)}) {
    auto r = decode_stored_snapshot(other);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().text ==
          "snapshot: unknown format: it starts with neither the binary magic nor '{' (JSON)");
  }
}

// Not run by default: `adapters_tests "[bench]"` prints encode/decode times of both formats for
// 100k rooms (ROOMBUS_BENCH_ROOMS=1000000 for another size).
TEST_CASE("Binary and JSON snapshot encode and decode time", "[.][bench]") {
  struct Clock {  // process CPU time: the machine running this is often shared
    using duration = std::chrono::nanoseconds;
    static duration now() {
      return duration{
          static_cast<std::int64_t>(static_cast<double>(std::clock()) * 1e9 / CLOCKS_PER_SEC)};
    }
  };
  const auto ms = [](Clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
  };
  const char* rooms_env = std::getenv("ROOMBUS_BENCH_ROOMS");
  const int room_total = rooms_env != nullptr ? std::atoi(rooms_env) : 100000;
  std::vector<Server> servers;
  for (int i = 1; i <= 20; ++i) {
    Server s;
    s.id = i;
    s.url = "meet" + std::to_string(i) + ".example.com";
    s.api_key_hash = "sha256-" + std::string(64, static_cast<char>('a' + i % 6));
    s.members = {"alice@x.de"};
    servers.push_back(s);
  }
  std::vector<Room> rooms;
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
    r.participants = {"first.person@example.com"};
    r.server_id = 1 + i % 20;
    r.version = 1;
    rooms.push_back(r);
  }
  auto state = State::restore(room_total + 20, servers, rooms);
  REQUIRE(state.ok());
  const auto time = [&](auto encode, auto decode, const char* name) {
    Clock::duration encode_time = Clock::duration::max();
    Clock::duration decode_time = Clock::duration::max();
    std::string bytes;
    for (int round = 0; round < 3; ++round) {
      const auto t0 = Clock::now();
      bytes = encode(*state);
      const auto t1 = Clock::now();
      auto decoded = decode(bytes);
      const auto t2 = Clock::now();
      REQUIRE(decoded.ok());
      if (round == 0) CHECK(*decoded == *state);
      encode_time = std::min(encode_time, t1 - t0);
      decode_time = std::min(decode_time, t2 - t1);
    }
    std::printf(
        "%s snapshot of %d rooms: %zu bytes (%.0f per room), encode %.1f ms, decode %.1f ms\n",
        name, room_total, bytes.size(), static_cast<double>(bytes.size()) / room_total,
        ms(encode_time), ms(decode_time));
  };
  time([](const State& s) { return encode_binary_snapshot(s); },
       [](std::string_view b) { return decode_binary_snapshot(b); }, "binary");
  time([](const State& s) { return roombus::json::encode_snapshot(s); },
       [](std::string_view b) { return roombus::json::decode_snapshot(b); }, "JSON");
  Clock::duration restore_time = Clock::duration::max();
  for (int round = 0; round < 3; ++round) {
    auto copy_servers = servers;
    auto copy_rooms = rooms;
    const auto t0 = Clock::now();
    auto restored =
        State::restore(state->position(), std::move(copy_servers), std::move(copy_rooms));
    restore_time = std::min(restore_time, Clock::now() - t0);
    REQUIRE(restored.ok());
  }
  std::printf("of which State::restore: %.1f ms\n", ms(restore_time));
}
