// Runtime: construction in start order, run(), and the ordered shutdown.
#include "runtime.hpp"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <cstdio>

#include "admin_token.hpp"
#include "join_key.hpp"
#include "roombus/crypto/hashing.hpp"
#include "roombus/time/tz_time_zone.hpp"

namespace roombus::app {
namespace {

using SteadyClock = std::chrono::steady_clock;

// How long commands decided before a stop may take to become durable.
constexpr std::chrono::seconds kInFlightTimeout{5};
// How long subscribers get to finish what is durable (the relay: until Kafka acknowledged it).
constexpr std::chrono::seconds kDrainTimeout{10};
// The Redis index's share of it: what it has not written is written from its cursor at the next
// start, so Redis must not hold the shutdown for long.
constexpr std::chrono::seconds kRedisDrainTimeout{2};
// What is left in the producer after that (records after the relay's saved cursor: they are
// sent again on the next start).
constexpr std::chrono::milliseconds kFlushTimeout{1000};

// Seconds with two decimals, for log lines.
std::string seconds(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", value);
  return text;
}

asio::awaitable<void> pause(asio::io_context& io, std::chrono::milliseconds how_long) {
  asio::steady_timer timer(io);
  timer.expires_after(how_long);
  co_await timer.async_wait(asio::use_awaitable);
}

// Stop accepting, answer what is in flight, let the log make decided commands durable, let each
// subscriber finish what is durable, then end the loop. After a failed commit the subscribers are
// not waited for: the process must stop.
asio::awaitable<void> shut_down(Runtime& runtime, bool failed) {
  consumers::CommandConsumer* commands = runtime.commands();
  if (commands != nullptr) commands->stop_taking();
  runtime.stop_schedulers();
  // Commands waiting for the remembered outcomes: those take seconds at most to load.
  const auto loaded_by = SteadyClock::now() + kInFlightTimeout;
  while (runtime.service().recovering_outcomes() && SteadyClock::now() < loaded_by) {
    co_await pause(runtime.io(), std::chrono::milliseconds(5));
  }
  if (runtime.service().recovering_outcomes()) {
    runtime.service().abandon_outcome_recovery("the service stopped before they were loaded");
  }
  co_await runtime.server().stop();
  const auto committed_by = SteadyClock::now() + kInFlightTimeout;
  while (runtime.service().in_flight() > 0 && SteadyClock::now() < committed_by) {
    co_await pause(runtime.io(), std::chrono::milliseconds(5));
  }
  // Kafka commands taken before the stop: their results out (acknowledged), so their offsets
  // can be committed when the consumer leaves its group.
  while (!failed && commands != nullptr && !commands->idle() && SteadyClock::now() < committed_by) {
    co_await pause(runtime.io(), std::chrono::milliseconds(5));
  }
  if (!failed) {
    const auto deadline = SteadyClock::now() + kDrainTimeout;
    for (Subscription* s : runtime.subscriptions()) s->drain(runtime.drain_deadline(*s, deadline));
    for (;;) {
      bool all = true;
      for (Subscription* s : runtime.subscriptions()) all = all && s->drained();
      if (all || SteadyClock::now() >= deadline + std::chrono::seconds(1)) break;
      co_await pause(runtime.io(), std::chrono::milliseconds(5));
    }
    // Last, as it blocks this thread until the child has written the state.
    runtime.snapshotter().finish();
  }
  runtime.stop_redis();
  runtime.io().stop();
}

}  // namespace

Runtime::Runtime(const ServeConfig& config, LogFunction log)
    : config_(config), log_(std::move(log)) {
  validate(config_);
  zone_ = time::make_time_zone(config_.timezone);
  if (!config_.redis_url.empty()) redis_ = connect_redis(io_, config_.redis_url, log_);
  const std::chrono::seconds outcome_ttl = idempotency_ttl(config_);
  try {
    sqlite::EventStore::Options options;
    options.log = log_;
    options.outcome_ttl = outcome_ttl;
    store_ = sqlite::EventStore::open(config_.data_dir, options);
  } catch (const std::exception& e) {
    throw ConfigError(std::string("--data-dir/ROOMBUS_DATA_DIR: ") + e.what());
  }
  admin_token_ = admin_token(config_, log_);
  join_cipher_ = std::make_unique<crypto::JoinLinkCipher>(load_join_key(config_, log_));

  durable_log_ = std::make_unique<DurableLog>(io_, *store_, [this](const std::string& why) {
    log_(why + "; stopping (restart recovers from the log)");
    begin_shutdown(true);
  });
  cursors_ = std::make_unique<StoreCursors>(*store_);
  service_ = std::make_unique<core::Service>(
      core::Service::Ports{&clock_, &ids_, &hasher_, zone_.get(), durable_log_.get(), {}},
      core::Service::Options{outcome_ttl});
  recovered_ = recover(*store_, *service_, log_);
  outcome_loader_ = std::make_unique<OutcomeLoader>(
      io_, *store_, *service_, log_, [this](const std::string& why) {
        log_("cannot recover the remembered outcomes: " + why + "; stopping");
        begin_shutdown(true);
      });
  log_reader_ = std::make_unique<StoreLogReader>(*store_);
  const std::int64_t head = service_->state().position();

  snapshotter_ = std::make_unique<Snapshotter>(*store_, service_->state(), config_.snapshot_every,
                                               recovered_.snapshot_position, log_);
  service_->add_listener(snapshotter_.get());

  const kafka::Settings kafka = kafka_settings(config_);
  if (kafka.enabled()) {
    producer_ = std::make_unique<kafka::Producer>(io_, kafka, log_);
    kafka::RecordContext context{kafka.topic_prefix, store_->log_id()};
    relay_ = std::make_unique<kafka::OutboxRelay>(io_, *producer_, *cursors_, context,
                                                  kafka::RelayOptions{}, log_);
    relay_feed_ =
        std::make_unique<Subscription>(*relay_, *log_reader_, head, SubscriptionOptions{}, log_);
    service_->add_listener(relay_feed_.get());

    consumers::CommandConsumerOptions options;
    options.group = config_.kafka_group;
    options.max_in_flight = static_cast<std::size_t>(config_.kafka_commands_in_flight);
    // The server is made below; the consumer takes no record before start().
    options.busy = [this] { return server_ && server_->busy(std::chrono::milliseconds(10)); };
    core::Service* service = service_.get();
    commands_ = std::make_unique<consumers::CommandConsumer>(
        io_, kafka,
        [service](consumers::CommandRecord record) {
          return consumers::run_command(*service, std::move(record));
        },
        [service](std::string_view key) {
          auto hash = service->hash_key(std::string(key));
          return hash && !service->state().live_servers_by_key_hash(*hash).empty();
        },
        options, log_);
    demand_topic_ = std::make_unique<kafka::DemandTopic>(io_, kafka, context, log_);
  }

  if (redis_) {
    redis_index_ = std::make_unique<RedisIndex>(redis_, service_->state(), store_->log_id(), head,
                                                *log_reader_, log_);
    service_->add_listener(redis_index_.get());
  }

  // Lifecycle facts are decided by the core on Ticks; the Service kept its due index up to date
  // through recovery, and rebuilds it here only for a lead other than the default. Demand forecasts
  // follow durable events like the subscribers, but are derived data with no cursor: every live
  // server is published again at start.
  service_->set_starting_soon(std::chrono::minutes{config_.starting_soon_minutes});
  lifecycle_ = std::make_unique<LifecycleScheduler>(
      io_, *service_, [] { return "tick:" + crypto::random_token(16); }, LifecycleOptions{}, log_);
  service_->add_listener(lifecycle_.get());
  demand_ = std::make_unique<DemandForecaster>(
      io_, *service_, std::chrono::minutes{config_.demand_horizon_minutes});
  service_->add_listener(demand_.get());
  if (demand_topic_) demand_->add_output(kafka_output(*demand_topic_));
  if (redis_) {
    redis_demand_ = std::make_unique<RedisDemand>(redis_, log_);
    demand_->add_output(redis_demand_->output());
  }

  http::ApiOptions api_options;
  api_options.public_url = config_.public_url;
  api_options.info_requires_key = config_.info_requires_key;
  api_options.server_info_open = config_.server_info_open;
  api_options.hash_token = [](std::string_view t) { return crypto::sha256_hex(t); };
  api_options.admin_token_hash = crypto::sha256_hex(admin_token_);
  api_options.new_command_id = [] { return "gen:" + crypto::random_token(16); };
  api_options.join = join_options(*join_cipher_, config_.join_early_minutes);
  api_options.readiness = [this] { return readiness(); };
  api_options.extra_metrics = [this](std::string& out) { metrics(out); };
  api_options.upcoming_index = redis_index_.get();
  api_options.demand_horizon = std::chrono::minutes{config_.demand_horizon_minutes};
  api_ = std::make_unique<http::Api>(*service_, api_options);

  http::ServerOptions server_options;
  server_options.max_body_bytes = static_cast<std::size_t>(config_.max_body_bytes);
  server_options.max_connections = static_cast<std::size_t>(config_.max_connections);
  server_options.log = log_;
  http::Api* api = api_.get();
  server_ = std::make_unique<http::Server>(
      io_, [api](http::Request& request) { return api->handle(request); }, server_options);

  probes_.push_back(std::make_unique<LogProbe>(*store_));
  probes_.push_back(std::make_unique<HttpProbe>(*server_));
  std::vector<const Subscription*> feeds;
  if (relay_feed_) feeds.push_back(relay_feed_.get());
  if (redis_index_) feeds.push_back(&redis_index_->subscription());
  probes_.push_back(std::make_unique<SubscriptionsProbe>(feeds));
  probes_.push_back(std::make_unique<SnapshotProbe>(*snapshotter_));
  probes_.push_back(std::make_unique<RedisProbe>(redis_index_.get(), redis_demand_.get()));
  probes_.push_back(std::make_unique<KafkaProbe>(producer_.get(), relay_.get(), relay_feed_.get(),
                                                 commands_.get()));
  if (demand_topic_) probes_.push_back(std::make_unique<DemandTopicProbe>(*demand_topic_));
}

Runtime::~Runtime() {
  for (Subscription* s : subscriptions()) s->stop();
}

std::vector<Subscription*> Runtime::subscriptions() {
  std::vector<Subscription*> all;
  if (relay_feed_) all.push_back(relay_feed_.get());
  if (redis_index_) all.push_back(&redis_index_->subscription());
  return all;
}

SteadyClock::time_point Runtime::drain_deadline(const Subscription& subscription,
                                                SteadyClock::time_point deadline) const {
  if (redis_index_ && &subscription == &redis_index_->subscription()) {
    // A Redis that is down now takes nothing in the next seconds either: no wait at all.
    if (!redis_->up()) return SteadyClock::now();
    return std::min(deadline, SteadyClock::now() + kRedisDrainTimeout);
  }
  return deadline;
}

void Runtime::stop_redis() {
  if (redis_demand_) redis_demand_->stop();
  if (redis_index_) redis_index_->stop();
  if (redis_) redis_->stop();
}

void Runtime::stop_schedulers() {
  lifecycle_->stop();
  demand_->stop();
}

void Runtime::begin_shutdown(bool failed) {
  if (failed) exit_code_ = 1;
  if (shutting_down_) return;
  shutting_down_ = true;
  asio::co_spawn(io_, shut_down(*this, failed), [this](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log_(std::string("shutdown failed: ") + ex.what());
    }
    io_.stop();
  });
}

int Runtime::run() {
  // Before listening: a supervisor may signal as soon as the "listening" line appears.
  signals_ = std::make_unique<asio::signal_set>(io_, SIGINT, SIGTERM);
  signals_->async_wait([this](const std::error_code& ec, int signal) {
    if (ec) return;
    log_("signal " + std::to_string(signal) + ": shutting down");
    begin_shutdown(false);
  });
  try {
    server_->listen(config_.listen);
  } catch (const std::exception& e) {
    throw ConfigError("--listen/ROOMBUS_LISTEN: cannot listen on " + config_.listen + ": " +
                      e.what());
  }
  auto endpoint = server_->local_endpoint();
  log_("listening on http://" + endpoint.address().to_string() + ":" +
       std::to_string(endpoint.port()) + " (data " + config_.data_dir.string() + ", zone " +
       zone_->name() + ", kafka " + (producer_ ? config_.kafka_brokers : "off") + ", redis " +
       (redis_ ? redis_->url().redacted() : "off") + "); recovered " +
       std::to_string(service_->state().position()) + " events (snapshot at " +
       std::to_string(recovered_.snapshot_position) + ", " +
       std::to_string(recovered_.events_replayed) + " replayed) in " + seconds(recovered_.seconds) +
       " s (snapshot read " + seconds(recovered_.snapshot_read_seconds) + " s, restore " +
       seconds(recovered_.restore_seconds) + " s, replay " + seconds(recovered_.replay_seconds) +
       " s); remembered outcomes load in the background");

  // Commands with an idempotency key wait for it; everything else is served meanwhile.
  outcome_loader_->start();
  snapshotter_->check(service_->state().position());  // recovered: every event is durable
  if (producer_) producer_->start();
  if (redis_index_) redis_index_->start();
  if (redis_demand_) redis_demand_->start();
  for (Subscription* s : subscriptions()) s->start();
  if (commands_) commands_->start();
  if (demand_topic_) demand_topic_->start();
  lifecycle_->start();
  demand_->start();
  io_.run();

  outcome_loader_->stop();
  for (Subscription* s : subscriptions()) s->stop();
  if (commands_) commands_->close(kFlushTimeout);
  if (producer_) {
    producer_->flush(kFlushTimeout);
    producer_->stop();
  }
  // Forecasts are derived: what is not out after a short flush is published again at start.
  if (demand_topic_) demand_topic_->stop(std::chrono::milliseconds(500));
  try {
    store_->close();
  } catch (const std::exception& e) {
    log_(std::string("closing the event log failed: ") + e.what());
    exit_code_ = 1;
  }
  log_(exit_code_ == 0 ? "stopped" : "stopped after a failure");
  return exit_code_;
}

http::Readiness Runtime::readiness() const {
  std::vector<Check> checks;
  for (const auto& probe : probes_) probe->check(checks);
  http::Readiness r;
  for (const Check& c : checks) {
    r.checks.emplace_back(c.name, c.state);
    if (!c.detail.empty() && c.state != "ok") r.details.emplace_back(c.name, c.detail);
    if (c.required && c.state != "ok") r.ready = false;
  }
  return r;
}

void Runtime::metrics(std::string& out) const {
  for (const auto& probe : probes_) probe->metrics(out);
  lifecycle_->metrics(out);
  demand_->metrics(out);
}

}  // namespace roombus::app
