// The Runtime of `roombus serve`: builds every component, starts them in order, stops them in
// reverse, and assembles /readyz and /metrics from them.
#pragma once

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <memory>
#include <string>
#include <vector>

#include "components.hpp"
#include "config.hpp"
#include "roombus/consumers/command_consumer.hpp"
#include "roombus/core/service.hpp"
#include "roombus/crypto/hashing.hpp"
#include "roombus/crypto/ids.hpp"
#include "roombus/crypto/join_links.hpp"
#include "roombus/eventlog/durable_log.hpp"
#include "roombus/eventlog/store_reader.hpp"
#include "roombus/eventlog/store_snapshots.hpp"
#include "roombus/http/api.hpp"
#include "roombus/http/server.hpp"
#include "roombus/kafka/demand_topic.hpp"
#include "roombus/kafka/outbox_relay.hpp"
#include "roombus/kafka/producer.hpp"
#include "roombus/redis/connection.hpp"
#include "roombus/redis/redis_demand.hpp"
#include "roombus/redis/redis_index.hpp"
#include "roombus/services/component.hpp"
#include "roombus/services/demand.hpp"
#include "roombus/services/lifecycle_scheduler.hpp"
#include "roombus/services/recovery.hpp"
#include "roombus/services/snapshotter.hpp"
#include "roombus/services/subscription.hpp"
#include "roombus/sqlite/event_store.hpp"
#include "roombus/time/system_clock.hpp"

namespace roombus::app {

// Construction: Redis (one attempt, so that a refused password stops start-up before a long
// recovery; unreachable only degrades), the event log, the core recovered from it, then every
// component. run() listens first (a port in use fails before anything starts), then starts the
// components in this order:
//
//   log, snapshots, [kafka producer, kafka relay], [redis connection, redis index, redis demand],
//   [kafka demand topic], core, demand, lifecycle, [kafka commands], outcomes, http
//
// and stops them in reverse on SIGINT/SIGTERM: HTTP answers what is in flight; remembered
// outcomes still loading get a few seconds; Kafka commands taken are answered and acknowledged;
// nothing new is ticked or forecast; the core waits until every decided command is durable; the
// subscribers finish what is durable (Redis 2 s at most, the relay until Kafka acknowledged it);
// the producer is flushed; a last snapshot is written; the log closes. Each component gets
// kStepTimeout at most and the whole stop kStopTimeout. A failed commit stops the same way but
// answers and lets go at once (`failed`: no drains, no last snapshot; exit code 1).
//
// Threads: everything but the subscriptions', the snapshotter's and the store's threads runs on
// the one io_context thread that run() drives.
class Runtime {
 public:
  // Opens and recovers the log and builds every component; throws ConfigError for bad
  // configuration and std::runtime_error for a log that cannot be recovered.
  Runtime(const ServeConfig& config, services::LogFunction log);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Listens (throws ConfigError if it cannot), starts the components, serves until a signal or a
  // fatal log failure, stops them. Returns the process's exit code.
  int run();

  // For the stop coroutine (a named function taking the Runtime).
  void begin_shutdown(bool failed);
  const std::vector<services::Component*>& components() const { return components_; }
  const services::LogFunction& log() const { return log_; }
  asio::io_context& io() { return io_; }

 private:
  // Adds `component` to the start order; the Runtime owns it.
  template <typename T>
  T& own(std::unique_ptr<T> component) {
    T& ref = *component;
    components_.push_back(&ref);
    owned_.push_back(std::move(component));
    return ref;
  }
  http::Readiness readiness() const;
  void metrics(std::string& out) const;

  ServeConfig config_;
  services::LogFunction log_;
  std::unique_ptr<core::TimeZone> zone_;
  std::unique_ptr<sqlite::EventStore> store_;
  std::string admin_token_;
  std::unique_ptr<crypto::JoinLinkCipher> join_cipher_;

  asio::io_context io_{1};
  time::SystemClock clock_;
  crypto::OpenSslIdSource ids_;
  crypto::Sha256KeyHasher hasher_;
  int exit_code_ = 0;
  bool shutting_down_ = false;

  std::shared_ptr<redis::Connection> redis_;  // null: Redis not configured

  // The log of record and the core.
  std::unique_ptr<eventlog::DurableLog> durable_log_;
  std::unique_ptr<eventlog::StoreCursors> cursors_;
  std::unique_ptr<eventlog::StoreReader> log_reader_;
  std::unique_ptr<eventlog::StoreSnapshots> snapshot_store_;
  std::unique_ptr<core::Service> service_;
  services::Recovery recovered_;
  std::unique_ptr<services::OutcomeLoader> outcome_loader_;  // after listening

  std::unique_ptr<services::Snapshotter> snapshotter_;
  std::unique_ptr<kafka::Producer> producer_;
  std::unique_ptr<kafka::OutboxRelay> relay_;
  std::unique_ptr<services::Subscription> relay_feed_;
  std::unique_ptr<consumers::CommandConsumer> commands_;
  std::unique_ptr<redis::RedisIndex> redis_index_;    // owns the index writer and its subscription
  std::unique_ptr<redis::RedisDemand> redis_demand_;  // roombus:demand:<server id>
  std::unique_ptr<services::LifecycleScheduler> lifecycle_;
  std::unique_ptr<services::DemandForecaster> demand_;
  std::unique_ptr<kafka::DemandTopic> demand_topic_;  // with Kafka only

  std::unique_ptr<http::Api> api_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<asio::signal_set> signals_;

  // Start order; the wrappers of adapters and the probes are owned here, the rest above.
  std::vector<services::Component*> components_;
  std::vector<std::unique_ptr<services::Component>> owned_;
  LogComponent* log_component_ = nullptr;
};

}  // namespace roombus::app
