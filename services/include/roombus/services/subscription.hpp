// Feeds one durable-event subscriber: the log from its cursor, then live events, bounded in
// memory, with its lag and health for /metrics and /readyz.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "roombus/core/event_ports.hpp"
#include "roombus/core/log_ports.hpp"
#include "roombus/core/subscriber.hpp"
#include "roombus/services/component.hpp"

namespace roombus::services {

struct SubscriptionOptions {
  // Live events held for a subscriber that is busy. Beyond it they are dropped and read back
  // from the log when it is ready: a slow subscriber costs disk reads, never unbounded memory.
  std::size_t max_queued_events = 50'000;
  std::size_t max_delivery = 1'000;  // events per deliver() call
  // 0: wake the subscriber's thread as soon as events arrive. Otherwise it wakes every `period`,
  // or once `wake_at` events are queued: a subscriber in no hurry (the Redis index) then costs
  // the core's thread no system call per command.
  std::chrono::milliseconds period{0};
  std::size_t wake_at = 4096;
  std::chrono::milliseconds backoff_min{100};
  std::chrono::milliseconds backoff_max{5'000};
};

struct SubscriptionStatus {
  std::string name;
  std::int64_t delivered = 0;         // last position passed to deliver()
  std::int64_t handled = 0;           // the subscriber's handled_position()
  std::int64_t head = 0;              // last durable position known
  double lag_seconds = 0;             // age of the oldest durable event not yet handled
  std::size_t queued = 0;             // live events held
  std::uint64_t overflows = 0;        // times the queue was dropped for the log
  std::uint64_t events_from_log = 0;  // events read back from the log
  std::uint64_t failures = 0;         // failed resume_position()/deliver() calls
  bool failing = false;               // the last call failed
  std::string last_error;
  bool drained = false;
  bool idle = false;  // its thread waits for events: nothing to read or deliver
};

// The shared queue/thread logic of every subscriber (DESIGN.md §3). It is a core::EventListener
// (the Service tells it of durable events on the core's thread) and owns one thread that calls
// the subscriber. Gap rule: whenever the next queued event is not the one after the subscriber's
// cursor (start-up behind the log, a dropped queue, a failure that sent it back to its cursor),
// the thread reads the missing events from the log first; events at or before the cursor are
// skipped. So the subscriber sees every position once per run of its cursor, in order.
class Subscription final : public core::EventListener, public Component {
 public:
  // `head`: the log's last durable position when the subscription is made.
  Subscription(core::EventSubscriber& subscriber, core::LogReader& log, std::int64_t head,
               SubscriptionOptions options, LogFunction log_line);
  ~Subscription() override;
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  void start() override;
  // Drains (unless `failed`: what is durable is read again from the cursor at the next start)
  // until `deadline`, then close()s.
  asio::awaitable<void> stop(Deadline deadline, bool failed) override;
  // Core's thread; never blocks on the subscriber.
  void on_events(const core::EventBatch& events) override;
  // Non-blocking: the thread delivers everything durable so far, calls the subscriber's
  // finish(deadline) and ends; drained() then turns true and `on_drained` runs on that thread.
  // It gives up at `deadline`.
  void drain(std::chrono::steady_clock::time_point deadline, std::function<void()> on_drained = {});
  bool drained() const;
  // Ends the thread now (interrupting a blocked subscriber) and joins it. Idempotent.
  void close();
  // Any thread: before its next delivery, ask the subscriber's resume_position() again and go on
  // from there (a subscriber whose storage was emptied or edited behind its back).
  void request_resume();

  SubscriptionStatus status() const;
  std::string_view name() const override { return subscriber_.name(); }

 private:
  void run();
  // Waits for work; false when the thread must end.
  bool next(std::int64_t cursor, std::vector<core::EventBatch>& live, std::int64_t& read_to);
  bool pause(std::chrono::milliseconds how_long);  // false when stopping
  void failed(const std::exception& e, std::string_view what);

  core::EventSubscriber& subscriber_;
  core::LogReader& log_;
  SubscriptionOptions options_;
  LogFunction log_line_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<core::EventBatch> queue_;
  std::size_t queued_events_ = 0;
  std::int64_t head_ = 0;
  bool waiting_ = false;
  bool wake_pending_ = false;
  bool stopping_ = false;
  bool draining_ = false;
  bool resume_requested_ = false;
  std::chrono::steady_clock::time_point drain_deadline_{};
  bool drained_ = false;
  std::function<void()> on_drained_;
  // (position, when it became durable), sampled at most once a millisecond, for lag_seconds.
  mutable std::deque<std::pair<std::int64_t, std::chrono::steady_clock::time_point>> arrivals_;
  SubscriptionStatus status_;
  std::thread thread_;
};

}  // namespace roombus::services
