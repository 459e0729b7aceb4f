// The adapters of `roombus serve` as services::Component (start, stop, checks, metrics), and the
// probes that report on several of them at once.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "roombus/consumers/command_consumer.hpp"
#include "roombus/core/service.hpp"
#include "roombus/http/server.hpp"
#include "roombus/kafka/demand_topic.hpp"
#include "roombus/kafka/outbox_relay.hpp"
#include "roombus/kafka/producer.hpp"
#include "roombus/redis/connection.hpp"
#include "roombus/redis/redis_demand.hpp"
#include "roombus/redis/redis_index.hpp"
#include "roombus/services/component.hpp"
#include "roombus/services/demand.hpp"
#include "roombus/services/subscription.hpp"
#include "roombus/sqlite/event_store.hpp"

namespace roombus::app {

using services::Check;
using services::Component;
using Deadline = services::Component::Deadline;

// The event log: the one check that decides readiness, the store's counters; closed last (it
// commits what is queued and publishes a snapshot that became durable). Blocking at stop.
class LogComponent final : public Component {
 public:
  LogComponent(sqlite::EventStore& store, services::LogFunction log)
      : store_(store), log_(std::move(log)) {}
  std::string_view name() const override { return "log"; }
  asio::awaitable<void> stop(Deadline deadline, bool failed) override;
  void check(std::vector<Check>& out) const override;
  void metrics(std::string& out) const override;
  // Closing failed (logged): the process exits 1.
  bool close_failed() const { return close_failed_; }

 private:
  sqlite::EventStore& store_;
  services::LogFunction log_;
  bool close_failed_ = false;
};

// The core: its stop waits until every command decided so far is durable and answered (5 s at
// most), so that subscribers stopped after it see every event.
class CoreComponent final : public Component {
 public:
  explicit CoreComponent(core::Service& service) : service_(service) {}
  std::string_view name() const override { return "core"; }
  asio::awaitable<void> stop(Deadline deadline, bool failed) override;

 private:
  core::Service& service_;
};

// The HTTP server (it listens before the components start: Runtime::run). Its stop closes the
// listener and answers what is in flight (http::ServerOptions::shutdown_timeout).
class HttpComponent final : public Component {
 public:
  explicit HttpComponent(http::Server& server) : server_(server) {}
  std::string_view name() const override { return "http"; }
  asio::awaitable<void> stop(Deadline deadline, bool failed) override;
  void metrics(std::string& out) const override;

 private:
  http::Server& server_;
};

// The Kafka producer: what the relay handed it is flushed at stop (1 s at most: records after
// the relay's saved cursor are sent again at the next start).
class ProducerComponent final : public Component {
 public:
  explicit ProducerComponent(kafka::Producer& producer) : producer_(producer) {}
  std::string_view name() const override { return "kafka_producer"; }
  void start() override { producer_.start(); }
  asio::awaitable<void> stop(Deadline deadline, bool failed) override;

 private:
  kafka::Producer& producer_;
};

// The outbox relay's subscription: its stop delivers what is durable until Kafka acknowledged it,
// but not at all while no broker is up (nothing could be acknowledged; the relay sends from its
// saved cursor at the next start).
class RelayComponent final : public Component {
 public:
  RelayComponent(services::Subscription& feed, const kafka::Producer& producer)
      : feed_(feed), producer_(producer) {}
  std::string_view name() const override { return feed_.name(); }
  void start() override { feed_.start(); }
  asio::awaitable<void> stop(Deadline deadline, bool failed) override;

 private:
  services::Subscription& feed_;
  const kafka::Producer& producer_;
};

// Kafka commands: at stop no record is taken any more; those taken get their results out and
// acknowledged (5 s at most, not after a failed log), then the consumer commits what is done and
// leaves its group.
class CommandsComponent final : public Component {
 public:
  explicit CommandsComponent(consumers::CommandConsumer& commands) : commands_(commands) {}
  std::string_view name() const override { return "kafka_commands"; }
  void start() override { commands_.start(); }
  asio::awaitable<void> stop(Deadline deadline, bool failed) override;

 private:
  consumers::CommandConsumer& commands_;
};

// Kafka's server-demand topic: forecasts are derived, so a stop flushes for 500 ms at most.
class DemandTopicComponent final : public Component {
 public:
  explicit DemandTopicComponent(kafka::DemandTopic& topic) : topic_(topic) {}
  std::string_view name() const override { return "kafka_demand"; }
  void start() override { topic_.start(); }
  asio::awaitable<void> stop(Deadline deadline, bool failed) override;
  void metrics(std::string& out) const override;

 private:
  kafka::DemandTopic& topic_;
};

// The Redis connection (started by connect_redis); stopped after everything that uses it.
class RedisConnectionComponent final : public Component {
 public:
  explicit RedisConnectionComponent(std::shared_ptr<redis::Connection> connection)
      : connection_(std::move(connection)) {}
  std::string_view name() const override { return "redis"; }
  asio::awaitable<void> stop(Deadline deadline, bool failed) override;

 private:
  std::shared_ptr<redis::Connection> connection_;
};

// Every subscription's lag (events and seconds), queue, overflows, reads from the log, failures.
class SubscriptionsProbe final : public Component {
 public:
  explicit SubscriptionsProbe(std::vector<const services::Subscription*> subscriptions)
      : subscriptions_(std::move(subscriptions)) {}
  std::string_view name() const override { return "subscriptions"; }
  void metrics(std::string& out) const override;

 private:
  std::vector<const services::Subscription*> subscriptions_;
};

// Kafka: "off" when not configured; "down" while no broker is reachable, the topics are not
// ready, the relay keeps failing or the command consumer has no broker; the producer's, the
// relay's and the command consumer's counters.
class KafkaProbe final : public Component {
 public:
  KafkaProbe(const kafka::Producer* producer, const kafka::OutboxRelay* relay,
             const services::Subscription* relay_subscription,
             const consumers::CommandConsumer* commands)
      : producer_(producer),
        relay_(relay),
        subscription_(relay_subscription),
        commands_(commands) {}
  std::string_view name() const override { return "kafka"; }
  void check(std::vector<Check>& out) const override;
  void metrics(std::string& out) const override;

 private:
  const kafka::Producer* producer_;
  const kafka::OutboxRelay* relay_;
  const services::Subscription* subscription_;
  const consumers::CommandConsumer* commands_;
};

// Redis: "off" when not configured; "ok" while the connection is up, "down" otherwise (degraded:
// getRooms answers from memory). The connection's counters, the index's rebuilds and repairs, and
// getRooms queries by outcome; the index's lag is the subscription's (subscriber "redis_index").
class RedisProbe final : public Component {
 public:
  RedisProbe(const redis::RedisIndex* index, const redis::RedisDemand* demand)
      : index_(index), demand_(demand) {}
  std::string_view name() const override { return "redis_probe"; }
  void check(std::vector<Check>& out) const override;
  void metrics(std::string& out) const override;

 private:
  const redis::RedisIndex* index_;
  const redis::RedisDemand* demand_;
};

// Kafka's compacted `<prefix>server-demand` topic as an output of the demand forecaster.
services::DemandOutput kafka_output(kafka::DemandTopic& topic);

}  // namespace roombus::app
