// One Redis connection on the io_context (hiredis 0.14 async API): reconnects with backoff, runs
// AUTH and SELECT, and offers commands and pipelines with a deadline on every operation.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "roombus/redis/reply.hpp"
#include "roombus/redis/url.hpp"

struct redisAsyncContext;

namespace roombus::redis {

enum class State {
  connecting,  // an attempt (resolve, connect, AUTH, SELECT) is under way
  up,          // commands are accepted
  down,        // not connected; when started, the next attempt is on a backoff timer
};
std::string_view to_string(State state);

// The result of one connection attempt. `auth_failed` and `bad_database` mean Redis answered and
// refused this configuration: a start-up configuration error (exit 2), unlike `unreachable`,
// which only degrades the service until Redis is back.
struct ConnectOutcome {
  enum class Kind {
    up,
    unreachable,   // name not resolved, connection refused or reset, no answer in time, LOADING
    auth_failed,   // AUTH refused (wrong user or password), or a password is needed (NOAUTH)
    bad_database,  // SELECT refused (database index out of range)
  };
  Kind kind = Kind::unreachable;
  std::string text;  // one line, for logs; never contains the password

  bool ok() const { return kind == Kind::up; }
  bool is_config_error() const { return kind == Kind::auth_failed || kind == Kind::bad_database; }
};

// For /metrics. Plain counters, changed and read on the io thread only.
struct Counters {
  std::uint64_t commands = 0;          // commands written to Redis (handshakes included)
  std::uint64_t errors = 0;            // operations without a reply (not timeouts), error replies
  std::uint64_t timeouts = 0;          // operations whose deadline passed first
  std::uint64_t reconnects = 0;        // connections established after the first one
  std::uint64_t connect_failures = 0;  // attempts that did not reach `up`
};

// Threads: every member runs on the io_context's thread (hiredis contexts are not thread-safe);
// other threads post to it. Create with create(); the object stays alive while its background
// loop or an operation runs. Call stop() before the io_context stops running.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  struct Options {
    std::chrono::milliseconds connect_timeout{2000};  // one attempt, AUTH and SELECT included
    std::chrono::milliseconds initial_backoff{100};   // after a failed attempt, doubling...
    std::chrono::milliseconds max_backoff{5000};      // ...up to this
    std::function<void(std::string_view)> log;        // empty: one line per message to stderr
    std::function<void(State)> on_state_change;       // optional; called on the io thread
  };

  static std::shared_ptr<Connection> create(asio::any_io_executor executor, Url url,
                                            Options options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // One attempt, for start-up: tells a wrong password from an unreachable server. Call it before
  // start(); when it returns `up`, start() keeps that connection.
  asio::awaitable<ConnectOutcome> connect_once(Deadline deadline);
  // Keeps the connection up in the background until stop(): reconnects at once after a drop,
  // then with exponential backoff (initial_backoff doubling to max_backoff).
  void start();
  // Closes the connection (pending operations complete with connection_lost) and ends the
  // background loop. Idempotent.
  void stop();

  State state() const { return state_; }
  bool up() const { return state_ == State::up; }
  // Why the connection is not up (empty while up).
  const std::string& last_error() const { return last_error_; }
  const Counters& counters() const { return counters_; }
  // Grows by one with every established connection: a new value means Redis may have restarted
  // (empty) since a caller last looked.
  std::uint64_t generation() const { return generation_; }
  // How long the oldest command still waiting for its reply has waited (0 when none): a stalled
  // Redis (DEBUG SLEEP, paused, overloaded) shows here before any connection drop.
  std::chrono::steady_clock::duration stalled_for() const;
  const Url& url() const { return url_; }
  const asio::any_io_executor& get_executor() const { return executor_; }

  // One command. Fails at once with not_connected unless up; otherwise completes with its reply
  // (which may be an error reply), connection_lost when the connection drops first, or
  // timed_out at `deadline` (a late reply is dropped).
  asio::awaitable<Outcome> command(Argv argv, Deadline deadline);
  // A pipeline: every command is written at once, in order, and the replies come back together
  // (one per command) or not at all (an error). Commands of one call are never interleaved with
  // other callers' commands, so MULTI ... EXEC inside one call is a transaction.
  asio::awaitable<Replies> exec(std::vector<Argv> commands, Deadline deadline);

 private:
  struct Waiter;
  Connection(asio::any_io_executor executor, Url url, Options options);

  static asio::awaitable<void> maintain(std::shared_ptr<Connection> self);
  asio::awaitable<ConnectOutcome> attempt(Deadline deadline);
  std::shared_ptr<Waiter> issue(const std::vector<Argv>& commands, Deadline deadline);
  asio::awaitable<void> wait(Waiter& waiter);
  void drop_context();
  void set_state(State state, std::string error);
  void log(const std::string& line) const;

  static void on_connect(const redisAsyncContext* ac, int status);
  static void on_disconnect(const redisAsyncContext* ac, int status);
  static void on_reply(redisAsyncContext* ac, void* reply, void* slot);

  asio::any_io_executor executor_;
  Url url_;
  Options options_;
  redisAsyncContext* ac_ = nullptr;  // owned; null while down
  State state_ = State::down;
  std::string last_error_ = "not connected yet";
  std::string context_error_;  // why the current context died, as hiredis said
  std::string logged_error_;   // the last "down" reason logged (each is logged once)
  Counters counters_;
  std::uint64_t generation_ = 0;
  bool started_ = false;
  bool stopped_ = false;
  std::deque<std::chrono::steady_clock::time_point> sent_;  // unanswered commands, oldest first
  asio::steady_timer wake_;  // the background loop sleeps on it; cancelled by drops and stop()
};

}  // namespace roombus::redis
