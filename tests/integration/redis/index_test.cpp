// The upcoming-room index writer against a real redis-server, fed the core's own events: index
// contents after every kind of change, the cursor, stale and foreign indexes, outages; and the
// read side.
#include <algorithm>
#include <asio/executor_work_guard.hpp>
#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "integration/redis/redis_test_support.hpp"
#include "roombus/redis/upcoming_index.hpp"
#include "support/core_fakes.hpp"
#include "support/eventually.hpp"
#include "support/redis_server.hpp"

namespace {

using namespace roombus;
using namespace roombus::test;
using redis::IndexWriter;

const std::string alice = "alice@example.com";
const std::string shared_key = "shared-key-0123456789";

asio::awaitable<bool> is_up(std::shared_ptr<redis::Connection> conn) { co_return conn->up(); }

// The core driven by fakes, a redis-server, and a Connection whose io_context runs on a thread
// of its own, as in the service; the test thread plays the subscription thread.
class IndexFixture {
 public:
  IndexFixture() {
    redis::Connection::Options options;
    options.log = [](std::string_view) {};
    conn = redis::Connection::create(io.get_executor(), redis::parse_url(server.url()), options);
    if (!run_on(io, conn->connect_once(in(2s))).ok()) throw std::runtime_error("no redis");
    conn->start();
    runner = std::thread([this] { io.run(); });
  }
  ~IndexFixture() {
    asio::post(io, [c = conn] { c->stop(); });
    guard.reset();
    runner.join();
  }

  std::unique_ptr<IndexWriter> writer(const std::string& log_id = "log-1",
                                      IndexWriter::Options options = {}) {
    options.log = [this](std::string_view line) { logged.emplace_back(line); };
    return std::make_unique<IndexWriter>(
        conn, log_id, [this] { return head(); }, options);
  }
  std::int64_t head() const { return world.state().position(); }

  // One server with one room, indexed by a writer that resumed and was fed: the common start.
  std::unique_ptr<IndexWriter> indexed(const std::string& log_id = "log-1",
                                       IndexWriter::Options options = {}) {
    register_server("a.example.com");
    create_room("a.example.com", "2021-02-10T13:00");
    auto w = writer(log_id, std::move(options));
    w->resume_position();
    feed(*w);
    return w;
  }

  // Asks the connection's state on its io thread until it is up again.
  bool wait_until_up() {
    return eventually([this] { return on_io_thread<bool>(io, [this] { return is_up(conn); }); });
  }

  // Delivers every event after the writer's handled position, as the subscription helper does.
  void feed(IndexWriter& w) {
    std::vector<const core::Event*> events;
    for (const core::Event& e : world.listener.seen) {
      if (e.position > w.handled_position()) events.push_back(&e);
    }
    if (!events.empty()) w.deliver(events);
  }

  // What the index must hold: every live room of every live server, as "uid score" lines in
  // Redis's order (score, then uid).
  std::map<std::string, std::vector<std::string>> expected() const {
    std::map<std::string, std::vector<std::pair<std::int64_t, std::string>>> rooms;
    for (const core::Room* r : world.state().rooms_in_order()) {
      const core::Server* s = world.state().server(r->server_id);
      if (r->deleted || s->deleted) continue;
      rooms[redis::upcoming_key(r->server_id)].emplace_back(r->start.time_since_epoch().count(),
                                                            r->uid);
    }
    std::map<std::string, std::vector<std::string>> out;
    for (auto& [key, list] : rooms) {
      std::sort(list.begin(), list.end());
      for (const auto& [score, uid] : list) out[key].push_back(uid + " " + std::to_string(score));
    }
    return out;
  }

  // What the index holds.
  std::map<std::string, std::vector<std::string>> actual() const {
    std::map<std::string, std::vector<std::string>> out;
    for (const std::string& key : server.command({"KEYS", "roombus:upcoming:*"}).items) {
      const auto z = server.command({"ZRANGE", key, "0", "-1", "WITHSCORES"}).items;
      for (std::size_t i = 0; i + 1 < z.size(); i += 2) out[key].push_back(z[i] + " " + z[i + 1]);
    }
    return out;
  }

  std::map<std::string, std::string> cursor() const {
    const auto items = server.command({"HGETALL", "roombus:index"}).items;
    std::map<std::string, std::string> out;
    for (std::size_t i = 0; i + 1 < items.size(); i += 2) out[items[i]] = items[i + 1];
    return out;
  }

  std::map<std::string, std::string> cursor_at(std::int64_t position,
                                               const std::string& log_id = "log-1") const {
    return {{"position", std::to_string(position)}, {"log_id", log_id}, {"layout", "1"}};
  }

  core::ServerId register_server(const std::string& url, bool allow_clone = false) {
    core::RegisterServer c;
    c.url = url;
    c.name = url;
    c.members = {alice};
    c.allow_clone = allow_clone;
    c.api_key = shared_key;
    auto r = world.run(c);
    if (!r) throw std::runtime_error(r.error().text);
    return *r->reply.server_id;
  }

  std::string create_room(const std::string& url, const std::string& start,
                          const std::string& duration = "60") {
    return world.create_room(shared_key, url, alice, start, duration);
  }

  void must(const core::Command& command) {
    auto r = world.run(command);
    if (!r) throw std::runtime_error(r.error().text);
  }

  RedisServer server;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
  std::shared_ptr<redis::Connection> conn;
  std::thread runner;
  testing::World world;
  std::vector<std::string> logged;
};

std::int64_t unix_seconds(core::Instant t) { return t.time_since_epoch().count(); }

}  // namespace

TEST_CASE_METHOD(IndexFixture, "The index follows every kind of room and server change",
                 "[redis][index]") {
  auto w = writer();
  REQUIRE(w->resume_position() == 0);
  CHECK(cursor() == cursor_at(0));

  const auto a = register_server("a.example.com", true);
  const auto b = register_server("b.example.com");
  const std::string r1 = create_room("a.example.com", "2021-02-10T13:00");
  const std::string r2 = create_room("a.example.com", "2021-02-10T09:00");
  feed(*w);
  const auto rooms_a = actual()[redis::upcoming_key(a)];
  CHECK(rooms_a ==
        std::vector<std::string>{r2 + " " + std::to_string(unix_seconds(world.room(r2).start)),
                                 r1 + " " + std::to_string(unix_seconds(world.room(r1).start))});
  CHECK(actual() == expected());
  CHECK(cursor() == cursor_at(head()));
  CHECK(w->handled_position() == head());

  SECTION("an update of the start moves the score") {
    must(core::UpdateRoom{shared_key, r1, std::nullopt, std::nullopt, "2021-02-11T08:30",
                          std::nullopt});
    feed(*w);
    CHECK(server.command({"ZSCORE", redis::upcoming_key(a), r1}).text ==
          std::to_string(unix_seconds(world.room(r1).start)));
    CHECK(actual() == expected());
  }
  SECTION("an update to another server's url moves the room between keys") {
    must(core::UpdateRoom{shared_key, r1, "b.example.com", std::nullopt, std::nullopt,
                          std::nullopt});
    feed(*w);
    CHECK(server.command({"ZSCORE", redis::upcoming_key(a), r1}).nil);
    CHECK_FALSE(server.command({"ZSCORE", redis::upcoming_key(b), r1}).nil);
    CHECK(actual() == expected());
  }
  SECTION("a move leaves the old server's key and joins the new one's") {
    must(core::MoveRoom{shared_key, r2, b});
    feed(*w);
    CHECK(actual()[redis::upcoming_key(a)] ==
          std::vector<std::string>{r1 + " " + std::to_string(unix_seconds(world.room(r1).start))});
    CHECK(actual()[redis::upcoming_key(b)].size() == 1);
    CHECK(actual() == expected());
  }
  SECTION("a deleted room leaves the index, and an empty key disappears") {
    must(core::DeleteRoom{shared_key, r1});
    must(core::DeleteRoom{shared_key, r2});
    feed(*w);
    CHECK(server.command({"EXISTS", redis::upcoming_key(a)}).integer == 0);
    CHECK(actual().empty());
    CHECK(actual() == expected());
  }
  SECTION("participant changes leave the index as it was, but move the cursor") {
    const auto before = actual();
    must(core::AddParticipant{shared_key, r1, "bob@example.com"});
    must(core::RemoveParticipant{shared_key, r1, "bob@example.com"});
    feed(*w);
    CHECK(actual() == before);
    CHECK(cursor() == cursor_at(head()));
  }
  SECTION("a clone gets a key only when a room arrives on it") {
    must(core::CloneServer{shared_key, "c.example.com", "Clone", "app", "secret"});
    feed(*w);
    const core::ServerId c = world.state().servers().rbegin()->first;
    CHECK(server.command({"EXISTS", redis::upcoming_key(c)}).integer == 0);
    must(core::MoveRoom{shared_key, r1, c});
    feed(*w);
    CHECK(actual()[redis::upcoming_key(c)].size() == 1);
    CHECK(actual() == expected());
  }
  SECTION("a deleted server's key is dropped with the ended rooms it still held") {
    const std::string old = create_room("b.example.com", "2021-02-02T13:05", "30");
    feed(*w);
    REQUIRE(server.command({"ZCARD", redis::upcoming_key(b)}).integer == 1);
    world.clock.set(testing::at(2021, 2, 3));  // the room has ended
    must(core::DeleteServer{b});
    feed(*w);
    CHECK(server.command({"EXISTS", redis::upcoming_key(b)}).integer == 0);
    CHECK_FALSE(world.state().room(old)->deleted);  // the room itself was not deleted
    CHECK(actual() == expected());
  }
  SECTION("ended rooms stay until deleted, as in memory") {
    world.clock.set(testing::at(2021, 3, 1));
    must(core::AddParticipant{shared_key, r1, "bob@example.com"});
    feed(*w);
    CHECK(actual()[redis::upcoming_key(a)].size() == 2);
  }
  CHECK(cursor() == cursor_at(head()));
  CHECK(w->handled_position() == head());
}

TEST_CASE_METHOD(IndexFixture, "A delivery is one round trip of bounded MULTI/EXEC transactions",
                 "[redis][index]") {
  IndexWriter::Options options;
  options.events_per_transaction = 3;
  auto w = writer("log-1", options);
  w->resume_position();
  register_server("a.example.com");
  for (int i = 0; i < 6; ++i)
    create_room("a.example.com", "2021-02-10T1" + std::to_string(i) + ":00");
  REQUIRE(head() == 7);
  auto exec_calls = [this] {
    const std::string info = server.command({"INFO", "commandstats"}).text;
    const auto at = info.find("cmdstat_exec:calls=");
    return at == std::string::npos ? 0 : std::stoi(info.substr(at + 19));
  };
  const int before = exec_calls();
  feed(*w);
  CHECK(exec_calls() - before == 3);  // 7 events: 3 + 3 + 1
  CHECK(actual() == expected());
  CHECK(cursor() == cursor_at(7));
}

TEST_CASE_METHOD(IndexFixture, "A trusted cursor resumes where it stopped and touches nothing",
                 "[redis][index]") {
  auto first = indexed();
  const auto written = head();
  create_room("a.example.com", "2021-02-10T15:00");
  REQUIRE(logged.size() == 1);  // the first start found no index: "no cursor (new or flushed)"
  CHECK_THAT(logged.front(), Catch::Contains("no cursor"));
  logged.clear();

  auto second = writer();  // a restart of the same log
  CHECK(second->resume_position() == written);
  CHECK(second->wipes() == 0);
  CHECK(second->handled_position() == written);
  feed(*second);
  CHECK(actual() == expected());
  CHECK(cursor() == cursor_at(head()));
  CHECK(logged.empty());
}

TEST_CASE_METHOD(IndexFixture, "An index of another log is wiped (index keys only) and rebuilt",
                 "[redis][index]") {
  auto theirs = indexed("log-of-someone-else");
  // More index keys than one SCAN page, and keys that are not the index's.
  server.command({"EVAL",
                  "for i = 1, 2500 do redis.call('ZADD', 'roombus:upcoming:' .. (1000 + i), 1, "
                  "'x') end",
                  "0"});
  server.command({"SET", "unrelated", "kept"});
  server.command({"SET", "roombus:demand:1", "{}"});

  auto ours = writer("log-1");
  CHECK(ours->resume_position() == 0);
  CHECK(ours->wipes() == 1);
  CHECK(server.command({"KEYS", "roombus:upcoming:*"}).items.empty());
  CHECK(server.command({"GET", "unrelated"}).text == "kept");
  CHECK(server.command({"EXISTS", "roombus:demand:1"}).integer == 1);
  CHECK(cursor() == cursor_at(0));
  REQUIRE_FALSE(logged.empty());
  CHECK_THAT(logged.back(), Catch::Contains("another event log"));

  feed(*ours);
  CHECK(actual() == expected());
  CHECK(cursor() == cursor_at(head()));
}

TEST_CASE_METHOD(IndexFixture, "A cursor beyond the log's head is stale", "[redis][index]") {
  auto w = indexed();
  server.command({"HSET", "roombus:index", "position", std::to_string(head() + 5)});

  auto restarted = writer();
  CHECK(restarted->resume_position() == 0);
  CHECK_THAT(logged.back(), Catch::Contains("beyond the log's head"));
  CHECK(actual().empty());
  feed(*restarted);
  CHECK(actual() == expected());
}

TEST_CASE_METHOD(IndexFixture, "After FLUSHALL the next delivery fails and the index is rebuilt",
                 "[redis][index]") {
  auto w = indexed();
  server.command({"FLUSHALL"});
  create_room("a.example.com", "2021-02-10T14:00");

  CHECK_THROWS_WITH(feed(*w), Catch::Contains("cursor moved"));
  CHECK(w->handled_position() == head() - 1);  // the failed delivery does not count

  SECTION("the same writer resumes from 0") {
    CHECK(w->resume_position() == 0);
    feed(*w);
  }
  SECTION("after a crash, the cursor left without a log stamp is still stale") {
    const auto left = cursor();
    CHECK(left.count("position") == 1);
    CHECK(left.count("log_id") == 0);
    w = writer();
    CHECK(w->resume_position() == 0);
    CHECK_THAT(logged.back(), Catch::Contains("no log stamp"));
    feed(*w);
  }
  CHECK(actual() == expected());
  CHECK(cursor() == cursor_at(head()));
}

TEST_CASE_METHOD(IndexFixture, "A hand-edited cursor is caught by the next delivery",
                 "[redis][index]") {
  auto w = indexed();
  server.command({"HSET", "roombus:index", "position", "1"});  // still <= head: looks valid
  create_room("a.example.com", "2021-02-10T14:00");
  CHECK_THROWS(feed(*w));
  CHECK(w->resume_position() == 0);
  feed(*w);
  CHECK(actual() == expected());
}

TEST_CASE_METHOD(IndexFixture,
                 "With Redis down, writer calls fail within their deadline and "
                 "the index is rebuilt once Redis is back (empty)",
                 "[redis][index]") {
  IndexWriter::Options options;
  options.timeout = 300ms;
  auto w = indexed("log-1", options);

  server.stop();
  create_room("a.example.com", "2021-02-10T14:00");
  const auto start = Clock::now();
  CHECK_THROWS(feed(*w));
  CHECK_THROWS(w->resume_position());
  CHECK(Clock::now() - start < 5s);  // two deadlines of 300 ms, not the connection's retries

  server.start();
  std::int64_t resumed = -1;
  CHECK(eventually([&] {  // the helper's retry
    try {
      resumed = w->resume_position();
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }));
  CHECK(resumed == 0);
  feed(*w);
  CHECK(actual() == expected());
  CHECK(cursor() == cursor_at(head()));
}

namespace {

asio::awaitable<redis::RoomUids> window(std::shared_ptr<redis::Connection> conn,
                                        core::ServerId server, std::int64_t from, std::int64_t to) {
  co_return co_await redis::rooms_starting(std::move(conn), server, from, to, in(1s));
}

}  // namespace

TEST_CASE_METHOD(IndexFixture, "rooms_starting answers a server's rooms in a start window",
                 "[redis][index]") {
  const auto a = register_server("a.example.com");
  const auto b = register_server("b.example.com");
  const std::string late = create_room("a.example.com", "2021-02-10T15:00");
  const std::string early = create_room("a.example.com", "2021-02-10T09:00");
  const std::string mid = create_room("a.example.com", "2021-02-10T12:00");
  create_room("b.example.com", "2021-02-10T12:00");
  auto w = writer();
  w->resume_position();
  feed(*w);
  const auto start_of = [this](const std::string& uid) {
    return unix_seconds(world.room(uid).start);
  };
  auto query = [this](core::ServerId s, std::int64_t from, std::int64_t to) {
    return on_io_thread<redis::RoomUids>(io,
                                         [this, s, from, to] { return window(conn, s, from, to); });
  };

  const auto all = query(a, 0, start_of(late));
  REQUIRE(all.ok());
  CHECK(all.uids == std::vector<std::string>{early, mid, late});  // by start
  CHECK(query(a, start_of(early) + 1, start_of(late) - 1).uids == std::vector<std::string>{mid});
  CHECK(query(a, start_of(mid), start_of(mid)).uids == std::vector<std::string>{mid});  // inclusive
  CHECK(query(b, 0, start_of(late)).uids.size() == 1);
  CHECK(query(99, 0, start_of(late)).uids.empty());

  server.command({"SET", redis::upcoming_key(7), "not a sorted set"});
  const auto broken = query(7, 0, 1);
  CHECK_FALSE(broken.ok());
  CHECK_THAT(broken.text, Catch::Contains("WRONGTYPE"));

  server.stop();
  const auto asked = Clock::now();
  const auto down = query(a, 0, start_of(late));
  // Refused at once, not timed out at its 1 s deadline (the error says which; the bound only
  // catches a hang).
  CHECK((down.error == redis::Error::not_connected || down.error == redis::Error::connection_lost));
  CHECK(Clock::now() - asked < 10s);
}

namespace {

asio::awaitable<redis::RoomUids> required(std::shared_ptr<redis::Connection> conn,
                                          core::ServerId server, std::string log_id,
                                          std::int64_t min_position) {
  std::optional<redis::IndexRequirement> requirement =
      redis::IndexRequirement{std::move(log_id), min_position};
  co_return co_await redis::rooms_starting(std::move(conn), server, 0, 1LL << 40, in(1s),
                                           std::move(requirement));
}

}  // namespace

TEST_CASE_METHOD(IndexFixture,
                 "a reader's requirement refuses an index that is behind, foreign or flushed",
                 "[redis][index]") {
  auto w = indexed();
  const std::int64_t head = this->head();
  auto query = [this](std::string log_id, std::int64_t min_position) {
    return on_io_thread<redis::RoomUids>(
        io, [this, log_id, min_position] { return required(conn, 1, log_id, min_position); });
  };
  const auto met = query("log-1", head);
  REQUIRE(met.ok());
  CHECK_FALSE(met.behind);
  CHECK(met.uids.size() == 1);

  const auto ahead = query("log-1", head + 1);  // an event the index has not written yet
  CHECK(ahead.behind);
  CHECK_FALSE(ahead.ok());
  CHECK(ahead.uids.empty());
  CHECK_THAT(ahead.text, Catch::Contains("not yet at " + std::to_string(head + 1)));

  CHECK(query("log-2", head).behind);  // built from another log

  server.command({"FLUSHALL"});  // an empty index must not read as "no rooms"
  const auto flushed = query("log-1", head);
  CHECK(flushed.behind);
  CHECK(flushed.uids.empty());
}

namespace {

asio::awaitable<bool> stale(IndexWriter* writer) { co_return co_await writer->check_stale(in(1s)); }

}  // namespace

TEST_CASE_METHOD(IndexFixture, "An idle writer finds out that Redis lost its index",
                 "[redis][index]") {
  auto w = indexed();
  auto check = [&] { return on_io_thread<bool>(io, [&w] { return stale(w.get()); }); };
  CHECK_FALSE(check());

  SECTION("flushed") { server.command({"FLUSHALL"}); }
  SECTION("restarted empty") {
    server.stop();
    CHECK_FALSE(check());  // cannot tell while Redis is down
    server.start();
    REQUIRE(wait_until_up());
  }
  SECTION("cursor edited") { server.command({"HSET", "roombus:index", "log_id", "other"}); }

  CHECK(check());
  CHECK(w->resume_position() == 0);  // the helper's answer to a stale index
  feed(*w);
  CHECK(actual() == expected());
  CHECK_FALSE(check());
}

TEST_CASE_METHOD(IndexFixture, "an interrupted writer stops waiting for the io thread at once",
                 "[redis][index]") {
  IndexWriter::Options options;
  options.timeout = 120s;  // its own bound, far beyond what the check below allows
  auto w = indexed("log-1", options);
  // The io thread is busy elsewhere: a call waits for it until interrupted, not until its bound.
  std::promise<void> release;
  asio::post(io, [gate = release.get_future().share()] { gate.wait(); });
  std::thread interrupter([&w] {
    std::this_thread::sleep_for(200ms);
    w->interrupt();
  });
  const auto started = Clock::now();
  CHECK_THROWS_WITH(w->resume_position(), Catch::Contains("interrupted"));
  CHECK(Clock::now() - started < 60s);  // not the call's own bound
  interrupter.join();
  release.set_value();
  CHECK_THROWS_WITH(w->resume_position(), Catch::Contains("interrupted"));  // and stays so
}
