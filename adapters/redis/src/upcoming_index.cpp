// The upcoming-room index writer (a durable-cursor subscriber) and its read side, on Redis.
#include "roombus/redis/upcoming_index.hpp"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <charconv>
#include <exception>
#include <future>
#include <iostream>
#include <limits>
#include <optional>
#include <stdexcept>
#include <utility>
#include <variant>

namespace roombus::redis {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::string_view layout_version = "1";
// Extra time a waiting thread allows the io thread beyond the Redis deadlines themselves.
constexpr std::chrono::milliseconds io_grace{1000};
// How often a thread waiting for the io thread looks at interrupt().
constexpr std::chrono::milliseconds interrupt_poll{50};
// A head no cursor is beyond: for readers, which check the cursor against a position of their own.
constexpr std::int64_t no_head = std::numeric_limits<std::int64_t>::max();

std::runtime_error failure(const std::string& what) {
  return std::runtime_error("redis index: " + what);
}

// Work of a call whose caller stopped waiting: once a newer call exists it issues nothing more,
// so it cannot undo what the newer call writes (all calls share one connection, in order).
struct Turn {
  std::shared_ptr<std::atomic<std::uint64_t>> latest;
  std::uint64_t mine = 0;
  void check() const {
    if (latest->load() != mine) throw failure("superseded by a newer call");
  }
};

// The index commands for one event (none for participant changes, lifecycle facts, clones and
// other server changes: they move no room in time or between servers). Events carry snapshots,
// so the commands are idempotent: a re-fed event does no harm.
void append_index_commands(const core::Event& event, std::vector<Argv>& out) {
  if (const auto* r = std::get_if<core::RoomChanged>(&event.change)) {
    using core::RoomChange;
    if (r->change == RoomChange::participant_added ||
        r->change == RoomChange::participant_removed || r->change == RoomChange::starting ||
        r->change == RoomChange::started || r->change == RoomChange::ended) {
      return;
    }
    const core::Room& room = r->room;
    if (r->previous_server && *r->previous_server != room.server_id) {
      out.push_back(Argv{"ZREM", upcoming_key(*r->previous_server), room.uid});
    }
    if (room.deleted) {
      out.push_back(Argv{"ZREM", upcoming_key(room.server_id), room.uid});
    } else {
      out.push_back(Argv{"ZADD", upcoming_key(room.server_id),
                         std::to_string(room.start.time_since_epoch().count()), room.uid});
    }
    return;
  }
  const auto& s = std::get<core::ServerChanged>(event.change);
  if (s.change == core::ServerChange::deleted)
    out.push_back(Argv{"DEL", upcoming_key(s.server.id)});
}

// One MULTI/EXEC of a delivery: where its EXEC reply is and which cursor move it makes.
struct Transaction {
  std::size_t exec_index = 0;
  std::int64_t from = 0;
  std::int64_t to = 0;
};

std::optional<std::int64_t> as_position(const Reply& r) {
  if (r.type == Reply::Type::integer) return r.integer;
  if (r.type != Reply::Type::string) return std::nullopt;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(r.str.data(), r.str.data() + r.str.size(), value);
  if (ec != std::errc{} || end != r.str.data() + r.str.size() || value < 0) return std::nullopt;
  return value;
}

Argv read_cursor() {
  return Argv{"HMGET", std::string(index_cursor_key), "position", "log_id", "layout"};
}

// Why the cursor (the reply to read_cursor()) cannot be trusted; empty when it can.
std::string stale_reason(const Reply& cursor, const std::string& log_id, std::int64_t head) {
  if (cursor.is_error()) return "the cursor key holds something else (" + cursor.str + ")";
  if (cursor.type != Reply::Type::array || cursor.elements.size() != 3) {
    return "unexpected reply reading the cursor";
  }
  const Reply& position = cursor.elements[0];
  const Reply& stamp = cursor.elements[1];
  const Reply& layout = cursor.elements[2];
  if (position.is_nil() && stamp.is_nil() && layout.is_nil()) return "no cursor (new or flushed)";
  if (stamp.is_nil()) return "the cursor has no log stamp (flushed while written)";
  if (stamp.str != log_id) return "the index belongs to another event log";
  if (layout.str != layout_version) return "the index has another key layout";
  const auto value = as_position(position);
  if (!value) return "the cursor's position is not a number";
  if (*value > head) {
    return "the cursor (" + std::to_string(*value) + ") is beyond the log's head (" +
           std::to_string(head) + ")";
  }
  return {};
}

Deadline round_trip(std::chrono::milliseconds timeout) { return Clock::now() + timeout; }

// One command that must succeed (a reply that is not an error) or throw.
asio::awaitable<Reply> must_answer(std::shared_ptr<Connection> connection, Argv argv,
                                   std::chrono::milliseconds timeout) {
  const std::string name = argv.front();
  Outcome outcome = co_await connection->command(std::move(argv), round_trip(timeout));
  if (!outcome.ok()) throw failure(name + " failed: " + outcome.error.message());
  if (outcome.reply.is_error()) throw failure(name + " refused: " + outcome.reply.str);
  co_return std::move(outcome.reply);
}

// Drops the cursor first, so that an interrupted wipe still reads as stale, then every index key
// (SCAN + UNLINK: no KEYS, which would block Redis), then stamps the cursor at position 0.
asio::awaitable<void> wipe(std::shared_ptr<Connection> connection, Turn turn, std::string log_id,
                           std::chrono::milliseconds timeout) {
  turn.check();
  Argv drop{"DEL", std::string(index_cursor_key)};
  co_await must_answer(connection, std::move(drop), timeout);
  std::string cursor = "0";
  do {
    turn.check();
    Argv scan{"SCAN", cursor, "MATCH", std::string(upcoming_key_pattern), "COUNT", "1000"};
    Reply page = co_await must_answer(connection, std::move(scan), timeout);
    if (page.type != Reply::Type::array || page.elements.size() != 2 ||
        page.elements[1].type != Reply::Type::array) {
      throw failure("unexpected reply to SCAN");
    }
    cursor = page.elements[0].str;
    Argv unlink{"UNLINK"};
    for (Reply& key : page.elements[1].elements) unlink.push_back(std::move(key.str));
    if (unlink.size() > 1) {
      turn.check();
      co_await must_answer(connection, std::move(unlink), timeout);
    }
  } while (cursor != "0");
  turn.check();
  Argv stamp{"HSET",   std::string(index_cursor_key), "position", "0", "log_id", log_id,
             "layout", std::string(layout_version)};
  co_await must_answer(connection, std::move(stamp), timeout);
}

struct Resumed {
  std::int64_t position = 0;
  std::string wiped_because;  // empty: the cursor was trusted
};

asio::awaitable<Resumed> resume_on_io(std::shared_ptr<Connection> connection, Turn turn,
                                      std::string log_id, std::int64_t head, bool distrusted,
                                      std::chrono::milliseconds timeout) {
  turn.check();
  Argv get = read_cursor();
  Outcome read = co_await connection->command(std::move(get), round_trip(timeout));
  if (!read.ok()) throw failure("cannot read the cursor: " + read.error.message());
  std::string reason = distrusted ? "a delivery found the cursor moved (flushed, restarted "
                                    "empty or edited)"
                                  : stale_reason(read.reply, log_id, head);
  if (reason.empty()) co_return Resumed{*as_position(read.reply.elements[0]), {}};
  co_await wipe(connection, turn, log_id, timeout);
  co_return Resumed{0, std::move(reason)};
}

asio::awaitable<Replies> deliver_on_io(std::shared_ptr<Connection> connection, Turn turn,
                                       std::vector<Argv> commands, Deadline deadline) {
  turn.check();
  co_return co_await connection->exec(std::move(commands), deadline);
}

}  // namespace

std::string upcoming_key(core::ServerId server) {
  return "roombus:upcoming:" + std::to_string(server);
}

IndexWriter::IndexWriter(std::shared_ptr<Connection> connection, std::string log_id,
                         std::function<std::int64_t()> log_head, Options options)
    : connection_(std::move(connection)),
      log_id_(std::move(log_id)),
      log_head_(std::move(log_head)),
      options_(std::move(options)),
      latest_turn_(std::make_shared<std::atomic<std::uint64_t>>(0)) {
  if (!connection_ || log_id_.empty() || !log_head_ || options_.events_per_transaction == 0) {
    throw std::invalid_argument(
        "redis index: needs a connection, a log stamp, a log head and transactions of >= 1 event");
  }
}

void IndexWriter::log(const std::string& line) const {
  if (options_.log) {
    options_.log(line);
  } else {
    std::cerr << line << '\n';
  }
}

template <class T, class Make>
T IndexWriter::on_io(Make make, std::chrono::steady_clock::time_point until) {
  if (interrupted_.load()) throw failure("interrupted");
  Turn turn{latest_turn_, latest_turn_->fetch_add(1) + 1};
  auto promise = std::make_shared<std::promise<T>>();
  std::future<T> future = promise->get_future();
  const asio::any_io_executor executor = connection_->get_executor();
  // The coroutine is created on the io thread too: nothing of it runs on this one.
  asio::post(executor, [executor, promise, turn, make = std::move(make)]() mutable {
    asio::co_spawn(executor, make(turn), [promise](std::exception_ptr e, T value) {
      if (e) {
        promise->set_exception(e);
      } else {
        promise->set_value(std::move(value));
      }
    });
  });
  // In slices, so that interrupt() ends the wait soon (the io thread may have stopped running).
  while (future.wait_for(interrupt_poll) != std::future_status::ready) {
    if (interrupted_.load()) throw failure("interrupted");
    if (Clock::now() >= until) throw failure("the io thread did not finish in time");
  }
  return future.get();  // rethrows the coroutine's exception
}

std::int64_t IndexWriter::resume_position() {
  const std::int64_t head = log_head_();
  resuming_.store(true);
  struct Done {
    std::atomic<bool>& flag;
    ~Done() { flag.store(false); }
  } done{resuming_};
  const bool distrusted = distrusted_.load();
  auto make = [connection = connection_, log_id = log_id_, head, distrusted,
               timeout = options_.timeout](Turn turn) mutable {
    return resume_on_io(connection, std::move(turn), log_id, head, distrusted, timeout);
  };
  const Resumed resumed = on_io<Resumed>(std::move(make), Clock::now() + options_.wipe_timeout);
  if (!resumed.wiped_because.empty()) {
    wipes_.fetch_add(1);
    log("redis index: wiped, rebuilding from the start of the log: " + resumed.wiped_because);
  }
  distrusted_.store(false);
  written_ = resumed.position;
  in_flight_to_.store(written_);
  handled_.store(written_);
  return written_;
}

void IndexWriter::deliver(std::span<const core::Event* const> events) {
  // Built here, off the io thread: MULTI, the cursor as it was, the index commands, the cursor
  // move, EXEC. HINCRBY rather than HSET: on a flushed Redis it leaves a cursor without a log
  // stamp, which resume_position() rejects even after a crash.
  std::vector<Argv> commands;
  std::vector<Transaction> transactions;
  std::int64_t from = written_;
  for (std::size_t begin = 0; begin < events.size(); begin += options_.events_per_transaction) {
    const std::size_t end = std::min(events.size(), begin + options_.events_per_transaction);
    const std::int64_t to = events[end - 1]->position;
    commands.push_back(Argv{"MULTI"});
    commands.push_back(read_cursor());
    for (std::size_t i = begin; i < end; ++i) append_index_commands(*events[i], commands);
    commands.push_back(
        Argv{"HINCRBY", std::string(index_cursor_key), "position", std::to_string(to - from)});
    commands.push_back(Argv{"EXEC"});
    transactions.push_back(Transaction{commands.size() - 1, from, to});
    from = to;
  }

  in_flight_to_.store(std::max(in_flight_to_.load(), events.back()->position));
  const Deadline deadline = Clock::now() + options_.timeout;
  auto make = [connection = connection_, commands = std::move(commands),
               deadline](Turn turn) mutable {
    return deliver_on_io(connection, std::move(turn), std::move(commands), deadline);
  };
  const Replies replies = on_io<Replies>(std::move(make), deadline + io_grace);
  if (!replies.ok()) throw failure("delivery failed: " + replies.error.message());

  for (const Transaction& t : transactions) {
    const Reply& exec = replies.replies[t.exec_index];
    if (exec.type != Reply::Type::array || exec.elements.size() < 2) {
      // EXECABORT (a command refused while queued) or a nil EXEC: nothing was applied.
      throw failure("transaction refused: " + (exec.is_error() ? exec.str : "no result"));
    }
    const Reply& before = exec.elements.front();
    const Reply& after = exec.elements.back();
    bool intact = stale_reason(before, log_id_, t.from).empty() &&
                  as_position(before.elements[0]) == t.from && as_position(after) == t.to;
    for (const Reply& r : exec.elements) intact = intact && !r.is_error();
    if (!intact) {
      distrusted_.store(true);
      throw failure("the cursor moved under the writer (expected position " +
                    std::to_string(t.from) + "); the index will be rebuilt");
    }
    written_ = t.to;
    handled_.store(written_);
  }
}

void IndexWriter::finish(std::chrono::steady_clock::time_point) {}

void IndexWriter::interrupt() { interrupted_.store(true); }

asio::awaitable<bool> IndexWriter::check_stale(Deadline deadline) {
  if (resuming_.load() || distrusted_.load()) co_return distrusted_.load();
  // Read before the HMGET is issued (in this same step on the io thread): a delivery issued
  // later cannot have moved the cursor beyond `high` when the HMGET reads it.
  const std::int64_t low = handled_.load();
  const std::int64_t high = in_flight_to_.load();
  Argv get = read_cursor();
  const Outcome read = co_await connection_->command(std::move(get), deadline);
  if (!read.ok() || resuming_.load()) co_return false;  // cannot tell now
  const auto position = stale_reason(read.reply, log_id_, high).empty()
                            ? as_position(read.reply.elements[0])
                            : std::nullopt;
  if (position && *position >= low && *position <= high) co_return false;
  distrusted_.store(true);
  co_return true;
}

asio::awaitable<RoomUids> rooms_starting(std::shared_ptr<Connection> connection,
                                         core::ServerId server, std::int64_t from_unix,
                                         std::int64_t to_unix, Deadline deadline,
                                         std::optional<IndexRequirement> requirement) {
  std::vector<Argv> commands;
  if (requirement) commands.push_back(read_cursor());
  commands.push_back(Argv{"ZRANGEBYSCORE", upcoming_key(server), std::to_string(from_unix),
                          std::to_string(to_unix)});
  Replies replies = co_await connection->exec(std::move(commands), deadline);
  RoomUids out;
  out.error = replies.error;
  if (!replies.ok()) co_return out;
  if (requirement) {
    const Reply& cursor = replies.replies.front();
    std::string why = stale_reason(cursor, requirement->log_id, no_head);
    if (why.empty()) {
      const std::int64_t position = *as_position(cursor.elements[0]);
      if (position < requirement->min_position) {
        why = "the index is at position " + std::to_string(position) + ", not yet at " +
              std::to_string(requirement->min_position);
      }
    }
    if (!why.empty()) {
      out.behind = true;
      out.text = std::move(why);
      co_return out;
    }
  }
  Reply& range = replies.replies.back();
  if (range.type != Reply::Type::array) {
    out.text =
        range.is_error() ? "Redis answered: " + range.str : "unexpected reply to ZRANGEBYSCORE";
    co_return out;
  }
  out.uids.reserve(range.elements.size());
  for (Reply& uid : range.elements) out.uids.push_back(std::move(uid.str));
  co_return out;
}

}  // namespace roombus::redis
