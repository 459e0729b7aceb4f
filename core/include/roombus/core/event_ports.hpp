// Ports that take events: the durable log, and listeners fed once events are durable.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "roombus/core/decide.hpp"
#include "roombus/core/events.hpp"
#include "roombus/core/result.hpp"

namespace roombus::core {

// The remembered answer to a command whose id the caller chose (Idempotency-Key, Kafka `id`):
// a repeat gets it back instead of running again. A new API key is never part of it.
struct Outcome {
  std::string command_id;
  std::optional<Error> error;  // set for a rejection
  Reply reply;                 // for a success; reply.api_key always empty
  // The caller's fingerprint of the request (a hash), compared when the id comes again; empty
  // when the caller gave none, and in logs written before fingerprints existed.
  std::string fingerprint;
  // When the command was decided; the outcome is forgotten Service::Options::outcome_ttl later.
  // Absent in logs written before outcomes expired: such an outcome counts as decided when it
  // is recovered.
  std::optional<Instant> at;
};

// The events of one decision, shared and never changed again: a port may keep the pointer and
// read the events on another thread (a log encoding them on its writer thread, a snapshotter),
// which costs nothing on the core's thread, unlike copying whole rooms.
using EventBatch = std::shared_ptr<const std::vector<Event>>;

// An outcome on its way to the log, shared the same way: the log encodes it on its own thread
// while the core answers duplicates from it, and neither copies its texts.
using SharedOutcome = std::shared_ptr<const Outcome>;

// The source of truth. Contract: append() never blocks; it keeps `events` and `outcome` (both
// shared, never changed) and copies anything else it needs before returning. `on_durable` runs
// exactly once, on the core's thread, after the events are on stable storage (nullopt) or once the
// log has failed (an error text); completions arrive in append order. `outcome`, when not null,
// becomes durable in the same transaction as the events (there may be no events: a remembered
// rejection). After a failure the process must stop: nothing later can be durable.
class EventLog {
 public:
  using Completion = std::function<void(const std::optional<std::string>& error)>;
  virtual ~EventLog() = default;
  virtual void append(EventBatch events, SharedOutcome outcome, Completion on_durable) = 0;
};

// Told of durable events, in position order, on the core's thread: the upcoming-rooms index
// (Redis), the Kafka outbox relay, metrics. Contract: must not block; must not throw. `events`
// is never empty.
class EventListener {
 public:
  virtual ~EventListener() = default;
  virtual void on_events(const EventBatch& events) = 0;
};

}  // namespace roombus::core
