// The Redis side of `roombus serve`: the upcoming-room index kept in Redis (its writer fed by a
// subscription), the watch that finds a lost or damaged index, and getRooms answers from it.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "roombus/core/event_ports.hpp"
#include "roombus/core/log_ports.hpp"
#include "roombus/core/state.hpp"
#include "roombus/redis/connection.hpp"
#include "roombus/redis/upcoming_index.hpp"
#include "roombus/services/component.hpp"
#include "roombus/services/subscription.hpp"
#include "roombus/services/upcoming_index.hpp"

namespace roombus::redis {

struct RedisIndexOptions {
  // Deadline of one getRooms query to Redis; a Redis whose oldest unanswered command is older
  // than this counts as stalled and is not asked.
  std::chrono::milliseconds query_timeout{100};
  // The cursor check (one HMGET): finds an index flushed or restarted empty while no event
  // arrives. Also after every reconnect.
  std::chrono::milliseconds cursor_check_every{2000};
  // The count check (one ZCARD per server, pipelined): finds members added or removed by hand,
  // which the cursor does not show. Runs only while the index, the log and memory agree on the
  // position; retried every tick until they do.
  std::chrono::milliseconds count_check_every{5000};
  std::chrono::milliseconds tick{250};
  // The writer's subscription wakes every `feed_period` (or per 512 events): under load, one
  // Redis transaction carries many events instead of one round trip per command.
  std::chrono::milliseconds feed_period{10};
};

// For /metrics (io thread).
struct RedisIndexCounters {
  std::uint64_t answered = 0;        // getRooms queries answered by Redis
  std::uint64_t behind = 0;          // not asked, or refused: the index had not reached the log
  std::uint64_t unavailable = 0;     // not asked or failed: Redis down, stalled, connection lost
  std::uint64_t timeouts = 0;        // Redis did not answer within query_timeout
  std::uint64_t errors = 0;          // an error reply, or uids memory does not know (hand edits)
  std::uint64_t cursor_repairs = 0;  // the cursor check found the index lost
  std::uint64_t count_repairs = 0;   // the count check found members added or removed
  std::uint64_t member_repairs = 0;  // a query found a member roombus never issued
};

// The index's writer and its subscription, owned here, plus the read side
// (services::UpcomingIndex) and the watch. It is the core's listener for the index: it records the
// durable head and which servers changed, then passes the events on to the writer's subscription.
//
// Threads: everything runs on the io thread except the writer (its subscription's thread) and
// head() (any thread). The connection is stopped after this component.
class RedisIndex final : public core::EventListener,
                         public services::UpcomingIndex,
                         public services::Component {
 public:
  // `head`: the log's last durable position at start-up.
  RedisIndex(std::shared_ptr<redis::Connection> connection, const core::State& state,
             std::string log_id, std::int64_t head, core::LogReader& log,
             services::LogFunction log_line, RedisIndexOptions options = {});
  ~RedisIndex() override;
  RedisIndex(const RedisIndex&) = delete;
  RedisIndex& operator=(const RedisIndex&) = delete;

  std::string_view name() const override { return "redis_index"; }
  // Starts the writer's subscription and the watch.
  void start() override;
  // The writer gets 2 s at most to write what is durable (none while Redis is down): the index is
  // derived data, caught up from its cursor at the next start. Then the watch ends.
  asio::awaitable<void> stop(Deadline deadline, bool failed) override;
  // Ends the watch. Idempotent.
  void end_watch();

  services::Subscription& subscription() { return *feed_; }
  const services::Subscription& subscription() const { return *feed_; }
  const redis::IndexWriter& writer() const { return *writer_; }
  const redis::Connection& connection() const { return *connection_; }
  const RedisIndexCounters& counters() const { return counters_; }
  // The last durable position (any thread).
  std::int64_t head() const { return head_.load(); }

  // core::EventListener (io thread).
  void on_events(const core::EventBatch& events) override;

  // services::UpcomingIndex (io thread).
  std::uint64_t version(core::ServerId server) const override;
  asio::awaitable<std::optional<std::vector<const core::Room*>>> rooms(
      core::UpcomingWindow window) override;

 private:
  struct CountCheck {
    bool done = false;       // false: not quiet now (or Redis did not answer); try again
    std::string difference;  // empty: every server's set holds its live rooms
  };
  asio::awaitable<void> watch();
  asio::awaitable<CountCheck> compare_counts();
  // Drops the cursor, so that the writer wipes and rebuilds; counts into `repairs` once done.
  asio::awaitable<void> rebuild(std::string why, std::uint64_t& repairs);

  std::shared_ptr<redis::Connection> connection_;
  const core::State& state_;
  std::string log_id_;
  services::LogFunction log_line_;
  RedisIndexOptions options_;
  std::atomic<std::int64_t> head_;
  std::unique_ptr<redis::IndexWriter> writer_;
  std::unique_ptr<services::Subscription> feed_;

  // Per server, the position of the last durable event that changed its rooms or removed it.
  std::unordered_map<core::ServerId, std::uint64_t> versions_;
  RedisIndexCounters counters_;
  asio::steady_timer timer_;
  bool started_ = false;
  bool stopped_ = false;
  bool check_cursor_soon_ = false;  // a query found the cursor behind or foreign
  bool check_counts_soon_ = false;  // a query got an error reply
  std::string unknown_member_;      // why a query found the index damaged (empty: it did not)
};

}  // namespace roombus::redis
