// Port of durable-event subscribers: consumers that keep a cursor of their own (the Redis index,
// the Kafka outbox relay) and are fed the log from it. (The snapshotter is a plain listener of
// durable events: it forks a copy of the state instead of keeping a cursor.)
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>

#include "roombus/core/events.hpp"

namespace roombus::core {

// Durable events in position order for one subscriber. Adapters implement it; the application's
// subscription helper feeds it: first the log from the subscriber's cursor (read off the core's
// thread), then live durable events, with no gap and no duplicate.
//
// Threads: every member except handled_position() is called on the subscription's own thread
// (never the core's), one call at a time. They may block: a subscriber that blocks in deliver()
// is applying backpressure; the helper meanwhile queues live events up to a bound, then drops
// them and reads them back from the log once the subscriber is ready again.
class EventSubscriber {
 public:
  virtual ~EventSubscriber() = default;

  // A short stable name for logs, /metrics and /readyz ("redis_index", "kafka_relay", ...).
  virtual std::string_view name() const = 0;

  // The last position this subscriber has fully handled, read from its own durable storage (0:
  // nothing yet). Called before the first delivery and again after a failed one. May block;
  // throws when that storage cannot be read now (the helper retries with backoff).
  virtual std::int64_t resume_position() = 0;

  // The events right after the previous delivery (or after resume_position()), in position
  // order, never empty. The pointers are valid during the call only. Throws on failure: the helper
  // backs off, then asks resume_position() again and continues from there.
  virtual void deliver(std::span<const Event* const> events) = 0;

  // The position up to which everything delivered is handled for good (it may trail the last
  // delivery, e.g. while Kafka has not acknowledged it). Thread-safe and non-blocking: /metrics
  // reads it on the core's thread.
  virtual std::int64_t handled_position() const = 0;

  // At shutdown, after the last delivery: waits until everything delivered is handled (written,
  // acknowledged, kept durably), or until `deadline`.
  virtual void finish(std::chrono::steady_clock::time_point deadline) = 0;

  // Called from another thread when the helper stops before its subscriber caught up: a
  // deliver() blocked on a busy or absent downstream should return (or throw) soon.
  virtual void interrupt() {}
};

// Where a subscriber without durable storage of its own (the Kafka relay) keeps its cursor:
// beside the event log, made durable with the log's next commit.
class CursorStore {
 public:
  virtual ~CursorStore() = default;
  // The cursor's last saved value, 0 if never saved. Blocking (disk); any thread.
  virtual std::int64_t load(std::string_view name) = 0;
  // Never blocks. `on_saved(true)` once the value is durable, `on_saved(false)` if it cannot be
  // (the log failed or is closing); it runs on another thread, exactly once.
  virtual void save(std::string_view name, std::int64_t position,
                    std::function<void(bool saved)> on_saved) = 0;
};

}  // namespace roombus::core
