// Probes: each component's contribution to /readyz and /metrics, assembled by the Runtime.
#pragma once

#include <string>
#include <vector>

#include "redis_index.hpp"
#include "roombus/consumers/command_consumer.hpp"
#include "roombus/core/service.hpp"
#include "roombus/http/server.hpp"
#include "roombus/kafka/outbox_relay.hpp"
#include "roombus/kafka/producer.hpp"
#include "roombus/sqlite/event_store.hpp"
#include "snapshotter.hpp"
#include "subscription.hpp"

namespace roombus::app {

class RedisDemand;

// One dependency's line in /readyz.
struct Check {
  std::string name;
  std::string state;  // "ok", "down" or "off"
  std::string detail;
  bool required = false;  // down: the service cannot take commands (503)
};

// Called on the io_context's thread; never blocks.
class Probe {
 public:
  virtual ~Probe() = default;
  virtual void check(std::vector<Check>&) const {}
  // Appends Prometheus text (HELP, TYPE and samples).
  virtual void metrics(std::string&) const {}
};

// The event log: the one check that decides readiness, and the store's counters.
class LogProbe final : public Probe {
 public:
  explicit LogProbe(const sqlite::EventStore& store) : store_(store) {}
  void check(std::vector<Check>& out) const override;
  void metrics(std::string& out) const override;

 private:
  const sqlite::EventStore& store_;
};

class HttpProbe final : public Probe {
 public:
  explicit HttpProbe(const http::Server& server) : server_(server) {}
  void metrics(std::string& out) const override;

 private:
  const http::Server& server_;
};

// Every subscription's lag (events and seconds), queue, overflows, reads from the log, failures.
class SubscriptionsProbe final : public Probe {
 public:
  explicit SubscriptionsProbe(std::vector<const Subscription*> subscriptions)
      : subscriptions_(std::move(subscriptions)) {}
  void metrics(std::string& out) const override;

 private:
  std::vector<const Subscription*> subscriptions_;
};

class SnapshotProbe final : public Probe {
 public:
  explicit SnapshotProbe(const Snapshotter& snapshotter) : snapshotter_(snapshotter) {}
  void metrics(std::string& out) const override;

 private:
  const Snapshotter& snapshotter_;
};

// Kafka: "off" when not configured; "down" while no broker is reachable, the topics are not
// ready, the relay keeps failing or the command consumer has no broker; the producer's, the
// relay's and the command consumer's counters.
class KafkaProbe final : public Probe {
 public:
  KafkaProbe(const kafka::Producer* producer, const kafka::OutboxRelay* relay,
             const Subscription* relay_subscription, const consumers::CommandConsumer* commands)
      : producer_(producer),
        relay_(relay),
        subscription_(relay_subscription),
        commands_(commands) {}
  void check(std::vector<Check>& out) const override;
  void metrics(std::string& out) const override;

 private:
  const kafka::Producer* producer_;
  const kafka::OutboxRelay* relay_;
  const Subscription* subscription_;
  const consumers::CommandConsumer* commands_;
};

// Redis: "off" when not configured; "ok" while the connection is up, "down" otherwise (degraded:
// getRooms answers from memory). The connection's counters, the index's rebuilds and repairs, and
// getRooms queries by outcome; the index's lag is the subscription's (subscriber "redis_index").
class RedisProbe final : public Probe {
 public:
  RedisProbe(const RedisIndex* index, const RedisDemand* demand) : index_(index), demand_(demand) {}
  void check(std::vector<Check>& out) const override;
  void metrics(std::string& out) const override;

 private:
  const RedisIndex* index_;
  const RedisDemand* demand_;
};

// Prometheus helpers for probes: "# HELP" and "# TYPE" lines, then samples with
// http::append_sample.
void describe(std::string& out, std::string_view name, std::string_view type,
              std::string_view help);
// A metric of one sample without labels: its HELP, TYPE and value.
void single(std::string& out, std::string_view name, std::string_view type, std::string_view help,
            double value);

}  // namespace roombus::app
