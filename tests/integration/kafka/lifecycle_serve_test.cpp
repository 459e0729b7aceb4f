// `roombus serve --kafka-brokers` (the real binary) against librdkafka's mock cluster: room
// lifecycle events on room-events in order and exactly once across a SIGKILL, and demand
// forecasts on server-demand that agree with the admin API.
#include <rapidjson/document.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "roombus/core/time.hpp"
#include "support/kafka_serve.hpp"

using namespace roombus::test;
using namespace std::chrono_literals;
using roombus::core::Instant;

namespace {

using Clock = std::chrono::steady_clock;
using Wall = std::chrono::system_clock;

constexpr std::string_view kAdminToken = kKafkaAdminToken;
const std::string kRoomEvents = "roombus.room-events";
const std::string kDemand = "roombus.server-demand";

Instant wall_now() { return std::chrono::floor<std::chrono::seconds>(Wall::now()); }

void sleep_until(Instant t) { std::this_thread::sleep_until(Wall::time_point(t)); }

std::string form(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == ':' || c == '+' || c == '@' || c == ' ') {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", static_cast<unsigned char>(c));
      out += hex;
    } else {
      out += c;
    }
  }
  return out;
}

// v1 room/create on meet.example.com by alice@x.de; returns the uid ("" on failure).
std::string create_room(HttpConnection& c, const std::string& key, Instant start, int minutes) {
  auto reply = c.request("POST", "/api/v1/room", {bearer(key)},
                         "server=meet.example.com&email=" + form("alice@x.de") +
                             "&name=Room&start=" + form(roombus::core::format_iso_utc(start)) +
                             "&duration=" + std::to_string(minutes),
                         "application/x-www-form-urlencoded");
  if (!reply || reply->status != 200) return "";
  return json_string_field(reply->body, "uid").value_or("");
}

bool v1(HttpConnection& c, const std::string& method, const std::string& target,
        const std::string& key, const std::string& body = "") {
  auto reply = c.request(method, target, {bearer(key)}, body,
                         body.empty() ? "" : "application/x-www-form-urlencoded");
  return reply && reply->status == 200 && reply->body.find("\"error\":false") != std::string::npos;
}

rapidjson::Document parse(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  return doc;
}

// A lifecycle record of room-events, read back.
struct Fact {
  std::string type;  // "room.started", ...
  std::string uid;
  std::string ce_id;
  Instant due{};
  std::int64_t late = 0;
  std::int64_t timestamp_ms = 0;  // when the producer made the record
};

Instant iso(const rapidjson::Value& v) {
  const std::string text(v.GetString(), v.GetStringLength());
  auto parsed = roombus::core::parse_start(text);
  return roombus::core::instant_from_utc_fields(parsed->local);
}

// Every record of room-events, by room uid, in topic order (one room: one partition).
std::map<std::string, std::vector<std::string>> types_by_room(
    const std::vector<ConsumedRecord>& records) {
  std::map<std::string, std::vector<std::string>> out;
  std::set<std::string> seen;
  for (const auto& r : records) {
    if (!seen.insert(r.header("ce_id")).second) continue;  // a re-delivery
    auto doc = parse(r.value);
    out[r.key].push_back(doc["type"].GetString());
  }
  return out;
}

std::vector<Fact> facts(const std::vector<ConsumedRecord>& records) {
  std::vector<Fact> out;
  for (const auto& r : records) {
    auto doc = parse(r.value);
    if (!doc.HasMember("due")) continue;
    out.push_back({doc["type"].GetString(), r.key, r.header("ce_id"), iso(doc["due"]),
                   doc["late_seconds"].GetInt64(), r.timestamp_ms});
  }
  return out;
}

}  // namespace

TEST_CASE("rooms get starting, started and ended on room-events in order, once, on time",
          "[kafka][lifecycle]") {
  Cluster cluster;
  TempDir temp;
  Serve serve(cluster, temp.dir() / "data", temp.dir() / "out.log",
              {"--starting-soon-minutes", "1"});
  REQUIRE(serve.port != 0);
  const std::string key = register_server(serve.port, kAdminToken);
  REQUIRE_FALSE(key.empty());
  HttpConnection c(serve.port);
  const Instant t0 = wall_now() + 2s;
  // Inside the lead at once: starting with the create; started in 5 s; ended a minute later.
  const std::string a = create_room(c, key, t0 + 5s, 1);
  // starting from a Tick at t0+5s (a minute before its start); started and ended at t0+65s.
  const std::string b = create_room(c, key, t0 + 65s, 0);
  // Deleted before anything fell due: nothing.
  const std::string deleted = create_room(c, key, t0 + 90s, 1);
  REQUIRE(v1(c, "DELETE", "/api/v1/room?uid=" + deleted, key));
  // A new start inside the lead: a second cycle, starting again at once.
  const std::string moved = create_room(c, key, t0 + 30s, 0);
  REQUIRE(v1(c, "PUT", "/api/v1/room", key,
             "uid=" + moved + "&start=" + form(roombus::core::format_iso_utc(t0 + 40s))));
  REQUIRE_FALSE(a.empty());
  REQUIRE_FALSE(b.empty());

  TopicReader reader(cluster.mock.bootstraps(), {kRoomEvents});
  // created x4, deleted, updated; a: 3 facts, b: 3, moved: starting x2, started, ended.
  const auto& records = reader.read_until(16, 120s);
  REQUIRE(records.size() == 16);
  reader.read_for(1500ms);
  CHECK(records.size() == 16);

  auto types = types_by_room(records);
  CHECK(types[a] ==
        std::vector<std::string>{"room.created", "room.starting", "room.started", "room.ended"});
  CHECK(types[b] ==
        std::vector<std::string>{"room.created", "room.starting", "room.started", "room.ended"});
  CHECK(types[deleted] == std::vector<std::string>{"room.created", "room.deleted"});
  CHECK(types[moved] == std::vector<std::string>{"room.created", "room.starting", "room.updated",
                                                 "room.starting", "room.started", "room.ended"});
  std::set<std::string> ids;
  for (const auto& r : records) ids.insert(r.header("ce_id"));
  CHECK(ids.size() == 16);

  std::map<std::pair<std::string, std::string>, Instant> due;
  for (const Fact& f : facts(records)) {
    INFO(f.type << " " << f.uid << " late " << f.late);
    CHECK(f.late <= 1);
    // Published within three seconds of falling due (ASan, and a CI machine running two tests
    // at once); the at-once starting facts fell due at their create, before t0.
    if (f.due > t0) {
      CHECK(f.timestamp_ms -
                std::chrono::duration_cast<std::chrono::milliseconds>(f.due.time_since_epoch())
                    .count() <
            3000);
    }
    due[{f.uid, f.type}] = f.due;
  }
  CHECK(due[{a, "room.started"}] == t0 + 5s);
  CHECK(due[{a, "room.ended"}] == t0 + 65s);
  CHECK(due[{b, "room.starting"}] == t0 + 5s);
  CHECK(due[{b, "room.started"}] == t0 + 65s);
  CHECK(due[{b, "room.ended"}] == t0 + 65s);
  CHECK(due[{moved, "room.started"}] == t0 + 40s);
  for (const auto& r : records) {
    auto doc = parse(r.value);
    const std::string type = doc["type"].GetString();
    if (doc.HasMember("due")) CHECK(r.header("ce_type") == "roombus." + type + ".v1");
  }
}

TEST_CASE("SIGKILL just before a start and a restart just after: one started per room, one ce_id",
          "[kafka][lifecycle]") {
  Cluster cluster;
  TempDir temp;
  std::string early;
  std::vector<std::string> rooms;
  const Instant t0 = wall_now() + 2s;
  {
    Serve first(cluster, temp.dir() / "data", temp.dir() / "first.log");
    REQUIRE(first.port != 0);
    const std::string key = register_server(first.port, kAdminToken);
    REQUIRE_FALSE(key.empty());
    HttpConnection c(first.port);
    early = create_room(c, key, t0, 0);  // starts (and ends) before the kill
    for (int i = 0; i < 5; ++i) rooms.push_back(create_room(c, key, t0 + 8s, 1));
    REQUIRE_FALSE(early.empty());
    TopicReader reader(cluster.mock.bootstraps(), {kRoomEvents});
    bool started = false;
    while (!started && wall_now() < t0 + 6s) {
      for (const Fact& f : facts(reader.read_for(100ms))) {
        started = started || (f.uid == early && f.type == "room.started");
      }
    }
    REQUIRE(started);
    REQUIRE(wall_now() < t0 + 7s);  // the others have not started yet
    first.child->signal(SIGKILL);
    REQUIRE(first.child->wait(10s) == 128 + SIGKILL);
  }
  sleep_until(t0 + 10s);
  Serve second(cluster, temp.dir() / "data", temp.dir() / "second.log");
  REQUIRE(second.port != 0);

  TopicReader reader(cluster.mock.bootstraps(), {kRoomEvents});
  // early: created, starting, started, ended; each other room: created, starting, started.
  const std::size_t expected = 4 + 5 * 3;
  std::set<std::string> ids;
  for (auto until = Clock::now() + 30s; ids.size() < expected && Clock::now() < until;) {
    for (const auto& r : reader.read_for(200ms)) ids.insert(r.header("ce_id"));
  }
  reader.read_for(1500ms);  // whatever was sent twice arrives too
  const auto& records = reader.read_for(1ms);
  ids.clear();
  std::map<std::string, std::string> value_of;
  for (const auto& r : records) {
    auto [it, fresh] = value_of.emplace(r.header("ce_id"), r.value);
    CHECK((fresh || it->second == r.value));  // a ce_id seen twice is the same event
    ids.insert(r.header("ce_id"));
  }
  CHECK(ids.size() == expected);

  std::map<std::string, std::set<std::string>> started_ids;
  std::map<std::string, std::int64_t> late;
  for (const Fact& f : facts(records)) {
    if (f.type != "room.started") continue;
    started_ids[f.uid].insert(f.ce_id);
    late[f.uid] = f.late;
  }
  CHECK(started_ids[early].size() == 1);
  CHECK(late[early] <= 1);
  for (const auto& uid : rooms) {
    INFO(uid);
    CHECK(started_ids[uid].size() == 1);
    CHECK(late[uid] >= 1);  // fell due while roombus was down
    CHECK(late[uid] <= 10);
  }
}

namespace {

struct Bucket {
  std::string start;
  std::int64_t rooms = 0;
  std::int64_t participants = 0;
  friend bool operator==(const Bucket&, const Bucket&) = default;
};

std::vector<Bucket> buckets_of(const std::string& json) {
  std::vector<Bucket> out;
  auto doc = parse(json);
  if (!doc.IsObject() || !doc.HasMember("buckets")) return out;
  for (const auto& b : doc["buckets"].GetArray()) {
    out.push_back({b["start"].GetString(), b["rooms"].GetInt64(), b["participants"].GetInt64()});
  }
  return out;
}

// Only the buckets with rooms, for short expectations.
std::vector<Bucket> busy(const std::vector<Bucket>& all) {
  std::vector<Bucket> out;
  for (const Bucket& b : all) {
    if (b.rooms != 0) out.push_back(b);
  }
  return out;
}

struct DemandWatch {
  explicit DemandWatch(const Cluster& cluster) : reader(cluster.mock.bootstraps(), {kDemand}) {}

  // The newest record of a server (by key) once `ok` accepts it; nullptr after 15 s.
  template <class Ok>
  const ConsumedRecord* latest(const std::string& server, Ok ok) {
    for (auto until = Clock::now() + 15s; Clock::now() < until;) {
      const auto& all = reader.read_for(100ms);
      const ConsumedRecord* last = nullptr;
      for (const auto& r : all) {
        if (r.key == server) last = &r;
      }
      if (last != nullptr && ok(*last)) return last;
    }
    return nullptr;
  }
  const ConsumedRecord* with_busy(const std::string& server, const std::vector<Bucket>& expected) {
    return latest(server, [&](const ConsumedRecord& r) {
      return !r.value.empty() && busy(buckets_of(r.value)) == expected;
    });
  }
  TopicReader reader;
};

std::string admin_demand(std::uint16_t port, int server, int* status = nullptr) {
  HttpConnection c(port);
  auto reply = c.request("GET", "/admin/v1/servers/" + std::to_string(server) + "/demand",
                         {bearer(kAdminToken)}, "");
  if (status != nullptr) *status = reply ? reply->status : 0;
  return reply ? reply->body : "";
}

// The admin endpoint and the topic's newest record of the server come to agree on every bucket
// (both are read again while they differ: a 5-minute boundary may pass in between, and the
// roll-over publishes a new record).
bool agrees(std::uint16_t port, int server, DemandWatch& watch) {
  return eventually(
      [&] {
        const ConsumedRecord* newest =
            watch.latest(std::to_string(server), [](const ConsumedRecord&) { return true; });
        if (newest == nullptr) return false;
        const auto topic = buckets_of(newest->value);
        return topic.size() == 24 && topic == buckets_of(admin_demand(port, server));
      },
      20s);
}

}  // namespace

TEST_CASE("demand records follow rooms added, moved and deleted, and agree with the admin API",
          "[kafka][demand]") {
  Cluster cluster;
  TempDir temp;
  Serve serve(cluster, temp.dir() / "data", temp.dir() / "out.log");
  REQUIRE(serve.port != 0);
  const std::string key = register_server(serve.port, kAdminToken);  // server 1, clone allowed
  REQUIRE_FALSE(key.empty());
  HttpConnection c(serve.port);
  auto cloned = c.request("POST", "/api/v1/server/create", {bearer(key)},
                          "url=clone.example.com&name=Clone", "application/x-www-form-urlencoded");
  REQUIRE(cloned);
  REQUIRE(cloned->body.find("\"server_id\":2") != std::string::npos);

  DemandWatch watch(cluster);
  const auto* first = watch.with_busy("1", {});
  REQUIRE(first != nullptr);
  CHECK(first->header("ce_type") == "roombus.server.demand.v1");
  CHECK(first->header("ce_subject") == "server:1");
  auto doc = parse(first->value);
  CHECK(doc["server_id"].GetInt64() == 1);
  CHECK(doc["bucket_minutes"].GetInt64() == 5);
  const std::string ce_id = first->header("ce_id");
  CHECK(ce_id.substr(ce_id.find("-demand-")) ==
        "-demand-1-" + std::to_string(iso(doc["at"]).time_since_epoch().count()));
  CHECK(agrees(serve.port, 1, watch));
  REQUIRE(watch.with_busy("2", {}) != nullptr);

  // Half an hour after the current 5-minute bucket: inside the 2-hour horizon.
  const Instant now = wall_now();
  const Instant slot = now - now.time_since_epoch() % std::chrono::minutes(5) + 30min;
  const std::string s0 = roombus::core::format_iso_utc(slot);
  const std::string s1 = roombus::core::format_iso_utc(slot + 5min);
  const std::string r1 = create_room(c, key, slot, 10);
  REQUIRE(v1(c, "POST", "/api/v1/user", key, "uid=" + r1 + "&email=" + form("bob@y.de")));
  const auto* added = watch.with_busy("1", {{s0, 1, 2}, {s1, 1, 2}});
  REQUIRE(added != nullptr);
  CHECK(agrees(serve.port, 1, watch));

  const std::string r2 = create_room(c, key, slot, 5);
  REQUIRE(watch.with_busy("1", {{s0, 2, 3}, {s1, 1, 2}}) != nullptr);

  REQUIRE(v1(c, "POST", "/api/v1/room/move/" + r1, key, "serverId=2"));
  const auto* left = watch.with_busy("1", {{s0, 1, 1}});
  REQUIRE(left != nullptr);
  CHECK(agrees(serve.port, 1, watch));
  const auto* arrived = watch.with_busy("2", {{s0, 1, 2}, {s1, 1, 2}});
  REQUIRE(arrived != nullptr);
  CHECK(agrees(serve.port, 2, watch));

  REQUIRE(v1(c, "DELETE", "/api/v1/room?uid=" + r2, key));
  REQUIRE(watch.with_busy("1", {}) != nullptr);

  // A deleted server's forecast leaves the compacted topic (a tombstone) and the admin API.
  REQUIRE(v1(c, "DELETE", "/api/v1/room?uid=" + r1, key));
  REQUIRE(watch.with_busy("2", {}) != nullptr);
  auto removed = c.request("DELETE", "/admin/v1/servers/2", {bearer(kAdminToken)}, "");
  REQUIRE(removed);
  REQUIRE(removed->status == 204);
  const auto* tombstone =
      watch.latest("2", [](const ConsumedRecord& r) { return r.value.empty(); });
  REQUIRE(tombstone != nullptr);
  CHECK(tombstone->header("ce_type") == "roombus.server.demand.v1");
  int status = 0;
  admin_demand(serve.port, 2, &status);
  CHECK(status == 404);
  admin_demand(serve.port, 99, &status);
  CHECK(status == 404);

  // Every record has a ce_id of its own: at most one forecast per server and second.
  std::set<std::string> ids;
  const auto& all = watch.reader.read_for(1ms);
  for (const auto& r : all) ids.insert(r.header("ce_id"));
  CHECK(ids.size() == all.size());
}
