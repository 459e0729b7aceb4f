// The hiredis adapter against a real redis-server: commands, pipelines, deadlines, outages,
// authentication and reconnects.
#include "roombus/redis/connection.hpp"

#include <algorithm>
#include <asio/ip/tcp.hpp>
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "integration/redis/redis_test_support.hpp"
#include "support/eventually.hpp"
#include "support/redis_server.hpp"

namespace {

using namespace roombus;
using namespace roombus::test;
using redis::Argv;
using redis::Connection;
using redis::ConnectOutcome;
using redis::Error;
using redis::Reply;
using redis::State;

Connection::Options quiet() {
  Connection::Options options;
  options.log = [](std::string_view) {};
  return options;
}

std::shared_ptr<Connection> connect(asio::io_context& io, const std::string& url,
                                    Connection::Options options = quiet()) {
  auto conn = Connection::create(io.get_executor(), redis::parse_url(url), std::move(options));
  const ConnectOutcome outcome = run_on(io, conn->connect_once(in(2s)));
  if (!outcome.ok()) throw std::runtime_error(outcome.text);
  return conn;
}

redis::Outcome command(asio::io_context& io, Connection& conn, Argv argv,
                       std::chrono::milliseconds timeout = 2s) {
  return run_on(io, conn.command(std::move(argv), in(timeout)));
}

}  // namespace

TEST_CASE("Commands round-trip and their replies are copied out whole", "[redis][connection]") {
  RedisServer server;
  asio::io_context io;
  auto conn = connect(io, server.url());
  CHECK(conn->state() == State::up);
  CHECK(conn->last_error().empty());

  CHECK(command(io, *conn, {"SET", "greeting", std::string("hi\0there", 8)}).reply.str == "OK");
  const auto got = command(io, *conn, {"GET", "greeting"});
  REQUIRE(got.ok());
  CHECK(got.reply.type == Reply::Type::string);
  CHECK(got.reply.str == std::string("hi\0there", 8));  // binary-safe both ways
  CHECK(command(io, *conn, {"GET", "missing"}).reply.is_nil());
  CHECK(command(io, *conn, {"INCRBY", "n", "41"}).reply.integer == 41);
  command(io, *conn, {"RPUSH", "list", "a", "b"});
  const auto list = command(io, *conn, {"LRANGE", "list", "0", "-1"});
  REQUIRE(list.reply.type == Reply::Type::array);
  CHECK(list.reply.elements ==
        std::vector<Reply>{{Reply::Type::string, "a", 0, {}}, {Reply::Type::string, "b", 0, {}}});
  const auto refused = command(io, *conn, {"LPUSH", "greeting", "x"});
  CHECK(refused.ok());  // an error reply is a reply, not a failed operation
  CHECK(refused.reply.is_error());
  CHECK_THAT(refused.reply.str, Catch::StartsWith("WRONGTYPE"));
  CHECK(conn->counters().errors == 1);
  conn->stop();
}

TEST_CASE("A pipeline writes every command at once and returns the replies in order",
          "[redis][connection]") {
  RedisServer server;
  asio::io_context io;
  auto conn = connect(io, server.url());
  const auto before = conn->counters().commands;

  std::vector<Argv> commands;
  for (int i = 0; i < 200; ++i) commands.push_back(Argv{"INCR", "counter"});
  commands.push_back(Argv{"HSET", "counter", "f", "v"});  // refused: wrong type
  commands.push_back(Argv{"GET", "counter"});
  const redis::Replies replies = run_on(io, conn->exec(std::move(commands), in(2s)));
  REQUIRE(replies.ok());
  REQUIRE(replies.replies.size() == 202);
  for (int i = 0; i < 200; ++i)
    CHECK(replies.replies[static_cast<std::size_t>(i)].integer == i + 1);
  CHECK(replies.replies[200].is_error());
  CHECK(replies.replies[201].str == "200");
  CHECK(redis::describe(replies).starts_with("Redis answered: WRONGTYPE"));
  CHECK(conn->counters().commands == before + 202);

  // MULTI ... EXEC inside one pipeline is a transaction: one EXEC reply holding every result.
  std::vector<Argv> transaction{{"MULTI"}, {"SET", "a", "1"}, {"INCR", "a"}, {"EXEC"}};
  const auto tx = run_on(io, conn->exec(std::move(transaction), in(2s)));
  REQUIRE(tx.ok());
  REQUIRE(tx.replies[3].type == Reply::Type::array);
  CHECK(tx.replies[3].elements[1].integer == 2);
  conn->stop();
}

TEST_CASE("An operation fails at its own deadline while Redis is stalled, not when Redis wakes",
          "[redis][connection]") {
  RedisServer server;
  asio::io_context io;
  auto conn = connect(io, server.url());
  command(io, *conn, {"SET", "k1", "one"});
  command(io, *conn, {"SET", "k2", "two"});

  // DEBUG SLEEP on a second connection stalls the whole (single-threaded) server for 3 s.
  std::thread sleeper([&server] { server.command({"DEBUG", "SLEEP", "3"}, 10s); });
  // The stall has begun once a PING on a third connection goes unanswered.
  REQUIRE(eventually([&server] {
    try {
      server.command({"PING"}, 50ms);
      return false;
    } catch (const std::runtime_error&) {
      return true;
    }
  }));
  const auto start = Clock::now();
  const auto late = command(io, *conn, {"GET", "k1"}, 100ms);
  const auto waited = Clock::now() - start;
  const auto stalled = conn->stalled_for();
  sleeper.join();

  CHECK(late.error == Error::timed_out);
  CHECK(waited >= 95ms);
  CHECK(waited < 2000ms);  // the stall lasts about 3000 ms more
  // The command was sent a moment after its deadline was set (the io_context had to run first),
  // so at the deadline it has waited a little less than 100 ms: the stall shows, and keeps
  // growing while the reply is missing (this io_context does not run until the next command).
  CHECK(stalled > 0ms);
  CHECK(eventually([&conn] { return conn->stalled_for() >= 100ms; }));
  CHECK(conn->counters().timeouts == 1);
  CHECK(conn->up());  // a stall is not a drop

  // The late reply to GET k1 is dropped: the next command gets its own reply.
  const auto next = command(io, *conn, {"GET", "k2"});
  REQUIRE(next.ok());
  CHECK(next.reply.str == "two");
  CHECK(conn->stalled_for() == Clock::duration::zero());
  conn->stop();
}

namespace {

asio::awaitable<redis::Outcome> blocking_pop(std::shared_ptr<Connection> conn) {
  Argv blpop{"BLPOP", "never-filled", "30"};
  co_return co_await conn->command(std::move(blpop), in(20s));
}

// A started connection with a BLPOP waiting on the server (its deadline is 20 s away).
std::future<redis::Outcome> start_with_pending_pop(asio::io_context& io,
                                                   std::shared_ptr<Connection> conn) {
  conn->start();
  auto pending = asio::co_spawn(io, blocking_pop(conn), asio::use_future);
  if (!run_until(
          io, [&] { return conn->stalled_for() > 50ms; }, 2s)) {
    throw std::runtime_error("BLPOP did not start");
  }
  return pending;
}

}  // namespace

TEST_CASE("Redis stopping fails pending operations at once, and the connection comes back",
          "[redis][connection]") {
  RedisServer server;
  asio::io_context io;
  auto conn = connect(io, server.url());
  auto pending = start_with_pending_pop(io, conn);
  server.stop();
  const auto stopped = Clock::now();
  REQUIRE(run_until(
      io, [&] { return pending.wait_for(0s) == std::future_status::ready; }, kPatience));
  CHECK(Clock::now() - stopped < 10s);  // not its 20 s deadline, not BLPOP's 30 s
  CHECK(pending.get().error == Error::connection_lost);
  REQUIRE(run_until(
      io, [&] { return !conn->up(); }, kPatience));
  CHECK_THAT(conn->last_error(), Catch::Contains("connection lost"));

  // While down, commands fail at once (not_connected) instead of waiting for their deadline
  // (timed_out).
  CHECK(command(io, *conn, {"PING"}, 5s).error == Error::not_connected);

  server.start();  // same port, empty
  REQUIRE(run_until(
      io, [&] { return conn->up(); }, kPatience));
  CHECK(conn->counters().reconnects == 1);
  CHECK(conn->generation() == 2);
  CHECK(command(io, *conn, {"PING"}).reply.str == "PONG");
  conn->stop();
  CHECK(conn->state() == State::down);
}

TEST_CASE("A wrong password is an authentication failure, not an unreachable server",
          "[redis][connection]") {
  RedisServer server("s3cret-pw");
  asio::io_context io;
  auto attempt = [&](const std::string& url) {
    auto conn = Connection::create(io.get_executor(), redis::parse_url(url), quiet());
    const ConnectOutcome outcome = run_on(io, conn->connect_once(in(2s)));
    conn->stop();
    return outcome;
  };
  const std::string at = "127.0.0.1:" + std::to_string(server.port());

  const auto wrong = attempt("redis://:not-it@" + at);
  CHECK(wrong.kind == ConnectOutcome::Kind::auth_failed);
  CHECK(wrong.is_config_error());
  CHECK_THAT(wrong.text, Catch::Contains("WRONGPASS"));
  CHECK_THAT(wrong.text, !Catch::Contains("not-it"));

  const auto wrong_user = attempt("redis://nobody:s3cret-pw@" + at);
  CHECK(wrong_user.kind == ConnectOutcome::Kind::auth_failed);

  const auto missing = attempt("redis://" + at);
  CHECK(missing.kind == ConnectOutcome::Kind::auth_failed);
  CHECK_THAT(missing.text, Catch::Contains("NOAUTH"));

  const auto right = attempt(server.url(3));
  CHECK(right.ok());
  CHECK(attempt("redis://default:s3cret-pw@" + at).ok());  // ACL form: user and password

  const auto bad_db = attempt("redis://:s3cret-pw@" + at + "/4000");
  CHECK(bad_db.kind == ConnectOutcome::Kind::bad_database);
  CHECK(bad_db.is_config_error());
}

TEST_CASE("SELECT puts the connection on the URL's database", "[redis][connection]") {
  RedisServer server;
  asio::io_context io;
  auto conn = connect(io, server.url(5));
  command(io, *conn, {"SET", "where", "db5"});
  CHECK(server.command({"EXISTS", "where"}).integer == 0);     // the client's db 0
  CHECK(server.command({"MOVE", "where", "0"}).integer == 0);  // MOVE from db 0: not there
  const auto in_db5 = command(io, *conn, {"GET", "where"});
  CHECK(in_db5.reply.str == "db5");
  conn->stop();
}

TEST_CASE("A host name is resolved off the io thread (localhost)", "[redis][connection]") {
  RedisServer server;
  asio::io_context io;
  auto conn = connect(io, "redis://localhost:" + std::to_string(server.port()));
  CHECK(command(io, *conn, {"PING"}).reply.str == "PONG");
  conn->stop();
}

TEST_CASE("An unreachable Redis is down, unreachable, and retried in the background",
          "[redis][connection]") {
  asio::io_context io;
  // A port bound and never listened on refuses connections, and nothing else (another test
  // running at the same time) can take it meanwhile.
  asio::ip::tcp::socket holder(io);
  holder.open(asio::ip::tcp::v4());
  holder.bind({asio::ip::make_address("127.0.0.1"), 0});
  const std::uint16_t port = holder.local_endpoint().port();
  std::vector<std::string> logged;
  auto options = quiet();
  options.log = [&logged](std::string_view line) { logged.emplace_back(line); };
  std::vector<State> changes;
  options.on_state_change = [&changes](State s) { changes.push_back(s); };
  auto conn = Connection::create(
      io.get_executor(), redis::parse_url("redis://127.0.0.1:" + std::to_string(port)), options);
  const ConnectOutcome first = run_on(io, conn->connect_once(in(2s)));
  CHECK(first.kind == ConnectOutcome::Kind::unreachable);  // refused, not timed out
  CHECK_FALSE(first.is_config_error());
  CHECK_THAT(first.text, Catch::Contains("refused"));
  CHECK(conn->state() == State::down);

  const auto started = Clock::now();
  conn->start();
  // Retried in the background: three more attempts come...
  REQUIRE(run_until(
      io, [&] { return conn->counters().connect_failures >= 4; }, kPatience));
  // ...no sooner than the backoff allows (100 + 200 ms before the third retry; timers never
  // fire early), so not dozens.
  CHECK(Clock::now() - started >= 300ms);
  CHECK(conn->state() != State::up);
  CHECK_THAT(conn->last_error(), Catch::Contains("refused"));
  CHECK(logged.size() == 1);  // one "down" line, not one per retry
  CHECK(std::count(changes.begin(), changes.end(), State::connecting) >= 4);
  // Refused at once (not_connected), not timed out at its 5 s deadline.
  CHECK(command(io, *conn, {"PING"}, 5s).error == Error::not_connected);
  conn->stop();
  // The loop ends and releases the connection.
  CHECK(run_until(
      io, [&] { return conn.use_count() == 1; }, kPatience));
}

TEST_CASE("stop() fails pending operations and ends the reconnect loop", "[redis][connection]") {
  RedisServer server;
  asio::io_context io;
  auto conn = connect(io, server.url());
  auto pending = start_with_pending_pop(io, conn);
  conn->stop();
  REQUIRE(run_until(
      io, [&] { return pending.wait_for(0s) == std::future_status::ready; }, kPatience));
  CHECK(pending.get().error == Error::connection_lost);
  // Nothing of the background loop holds it any more, once the loop has seen the stop.
  CHECK(run_until(
      io, [&] { return conn.use_count() == 1; }, kPatience));
  CHECK(command(io, *conn, {"PING"}).error == Error::not_connected);
}
