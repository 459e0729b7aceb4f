// Ports that take events: the durable log, and listeners fed once events are durable.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "roombus/core/events.hpp"

namespace roombus::core {

// The source of truth. Contract: append() never blocks; it copies what it needs before
// returning. `on_durable` runs exactly once, on the core's thread, after the events are on
// stable storage (nullopt) or once the log has failed (an error text); completions arrive in
// append order. After a failure the process must stop: nothing later can be durable.
class EventLog {
 public:
  using Completion = std::function<void(const std::optional<std::string>& error)>;
  virtual ~EventLog() = default;
  virtual void append(const std::vector<Event>& events, Completion on_durable) = 0;
};

// Told of durable events, in position order, on the core's thread: the upcoming-rooms index
// (Redis), the Kafka outbox relay, metrics. Contract: must not block; must not throw.
class EventListener {
 public:
  virtual ~EventListener() = default;
  virtual void on_events(const std::vector<Event>& events) = 0;
};

}  // namespace roombus::core
