// `roombus serve --redis` (the real binary) against Debian's redis-server: the index after every
// kind of change made over HTTP, getRooms from Redis (the memory answer byte for byte, read your
// writes), outages, flushes and hand edits repaired, a stalled Redis, and start-up errors.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <charconv>
#include <ctime>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/eventually.hpp"
#include "support/redis_server.hpp"
#include "support/roombus_process.hpp"

using namespace roombus::test;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kAdminToken = "redis-test-admin-token-0123456789";
constexpr std::string_view kMain = "meet.example.com";
constexpr std::string_view kClone = "clone.example.com";

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// A whole minute `minutes` from now, as Unix seconds (the index's score).
std::int64_t minute_from_now(int minutes) {
  const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  return (now / 60 + minutes) * 60;
}

// "YYYY-mm-ddTHH%3AMM%3ASSZ": a start parameter (UTC), percent-encoded for a form body.
std::string start_param(std::int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm utc{};
  ::gmtime_r(&t, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H%%3A%M%%3A%SZ", &utc);
  return text;
}

// roombus serve --redis, on a fresh port, with its data in `data_dir`.
struct Serve : RoombusServe {
  Serve(const std::filesystem::path& data_dir, const std::filesystem::path& log,
        const std::string& redis_url)
      : RoombusServe(data_dir, log, redis_flags(redis_url), kAdminToken) {}

 private:
  static std::vector<std::string> redis_flags(const std::string& redis_url) {
    if (redis_url.empty()) return {};
    return {"--redis", redis_url};
  }
};

// One sample of /metrics, by its exact name and labels; -1 when absent.
double metric(std::uint16_t port, std::string_view sample) {
  HttpConnection c(port);
  auto reply = c.request("GET", "/metrics", {}, "");
  if (!reply) return -1;
  const std::string needle = "\n" + std::string(sample) + " ";
  const auto at = reply->body.find(needle);
  if (at == std::string::npos) return -1;
  return std::stod(reply->body.substr(at + needle.size()));
}

double from_redis(std::uint16_t port) {
  return metric(port, "roombus_get_rooms_answers_total{source=\"redis\"}");
}
double from_memory(std::uint16_t port) {
  return metric(port, "roombus_get_rooms_answers_total{source=\"memory\"}");
}
// Why the index did not answer, for a failure's message.
std::string index_fallbacks(std::uint16_t port) {
  std::string out;
  for (const char* outcome : {"behind", "unavailable", "timeout", "error"}) {
    out += std::string(outcome) + "=" +
           std::to_string(metric(port, std::string("roombus_redis_get_rooms_queries_total{"
                                                   "outcome=\"") +
                                           outcome + "\"}")) +
           " ";
  }
  return out;
}

// The /readyz answer: its status and the "redis" check.
std::pair<int, std::string> redis_check(std::uint16_t port) {
  HttpConnection c(port);
  auto reply = c.request("GET", "/readyz", {}, "");
  if (!reply) return {0, ""};
  const auto at = reply->body.find("\"redis\"");
  if (at == std::string::npos) return {reply->status, ""};
  return {reply->status, json_string_field(reply->body.substr(at), "redis").value_or("")};
}

// What the test knows about the rooms it made: uid -> (server id, start), and which servers are
// deleted. The index must hold exactly the rooms of live servers, in Redis's order.
struct Model {
  std::map<std::string, std::pair<int, std::int64_t>> rooms;
  std::set<int> deleted_servers;

  std::map<std::string, std::vector<std::string>> index() const {
    std::map<std::string, std::vector<std::pair<std::int64_t, std::string>>> sets;
    for (const auto& [uid, room] : rooms) {
      if (deleted_servers.count(room.first) == 0) {
        sets["roombus:upcoming:" + std::to_string(room.first)].emplace_back(room.second, uid);
      }
    }
    std::map<std::string, std::vector<std::string>> out;
    for (auto& [key, members] : sets) {
      std::sort(members.begin(), members.end());
      for (const auto& [score, uid] : members)
        out[key].push_back(uid + " " + std::to_string(score));
    }
    return out;
  }
};

// What Redis holds under roombus:upcoming:*, as Model::index() spells it.
std::map<std::string, std::vector<std::string>> index_in(const RedisServer& redis) {
  std::map<std::string, std::vector<std::string>> out;
  for (const std::string& key : redis.command({"KEYS", "roombus:upcoming:*"}).items) {
    const auto z = redis.command({"ZRANGE", key, "0", "-1", "WITHSCORES"}).items;
    for (std::size_t i = 0; i + 1 < z.size(); i += 2) out[key].push_back(z[i] + " " + z[i + 1]);
  }
  return out;
}

bool index_becomes(const RedisServer& redis, const Model& model,
                   std::chrono::milliseconds limit = 10s) {
  if (eventually([&] { return index_in(redis) == model.index(); }, limit)) return true;
  for (const auto& [key, members] : index_in(redis)) {
    for (const auto& m : members) UNSCOPED_INFO("in Redis: " << key << " " << m);
  }
  for (const auto& [key, members] : model.index()) {
    for (const auto& m : members) UNSCOPED_INFO("expected: " << key << " " << m);
  }
  return false;
}

// The v1 calls the tests make, over one keep-alive connection.
class Client {
 public:
  Client(std::uint16_t port, std::string key) : http_(port), key_(std::move(key)) {}

  std::optional<std::string> create(std::string_view server, std::int64_t start,
                                    int duration = 30) {
    auto r = form("POST", "/api/v1/room",
                  "server=" + std::string(server) + "&email=alice%40x.de&name=Room&start=" +
                      start_param(start) + "&duration=" + std::to_string(duration));
    if (!r || r->status != 200 || contains(r->body, "\"error\":true")) return std::nullopt;
    return json_string_field(r->body, "uid");
  }
  bool ok(std::string_view method, std::string_view path, const std::string& body) {
    auto r = form(method, path, body);
    return r && r->status == 200 && !contains(r->body, "\"error\":true");
  }
  std::optional<Reply> get_rooms(std::string_view query) {
    return http_.request("GET", "/api/v1/server/getRooms?" + std::string(query), {bearer(key_)},
                         "");
  }

 private:
  std::optional<Reply> form(std::string_view method, std::string_view path,
                            const std::string& body) {
    return http_.request(method, path, {bearer(key_)}, body, "application/x-www-form-urlencoded");
  }

  HttpConnection http_;
  std::string key_;
};

// A redis-server, roombus serving with it, and a registered server (id 1, kMain).
struct Setup {
  explicit Setup(std::string password = "") : redis(std::move(password)) {}
  bool start() {
    serve = std::make_unique<Serve>(dir.dir() / "data", dir.dir() / "roombus.log", redis.url());
    if (serve->port == 0) return false;
    key = register_server(serve->port, kAdminToken, kMain);
    if (key.empty()) return false;
    client = std::make_unique<Client>(serve->port, key);
    return true;
  }
  std::string log() const { return serve ? serve->child->output() : ""; }

  RedisServer redis;
  TempDir dir;
  std::unique_ptr<Serve> serve;
  std::string key;
  std::unique_ptr<Client> client;
};

}  // namespace

TEST_CASE("the index in Redis holds the live rooms after every kind of change made over HTTP",
          "[redis][serve]") {
  Setup s;
  REQUIRE(s.start());
  Client& c = *s.client;
  Model model;
  INFO(s.log());

  // A clone shares the key of its prototype: rooms can move between the two.
  HttpConnection http(s.serve->port);
  auto cloned = http.request("POST", "/api/v1/server/create", {bearer(s.key)},
                             "url=" + std::string(kClone) + "&name=Clone",
                             "application/x-www-form-urlencoded");
  REQUIRE(cloned);
  REQUIRE(contains(cloned->body, "\"server_id\":2"));
  CHECK(index_becomes(s.redis, model));  // a clone adds no key (its members are its own: none)

  const std::int64_t hour = minute_from_now(60);
  const auto a = c.create(kMain, hour).value_or("a");
  const auto b = c.create(kMain, hour + 3600).value_or("b");
  const auto ended = c.create(kMain, hour - 4 * 3600).value_or("ended");
  const auto d = c.create(kMain, hour - 1800).value_or("d");
  model.rooms = {
      {a, {1, hour}}, {b, {1, hour + 3600}}, {ended, {1, hour - 4 * 3600}}, {d, {1, hour - 1800}}};
  CHECK(index_becomes(s.redis, model));  // created (ended rooms stay until deleted)

  REQUIRE(c.ok("PUT", "/api/v1/room", "uid=" + a + "&start=" + start_param(hour + 1800)));
  model.rooms[a].second = hour + 1800;
  CHECK(index_becomes(s.redis, model));  // a new start is a new score

  REQUIRE(c.ok("POST", "/api/v1/room/move", "uid=" + b + "&serverId=2"));
  REQUIRE(c.ok("POST", "/api/v1/room/move", "uid=" + d + "&serverId=2"));
  model.rooms[b].first = 2;
  model.rooms[d].first = 2;
  CHECK(index_becomes(s.redis, model));  // moved: out of one set, into the other

  REQUIRE(c.ok("PUT", "/api/v1/room", "uid=" + d + "&server=" + std::string(kMain)));
  model.rooms[d].first = 1;
  CHECK(index_becomes(s.redis, model));  // an update to another server's url moves it too

  REQUIRE(c.ok("POST", "/api/v1/user", "uid=" + a + "&email=bob%40x.de"));
  REQUIRE(c.ok("DELETE", "/api/v1/room", "uid=" + a));
  model.rooms.erase(a);
  CHECK(index_becomes(s.redis, model));  // deleted (the participant changed nothing)

  // A server whose rooms have ended can be deleted; its key goes with it.
  const std::string other_key = register_server(s.serve->port, kAdminToken, "old.example.com");
  REQUIRE_FALSE(other_key.empty());
  const auto old = Client(s.serve->port, other_key).create("old.example.com", hour - 6 * 3600);
  REQUIRE(old);
  model.rooms[*old] = {3, hour - 6 * 3600};
  CHECK(index_becomes(s.redis, model));
  auto removed = http.request("DELETE", "/admin/v1/servers/3", {bearer(kAdminToken)}, "");
  REQUIRE(removed);
  CHECK(removed->status / 100 == 2);
  model.deleted_servers.insert(3);
  CHECK(index_becomes(s.redis, model));
  CHECK(s.redis.command({"EXISTS", "roombus:upcoming:3"}).integer == 0);

  // The cursor in Redis is the index's handled position, once both are read at rest: the writer
  // moves the cursor first, and clock-driven lifecycle events may still arrive.
  CHECK(eventually([&] {
    const auto cursor = s.redis.command({"HGET", "roombus:index", "position"}).text;
    const double handled =
        metric(s.serve->port, "roombus_subscriber_handled_position{subscriber=\"redis_index\"}");
    return cursor == std::to_string(static_cast<long long>(handled));
  }));
  s.serve->child->signal(SIGTERM);
  CHECK(s.serve->child->wait(15s) == 0);
}

TEST_CASE("getRooms from Redis is the memory answer byte for byte, and reads its own writes",
          "[redis][serve]") {
  Setup s;
  REQUIRE(s.start());
  Client& c = *s.client;
  INFO(s.log());
  // Rooms away from the windows' edges, equal starts (Redis orders those by uid, getRooms by
  // room number), a running room and an ended one.
  for (int minutes : {10, 10, 10, 25, 40, 70, 200})
    REQUIRE(c.create(kMain, minute_from_now(minutes)));
  REQUIRE(c.create(kMain, minute_from_now(-20), 60));   // running
  REQUIRE(c.create(kMain, minute_from_now(-120), 30));  // ended
  const std::vector<std::string> queries = {"minutes=60", "minutes=180", "minutes=0",
                                            "minutes=60&includeRunning=1", "minutes=1000"};
  // Every round of questions is answered by the index once it has caught up with the log. The
  // rooms' lifecycle events (room.starting is due at once for the rooms 10 minutes away) are
  // appended by the clock, not by a request, so a round may still meet the index a few
  // milliseconds behind: that round falls back to memory, and the next one is asked.
  std::vector<std::string> redis_bodies;
  // One round of questions; true when every answer came from `source`.
  auto round = [&](double (*answered)(std::uint16_t)) {
    redis_bodies.clear();
    const double before = answered(s.serve->port);
    for (const auto& q : queries) {
      auto r = c.get_rooms(q);
      REQUIRE(r);
      CHECK(r->status == 200);
      redis_bodies.push_back(r->body);
    }
    return answered(s.serve->port) - before == static_cast<double>(queries.size());
  };
  {
    const bool all_from_redis = eventually([&] { return round(from_redis); }, 10s);
    INFO("index queries that fell back: " << index_fallbacks(s.serve->port));
    CHECK(all_from_redis);
  }
  CHECK(contains(redis_bodies[2], "\"room_ids\":[]"));
  CHECK(redis_bodies[3] != redis_bodies[0]);  // the running room

  // The same questions answered from memory: Redis stopped, the answers fall back.
  s.redis.stop();
  REQUIRE(eventually([&] { return redis_check(s.serve->port).second == "down"; }, 10s));
  // Answers rendered from Redis are reused for a second at most; then memory answers them all.
  const std::vector<std::string> from_index = redis_bodies;
  CHECK(eventually([&] { return round(from_memory); }, 10s));
  CHECK(redis_bodies == from_index);

  // Read your writes, once Redis is back: a room just created (or deleted) is in (or out of)
  // the very next answer, whichever source gives it; and Redis answers once it has caught up.
  s.redis.start();
  REQUIRE(eventually([&] { return redis_check(s.serve->port).second == "ok"; }, 10s));
  for (int i = 0; i < 10; ++i) {
    const auto uid = c.create(kMain, minute_from_now(30)).value_or("?");
    auto now = c.get_rooms("minutes=60");
    REQUIRE(now);
    CHECK(contains(now->body, uid));
    const double asked_redis = from_redis(s.serve->port);
    REQUIRE(eventually(
        [&] {
          auto later = c.get_rooms("minutes=61");
          return later && contains(later->body, uid) && from_redis(s.serve->port) > asked_redis;
        },
        10s));
    REQUIRE(c.ok("DELETE", "/api/v1/room", "uid=" + uid));
    auto gone = c.get_rooms("minutes=60");
    REQUIRE(gone);
    CHECK_FALSE(contains(gone->body, uid));
  }
}

TEST_CASE(
    "with Redis stopped mid-test every request answers within its deadline, and the "
    "index comes back when Redis restarts empty",
    "[redis][serve]") {
  Setup s;
  REQUIRE(s.start());
  Client& c = *s.client;
  INFO(s.log());
  Model model;
  auto round = [&](int i, Clock::duration& slowest, int& failures) {
    auto timed = [&](auto call) {
      const auto started = Clock::now();
      const bool ok = call();
      slowest = std::max(slowest, Clock::now() - started);
      failures += ok ? 0 : 1;
    };
    timed([&] {
      const auto start = minute_from_now(30 + i);
      auto uid = c.create(kMain, start);
      if (uid) model.rooms[*uid] = {1, start};
      return uid.has_value();
    });
    timed([&] {
      auto r = c.get_rooms("minutes=" + std::to_string(60 + i % 7));
      return r && r->status == 200 && contains(r->body, "\"success\":true");
    });
  };
  Clock::duration slowest{};
  int failures = 0;
  for (int i = 0; i < 20; ++i) round(i, slowest, failures);
  CHECK(index_becomes(s.redis, model));

  s.redis.stop();
  for (int i = 20; i < 60; ++i) round(i, slowest, failures);
  CHECK(redis_check(s.serve->port) == std::pair<int, std::string>{200, "down"});
  s.redis.start();  // empty: nothing is persisted
  for (int i = 60; i < 80; ++i) round(i, slowest, failures);
  CHECK(failures == 0);
  // The Redis query's deadline is 100 ms and nothing waits for a reconnect; the bound leaves a busy
  // sanitizer build room for its fsyncs.
  CHECK(slowest < 1500ms);

  CHECK(index_becomes(s.redis, model));
  CHECK(eventually([&] { return redis_check(s.serve->port).second == "ok"; }, 10s));
  CHECK(metric(s.serve->port, "roombus_redis_index_rebuilds_total") >= 2);  // first start, restart
}

TEST_CASE("a flushed Redis and members added or removed by hand are repaired", "[redis][serve]") {
  Setup s;
  REQUIRE(s.start());
  Client& c = *s.client;
  INFO(s.log());
  Model model;
  for (int i = 0; i < 5; ++i) {
    const auto start = minute_from_now(20 + i);
    model.rooms[c.create(kMain, start).value_or("?")] = {1, start};
  }
  REQUIRE(index_becomes(s.redis, model));

  s.redis.command({"FLUSHALL"});
  CHECK(index_becomes(s.redis, model));  // the cursor check (every 2 s) finds it
  CHECK(metric(s.serve->port, "roombus_redis_index_repairs_total{check=\"cursor\"}") >= 1);

  // The cursor does not show a member deleted by hand: the count check (every 5 s) does.
  const std::string victim = model.rooms.begin()->first;
  s.redis.command({"ZREM", "roombus:upcoming:1", victim});
  CHECK(index_becomes(s.redis, model, 15s));
  CHECK(metric(s.serve->port, "roombus_redis_index_repairs_total{check=\"count\"}") == 1);

  // A member roombus never issued, found by the query that meets it: memory answers that query
  // (without it), and the index is rebuilt.
  s.redis.command({"ZADD", "roombus:upcoming:1", std::to_string(minute_from_now(22)),
                   "0123456789abcdef0123456789abcdef"});
  auto asked = c.get_rooms("minutes=61");
  REQUIRE(asked);
  CHECK_FALSE(contains(asked->body, "0123456789abcdef0123456789abcdef"));
  CHECK(contains(asked->body, victim));
  CHECK(index_becomes(s.redis, model, 15s));
  CHECK(metric(s.serve->port, "roombus_redis_index_repairs_total{check=\"member\"}") == 1);
}

TEST_CASE("a Redis stalled by DEBUG SLEEP does not stall other requests", "[redis][serve]") {
  Setup s;
  REQUIRE(s.start());
  Client& c = *s.client;
  INFO(s.log());
  for (int i = 0; i < 10; ++i) REQUIRE(c.create(kMain, minute_from_now(20 + i)));
  auto reference = c.get_rooms("minutes=60");
  REQUIRE(reference);

  std::atomic<bool> sleeping{true};
  std::thread sleeper([&] {
    s.redis.command({"DEBUG", "SLEEP", "3"}, 10s);
    sleeping = false;
  });
  // The stall has begun once a PING on another connection goes unanswered.
  REQUIRE(eventually([&] {
    try {
      s.redis.command({"PING"}, 50ms);
      return false;
    } catch (const std::runtime_error&) {
      return true;
    }
  }));
  Clock::duration slowest{};
  int answers = 0;
  int different = 0;
  for (int i = 0; sleeping; ++i) {
    const auto started = Clock::now();
    // A new window each time (up to 210 minutes): no answer reused from the answer cache.
    auto r = c.get_rooms("minutes=" + std::to_string(60 + i % 150));
    slowest = std::max(slowest, Clock::now() - started);
    REQUIRE(r);
    different += r->body == reference->body ? 0 : 1;
    ++answers;
    if (i % 10 == 0) REQUIRE(c.create(kMain, minute_from_now(300)));  // writes too
    std::this_thread::sleep_for(2ms);
  }
  sleeper.join();
  CHECK(answers > 5);
  CHECK(different == 0);    // rooms at +300 minutes are outside every window asked
  CHECK(slowest < 1500ms);  // a bounded wait for Redis, never the 3 s stall
  // The first query waited for its deadline; later ones saw a stalled Redis and did not ask.
  CHECK(
      metric(s.serve->port, "roombus_redis_get_rooms_queries_total{outcome=\"timeout\"}") +
          metric(s.serve->port, "roombus_redis_get_rooms_queries_total{outcome=\"unavailable\"}") >=
      1);
}

TEST_CASE("a Redis that refuses the password or database stops start-up with one line, exit 2",
          "[redis][serve]") {
  RedisServer redis("right-password");
  TempDir dir;
  const std::string port = std::to_string(redis.port());
  const std::vector<std::string> urls = {"redis://:wrong-password@127.0.0.1:" + port + "/0",
                                         "redis://127.0.0.1:" + port + "/0",
                                         "redis://:right-password@127.0.0.1:" + port + "/99"};
  for (const std::string& url : urls) {
    INFO(url);
    Child child({"serve", "--listen", "127.0.0.1:0", "--data-dir", (dir.dir() / "data").string(),
                 "--admin-token", std::string(kAdminToken), "--redis", url},
                dir.dir() / "out.log");
    CHECK(child.wait(20s) == 2);
    const std::string out = child.output();
    INFO(out);
    CHECK(contains(out, "--redis/ROOMBUS_REDIS_URL: "));
    CHECK(std::count(out.begin(), out.end(), '\n') == 1);
    CHECK_FALSE(contains(out, "wrong-password"));
    CHECK_FALSE(contains(out, "right-password"));
    CHECK_FALSE(contains(out, "listening on"));
  }
  Child malformed(
      {"serve", "--data-dir", (dir.dir() / "data").string(), "--redis", "http://127.0.0.1:6379"},
      dir.dir() / "bad.log");
  CHECK(malformed.wait(20s) == 2);
  CHECK(contains(malformed.output(), "--redis/ROOMBUS_REDIS_URL: "));
}

TEST_CASE(
    "an unreachable Redis is a degraded start: ready, redis down, getRooms from memory, "
    "and the index is built once Redis appears",
    "[redis][serve]") {
  Setup s;
  s.redis.stop();  // its port is known and free now
  REQUIRE(s.start());
  Client& c = *s.client;
  INFO(s.log());
  CHECK(redis_check(s.serve->port) == std::pair<int, std::string>{200, "down"});
  Model model;
  const auto start = minute_from_now(15);
  const auto uid = c.create(kMain, start).value_or("?");
  model.rooms[uid] = {1, start};
  auto rooms = c.get_rooms("minutes=60");
  REQUIRE(rooms);
  CHECK(contains(rooms->body, uid));
  CHECK(from_memory(s.serve->port) == 1);

  s.redis.start();
  CHECK(eventually([&] { return redis_check(s.serve->port).second == "ok"; }, 15s));
  CHECK(index_becomes(s.redis, model));
}

TEST_CASE("SIGTERM while Redis is down stops at once; the next start brings the index up to date",
          "[redis][serve]") {
  Setup s;
  REQUIRE(s.start());
  INFO(s.log());
  Model model;
  s.redis.stop();
  for (int i = 0; i < 5; ++i) {
    const auto start = minute_from_now(20 + i);
    model.rooms[s.client->create(kMain, start).value_or("?")] = {1, start};
  }
  const auto asked = Clock::now();
  s.serve->child->signal(SIGTERM);
  CHECK(s.serve->child->wait(15s) == 0);
  // Nothing to wait for (the index is derived data): a Redis that is down gets none of the 2 s
  // the drain gives a Redis that is up.
  CHECK(Clock::now() - asked < 2s);

  s.redis.start();
  Serve again(s.dir.dir() / "data", s.dir.dir() / "again.log", s.redis.url());
  REQUIRE(again.port != 0);
  CHECK(index_becomes(s.redis, model));
  again.child->signal(SIGTERM);
  CHECK(again.child->wait(15s) == 0);
}

TEST_CASE(
    "each server's demand forecast is in roombus:demand:<id>, expiring, rewritten after a "
    "flush",
    "[redis][serve][demand]") {
  Setup s;
  REQUIRE(s.start());
  Client& c = *s.client;
  INFO(s.log());
  REQUIRE(c.create(kMain, minute_from_now(10), 45));
  // The forecast equals the admin API's, and it expires unless roombus refreshes it.
  auto admin = [&] {
    auto r = HttpConnection(s.serve->port)
                 .request("GET", "/admin/v1/servers/1/demand", {bearer(kAdminToken)}, "");
    return r ? r->body : std::string();
  };
  auto in_redis = [&]() -> std::string {
    try {
      return s.redis.command({"GET", "roombus:demand:1"}).text;
    } catch (const std::exception&) {
      return "";  // restarting
    }
  };
  CHECK(eventually([&]() -> bool { return in_redis().find(R"("rooms":1)") != std::string::npos; },
                   10s));
  // Its "at" is when it was made, the admin API makes one now, so only the buckets can be equal
  // (and only once the forecaster has published the buckets of a 5-minute boundary just crossed).
  auto buckets = [](const std::string& json) {
    const auto from = json.find("\"bucket_minutes\"");
    return from == std::string::npos ? json : json.substr(from);
  };
  auto made_at = [](const std::string& json) {
    const auto from = json.find("\"at\":\"");
    return from == std::string::npos ? std::string() : json.substr(from + 6, 20);
  };
  CHECK(eventually([&]() -> bool { return buckets(in_redis()) == buckets(admin()); }, 5s));
  const std::string stored = in_redis();
  CHECK(made_at(stored).size() == 20);
  CHECK(made_at(stored) <= made_at(admin()));  // ISO-8601 UTC: text order is time order
  const auto ttl = s.redis.command({"TTL", "roombus:demand:1"}).integer;
  CHECK(ttl > 800);
  CHECK(ttl <= 900);
  // Redis loses everything: the next connection check writes it again.
  s.redis.stop();
  s.redis.start();
  CHECK(eventually([&]() -> bool { return in_redis().find("buckets") != std::string::npos; }, 15s));
  CHECK(eventually([&]() -> bool { return buckets(in_redis()) == buckets(admin()); }, 5s));
  CHECK(metric(s.serve->port, "roombus_redis_demand_rewrites_total") >= 2);
}
