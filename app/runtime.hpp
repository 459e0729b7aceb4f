// The Runtime of `roombus serve`: owns every component, starts them in order, stops them in
// reverse, and assembles /readyz and /metrics from their probes.
#pragma once

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config.hpp"
#include "demand.hpp"
#include "durable_log.hpp"
#include "lifecycle_scheduler.hpp"
#include "probes.hpp"
#include "recovery.hpp"
#include "redis_demand.hpp"
#include "redis_index.hpp"
#include "roombus/consumers/command_consumer.hpp"
#include "roombus/core/service.hpp"
#include "roombus/crypto/hashing.hpp"
#include "roombus/crypto/ids.hpp"
#include "roombus/crypto/join_links.hpp"
#include "roombus/http/api.hpp"
#include "roombus/http/server.hpp"
#include "roombus/kafka/outbox_relay.hpp"
#include "roombus/kafka/producer.hpp"
#include "roombus/redis/connection.hpp"
#include "roombus/sqlite/event_store.hpp"
#include "roombus/time/system_clock.hpp"
#include "snapshotter.hpp"
#include "subscription.hpp"

namespace roombus::app {

// Start order (construction, then run()): Redis (one attempt, so that a refused password stops
// start-up before a long recovery; unreachable only degrades), the event log, the core recovered
// from it, the snapshotter (a listener: it forks a child per snapshot), the subscribers (Kafka
// relay) fed from their cursors, the Kafka command
// consumer, the Redis index (a subscriber too), the HTTP API, signals, listening.
// Stop order (SIGINT/SIGTERM): stop accepting (HTTP and Kafka commands) and answer what is in
// flight (command results acknowledged), wait for the log to make every decided command durable,
// let every subscriber finish what is durable (the relay until Kafka acknowledged it, bounded by
// a deadline; the Redis index for 2 s at most, and not at all while Redis is down: it is derived
// data, caught up from its cursor at the next start), write a last snapshot (its child waited
// for), close the Redis connection, then leave the
// consumer group (committing what is done), close the producers and the log.
// A failed commit stops the same way but at once after answering (exit code 1).
// Threads: everything but the subscriptions' threads and the store's runs on the one io_context
// thread that run() drives.
class Runtime {
 public:
  // Opens and recovers the log and builds every component; throws ConfigError for bad
  // configuration and std::runtime_error for a log that cannot be recovered.
  Runtime(const ServeConfig& config, LogFunction log);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Listens (throws ConfigError if it cannot), serves until a signal or a fatal log failure,
  // shuts down in order. Returns the process's exit code.
  int run();

  // For the shut-down coroutines (named functions taking the Runtime as a parameter).
  void begin_shutdown(bool failed);
  // Lifecycle Ticks and demand forecasts stop first at shutdown: nothing new is decided.
  void stop_schedulers();
  http::Server& server() { return *server_; }
  core::Service& service() { return *service_; }
  std::vector<Subscription*> subscriptions();
  // The end of a subscription's drain that begins now, given the common `deadline`.
  std::chrono::steady_clock::time_point drain_deadline(
      const Subscription& subscription, std::chrono::steady_clock::time_point deadline) const;
  // On the io thread, after the drain: ends the index's watch and closes the connection.
  void stop_redis();
  consumers::CommandConsumer* commands() { return commands_.get(); }
  Snapshotter& snapshotter() { return *snapshotter_; }
  asio::io_context& io() { return io_; }

 private:
  http::Readiness readiness() const;
  void metrics(std::string& out) const;

  ServeConfig config_;
  LogFunction log_;
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

  std::unique_ptr<DurableLog> durable_log_;
  std::unique_ptr<StoreCursors> cursors_;
  std::unique_ptr<core::Service> service_;
  std::unique_ptr<OutcomeLoader> outcome_loader_;  // remembered outcomes, after listening
  Recovery recovered_;
  std::unique_ptr<StoreLogReader> log_reader_;

  std::unique_ptr<Snapshotter> snapshotter_;
  std::unique_ptr<kafka::Producer> producer_;
  std::unique_ptr<kafka::OutboxRelay> relay_;
  std::unique_ptr<Subscription> relay_feed_;
  std::unique_ptr<consumers::CommandConsumer> commands_;
  std::unique_ptr<RedisIndex> redis_index_;    // owns the index writer and its subscription
  std::unique_ptr<RedisDemand> redis_demand_;  // roombus:demand:<server id>

  // Room lifecycle facts and demand forecasts.
  std::unique_ptr<LifecycleScheduler> lifecycle_;
  std::unique_ptr<DemandForecaster> demand_;
  std::unique_ptr<kafka::DemandTopic> demand_topic_;  // with Kafka only

  std::unique_ptr<http::Api> api_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<asio::signal_set> signals_;
  std::vector<std::unique_ptr<Probe>> probes_;
};

}  // namespace roombus::app
