// The lifecycle scheduler: one timer at the earliest due room.starting/started/ended fact, and a
// core::Tick submitted through the Service when it fires.
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "roombus/core/event_ports.hpp"
#include "roombus/core/service.hpp"
#include "roombus/services/component.hpp"
#include "roombus/services/subscription.hpp"

namespace roombus::services {

struct LifecycleOptions {
  // Facts per Tick at most; a backlog (after a long stop, or 10,000 rooms starting in the same
  // second) is worked off by Ticks posted one after another, so HTTP requests get the io thread
  // between them.
  std::size_t max_events_per_tick = 2000;
  // The timer never sleeps longer than this, so a wall clock stepped forward is noticed: one
  // wake-up per interval while nothing is due.
  std::chrono::seconds max_sleep{300};
};

struct LifecycleStatus {
  std::uint64_t ticks = 0;  // Ticks submitted
  std::uint64_t facts = 0;  // durable lifecycle events (from Ticks and from commands)
  std::uint64_t late_facts = 0;
  std::int64_t max_late_seconds = 0;  // since start
  std::optional<core::Instant> next_due;
  std::size_t index_entries = 0;
  std::size_t index_bytes = 0;
};

// Lifecycle facts are decided by the core (core::Tick) and become events in the log like any
// other, so they are durable, published by the outbox relay, and exactly-once across restarts:
// what fell due while roombus was down is emitted by the first Tick after start(). This class only
// decides *when* to tick: it arms one asio::steady_timer at State::next_due() (O(1)), re-arms
// after each durable batch if the earliest due time moved earlier, and costs nothing while
// nothing is due. Threads: every member on the io_context's thread.
class LifecycleScheduler final : public core::EventListener, public Component {
 public:
  // `new_command_id`: a fresh single-use command id per Tick.
  LifecycleScheduler(asio::io_context& io, core::Service& service,
                     std::function<std::string()> new_command_id, LifecycleOptions options,
                     LogFunction log);

  // Arms for the recovered state: a fact already due ticks at once.
  std::string_view name() const override { return "lifecycle"; }
  void start() override;
  // Nothing new is decided: the timer is cancelled (a Tick already submitted is the core's).
  asio::awaitable<void> stop(Deadline deadline, bool failed) override;

  void on_events(const core::EventBatch& events) override;
  void metrics(std::string& out) const override;
  LifecycleStatus status() const;

 private:
  void arm();
  void tick();

  asio::io_context& io_;
  core::Service& service_;
  std::function<std::string()> new_command_id_;
  LifecycleOptions options_;
  LogFunction log_;
  asio::steady_timer timer_;
  std::optional<core::Instant> armed_for_;  // the due time the timer waits for
  bool running_ = false;
  bool posted_ = false;  // a tick() is posted and has not run yet
  LifecycleStatus status_;
};

}  // namespace roombus::services
