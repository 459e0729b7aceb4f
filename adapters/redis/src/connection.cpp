// Connection: the connect/AUTH/SELECT handshake, background reconnects with backoff, and
// commands and pipelines whose deadline is a timer inside the operation.
#include "roombus/redis/connection.hpp"

#include <arpa/inet.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_awaitable.hpp>
#include <exception>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <utility>

#include "socket_hooks.hpp"

namespace roombus::redis {
namespace {

using Clock = std::chrono::steady_clock;
using Kind = ConnectOutcome::Kind;
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

Reply copy_reply(const redisReply& r) {
  Reply out;
  switch (r.type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::string;
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::status;
      break;
    case REDIS_REPLY_ERROR:
      out.type = Reply::Type::error;
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::integer;
      out.integer = r.integer;
      return out;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::array;
      out.elements.reserve(r.elements);
      for (std::size_t i = 0; i < r.elements; ++i)
        out.elements.push_back(copy_reply(*r.element[i]));
      return out;
    default:
      return out;  // nil
  }
  if (r.str != nullptr) out.str.assign(r.str, r.len);
  return out;
}

bool is_address(const std::string& host) {
  unsigned char buffer[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

bool starts_with(const Reply& r, std::string_view prefix) {
  return r.is_error() && std::string_view(r.str).starts_with(prefix);
}

struct Resolved {
  std::string address;
  std::string error;
};

// Name resolution on Asio's resolver thread. The deadline is a timer of our own: a cancelled
// getaddrinfo still runs to its end, and its late answer is dropped. IPv4 is preferred, since a
// Redis bound to 127.0.0.1 refuses connections on ::1.
asio::awaitable<Resolved> resolve(asio::any_io_executor executor, std::string host,
                                  std::uint16_t port, Deadline deadline) {
  struct Lookup {
    Lookup(const asio::any_io_executor& ex, Deadline d) : resolver(ex), timer(ex, d) {}
    asio::ip::tcp::resolver resolver;
    asio::steady_timer timer;
    std::optional<Resolved> result;
  };
  auto lookup = std::make_shared<Lookup>(executor, deadline);
  lookup->resolver.async_resolve(
      host, std::to_string(port),
      [lookup](std::error_code ec, const asio::ip::tcp::resolver::results_type& results) {
        if (lookup->result) return;
        if (ec || results.empty()) {
          lookup->result = Resolved{{}, ec ? ec.message() : "no address"};
        } else {
          auto chosen = std::find_if(results.begin(), results.end(),
                                     [](const auto& e) { return e.endpoint().address().is_v4(); });
          if (chosen == results.end()) chosen = results.begin();
          lookup->result = Resolved{chosen->endpoint().address().to_string(), {}};
        }
        lookup->timer.cancel();
      });
  if (!lookup->result) co_await lookup->timer.async_wait(use_tuple);
  if (!lookup->result) {
    lookup->result = Resolved{{}, "no answer before the deadline"};
    lookup->resolver.cancel();
  }
  co_return *lookup->result;
}

}  // namespace

std::string_view to_string(State state) {
  switch (state) {
    case State::connecting:
      return "connecting";
    case State::up:
      return "up";
    case State::down:
      return "down";
  }
  return "down";
}

// One operation in flight: the replies collected so far and the timer that is its deadline.
// Whichever comes first, the last reply, a dropped connection or the timer, completes it.
struct Connection::Waiter {
  struct Slot {  // hiredis's privdata for one command; owned by hiredis until its callback
    std::shared_ptr<Waiter> waiter;
    std::size_t index;
  };

  Waiter(const asio::any_io_executor& executor, Deadline deadline, std::size_t n)
      : timer(executor, deadline), replies(n), outstanding(n) {}

  void finish(std::error_code ec) {
    if (done) return;
    done = true;
    error = ec;
    timer.cancel();  // resumes the waiting coroutine through the executor, not from here
  }

  asio::steady_timer timer;
  std::vector<Reply> replies;
  std::size_t outstanding;
  std::error_code error;
  bool done = false;
};

std::shared_ptr<Connection> Connection::create(asio::any_io_executor executor, Url url,
                                               Options options) {
  return std::shared_ptr<Connection>(
      new Connection(std::move(executor), std::move(url), std::move(options)));
}

Connection::Connection(asio::any_io_executor executor, Url url, Options options)
    : executor_(std::move(executor)),
      url_(std::move(url)),
      options_(std::move(options)),
      wake_(executor_) {}

Connection::~Connection() {
  stopped_ = true;
  drop_context();
}

void Connection::log(const std::string& line) const {
  if (options_.log) {
    options_.log(line);
  } else {
    std::cerr << line << '\n';
  }
}

void Connection::set_state(State state, std::string error) {
  if (state == state_ && error == last_error_) return;
  const State before = state_;
  state_ = state;
  if (state == State::up) {
    log("redis " + url_.redacted() + ": up");
    logged_error_.clear();
  } else if (state == State::down && error != logged_error_) {
    // Logged once per distinct reason, not once per retry.
    log("redis " + url_.redacted() + ": down: " + error);
    logged_error_ = error;
  }
  last_error_ = std::move(error);
  if (before != state && options_.on_state_change) options_.on_state_change(state);
}

std::chrono::steady_clock::duration Connection::stalled_for() const {
  if (sent_.empty()) return Clock::duration::zero();
  return Clock::now() - sent_.front();
}

void Connection::start() {
  if (started_ || stopped_) return;
  started_ = true;
  auto report = [log = options_.log, url = url_.redacted()](std::exception_ptr e) {
    if (!e) return;
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      what = ex.what();
    } catch (...) {
    }
    const std::string line = "redis " + url + ": reconnect loop failed: " + what;
    if (log) {
      log(line);
    } else {
      std::cerr << line << '\n';
    }
  };
  asio::co_spawn(executor_, maintain(shared_from_this()), std::move(report));
}

void Connection::stop() {
  if (stopped_) return;
  stopped_ = true;
  wake_.cancel();
  drop_context();
  set_state(State::down, "stopped");
}

asio::awaitable<void> Connection::maintain(std::shared_ptr<Connection> self) {
  auto backoff = self->options_.initial_backoff;
  while (!self->stopped_) {
    if (self->state_ == State::up) {
      self->wake_.expires_at(Clock::time_point::max());
      co_await self->wake_.async_wait(use_tuple);  // until a drop or stop()
      backoff = self->options_.initial_backoff;    // after a drop, the first retry is at once
      continue;
    }
    const Deadline deadline = Clock::now() + self->options_.connect_timeout;
    const ConnectOutcome outcome = co_await self->attempt(deadline);
    if (outcome.ok() || self->stopped_) continue;
    self->wake_.expires_after(backoff);
    co_await self->wake_.async_wait(use_tuple);
    backoff = std::min(backoff * 2, self->options_.max_backoff);
  }
}

asio::awaitable<ConnectOutcome> Connection::connect_once(Deadline deadline) {
  auto self = shared_from_this();
  if (state_ == State::up) co_return ConnectOutcome{Kind::up, "connected to " + url_.redacted()};
  if (started_) throw std::logic_error("redis: connect_once() is for before start()");
  co_return co_await attempt(deadline);
}

asio::awaitable<ConnectOutcome> Connection::attempt(Deadline deadline) {
  auto self = shared_from_this();
  set_state(State::connecting, last_error_);
  auto fail = [this](Kind kind, const std::string& why) {
    ++counters_.connect_failures;
    drop_context();
    set_state(State::down, why);
    return ConnectOutcome{kind, "Redis at " + url_.redacted() + ": " + why};
  };

  std::string address = url_.host;
  if (!is_address(address)) {
    const Resolved resolved = co_await resolve(executor_, url_.host, url_.port, deadline);
    if (!resolved.error.empty()) {
      co_return fail(Kind::unreachable, "cannot resolve " + url_.host + ": " + resolved.error);
    }
    address = resolved.address;
  }
  if (stopped_) co_return fail(Kind::unreachable, "stopped");

  redisAsyncContext* ac = redisAsyncConnect(address.c_str(), url_.port);
  if (ac == nullptr) co_return fail(Kind::unreachable, "out of memory");
  if (ac->err != 0) {
    const std::string why = ac->c.errstr;
    redisAsyncFree(ac);
    co_return fail(Kind::unreachable, why);
  }
  ac->data = this;
  SocketHooks::attach(executor_, ac);
  redisAsyncSetConnectCallback(ac, &Connection::on_connect);
  redisAsyncSetDisconnectCallback(ac, &Connection::on_disconnect);
  ac_ = ac;
  context_error_.clear();
  sent_.clear();

  // One round trip: AUTH, SELECT and a PING (which also makes hiredis notice the connect).
  std::vector<Argv> hello;
  if (url_.has_password) {
    hello.push_back(url_.user.empty() ? Argv{"AUTH", url_.password}
                                      : Argv{"AUTH", url_.user, url_.password});
  }
  if (url_.db != 0) hello.push_back(Argv{"SELECT", std::to_string(url_.db)});
  hello.push_back(Argv{"PING"});
  auto waiter = issue(hello, deadline);
  co_await wait(*waiter);
  if (stopped_) co_return fail(Kind::unreachable, "stopped");
  if (waiter->error) {
    const std::string why = waiter->error == Error::timed_out
                                ? "no answer within the connect timeout"
                            : context_error_.empty() ? waiter->error.message()
                                                     : context_error_;
    co_return fail(Kind::unreachable, why);
  }
  std::size_t i = 0;
  if (url_.has_password) {
    const Reply& auth = waiter->replies[i++];
    if (starts_with(auth, "LOADING")) co_return fail(Kind::unreachable, auth.str);
    if (auth.is_error()) co_return fail(Kind::auth_failed, "credentials refused: " + auth.str);
  }
  for (; i < waiter->replies.size(); ++i) {
    const Reply& r = waiter->replies[i];
    if (!r.is_error()) continue;
    if (starts_with(r, "NOAUTH")) {
      co_return fail(Kind::auth_failed, "a password is required (" + r.str + ")");
    }
    const bool select = url_.db != 0 && i + 1 < waiter->replies.size();
    if (select && !starts_with(r, "LOADING")) {
      co_return fail(Kind::bad_database,
                     "database " + std::to_string(url_.db) + " refused: " + r.str);
    }
    co_return fail(Kind::unreachable, "not ready: " + r.str);
  }
  if (ac_ == nullptr) co_return fail(Kind::unreachable, context_error_);  // dropped meanwhile
  if (++generation_ > 1) ++counters_.reconnects;
  set_state(State::up, {});
  co_return ConnectOutcome{Kind::up, "connected to " + url_.redacted()};
}

std::shared_ptr<Connection::Waiter> Connection::issue(const std::vector<Argv>& commands,
                                                      Deadline deadline) {
  auto waiter = std::make_shared<Waiter>(executor_, deadline, commands.size());
  if (commands.empty()) waiter->finish({});
  std::vector<const char*> pointers;
  std::vector<std::size_t> lengths;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    pointers.clear();
    lengths.clear();
    for (const std::string& arg : commands[i]) {
      pointers.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    auto slot = std::make_unique<Waiter::Slot>(Waiter::Slot{waiter, i});
    if (ac_ == nullptr || redisAsyncCommandArgv(ac_, &Connection::on_reply, slot.get(),
                                                static_cast<int>(pointers.size()), pointers.data(),
                                                lengths.data()) != REDIS_OK) {
      // Commands written before this one still get their callbacks, which find `done` set.
      waiter->finish(make_error_code(i == 0 ? Error::not_connected : Error::connection_lost));
      break;
    }
    slot.release();  // hiredis hands it back to on_reply
    ++counters_.commands;
    sent_.push_back(Clock::now());
  }
  return waiter;
}

asio::awaitable<void> Connection::wait(Waiter& waiter) {
  if (!waiter.done) co_await waiter.timer.async_wait(use_tuple);
  if (!waiter.done) {
    waiter.finish(make_error_code(Error::timed_out));
    ++counters_.timeouts;
  } else if (waiter.error) {
    ++counters_.errors;
  } else {
    counters_.errors += static_cast<std::uint64_t>(std::count_if(
        waiter.replies.begin(), waiter.replies.end(), [](const Reply& r) { return r.is_error(); }));
  }
}

asio::awaitable<Replies> Connection::exec(std::vector<Argv> commands, Deadline deadline) {
  auto self = shared_from_this();
  if (state_ != State::up) {
    ++counters_.errors;
    co_return Replies{make_error_code(Error::not_connected), {}};
  }
  auto waiter = issue(commands, deadline);
  co_await wait(*waiter);
  Replies out{waiter->error, {}};
  if (!out.error) out.replies = std::move(waiter->replies);
  co_return out;
}

asio::awaitable<Outcome> Connection::command(Argv argv, Deadline deadline) {
  std::vector<Argv> one;
  one.push_back(std::move(argv));
  Replies replies = co_await exec(std::move(one), deadline);
  Outcome out{replies.error, {}};
  if (replies.ok()) out.reply = std::move(replies.replies.front());
  co_return out;
}

void Connection::drop_context() {
  if (ac_ == nullptr) return;
  redisAsyncContext* ac = ac_;
  ac_ = nullptr;
  sent_.clear();
  ac->data = nullptr;  // its callbacks, run during the free, no longer concern this object
  redisAsyncFree(ac);  // pending commands' callbacks get a null reply: connection_lost
}

void Connection::on_connect(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<Connection*>(ac->data);
  if (self == nullptr || status == REDIS_OK || ac != self->ac_) return;
  // hiredis frees the context right after this callback, without a disconnect callback.
  self->context_error_ = ac->c.errstr[0] != '\0' ? ac->c.errstr : "connect failed";
  self->ac_ = nullptr;
  self->sent_.clear();
}

void Connection::on_disconnect(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<Connection*>(ac->data);
  if (self == nullptr || ac != self->ac_) return;
  // hiredis frees the context right after this callback; pending commands already failed.
  self->ac_ = nullptr;
  self->sent_.clear();
  self->context_error_ = status == REDIS_OK || ac->c.errstr[0] == '\0'
                             ? std::string("the connection was closed")
                             : std::string(ac->c.errstr);
  if (self->state_ == State::up) {
    self->set_state(State::down, "connection lost: " + self->context_error_);
    self->wake_.cancel();
  }
}

void Connection::on_reply(redisAsyncContext* ac, void* reply, void* privdata) {
  std::unique_ptr<Waiter::Slot> slot(static_cast<Waiter::Slot*>(privdata));
  auto* self = static_cast<Connection*>(ac->data);
  if (self != nullptr && !self->sent_.empty()) self->sent_.pop_front();
  Waiter& waiter = *slot->waiter;
  if (waiter.done) return;  // timed out, or failed earlier: the late reply is dropped
  if (reply == nullptr) return waiter.finish(make_error_code(Error::connection_lost));
  waiter.replies[slot->index] = copy_reply(*static_cast<const redisReply*>(reply));
  if (--waiter.outstanding == 0) waiter.finish({});
}

}  // namespace roombus::redis
