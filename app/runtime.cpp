// Runtime: construction in start order, run(), and the ordered stop.
#include "runtime.hpp"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <chrono>
#include <cstdio>

#include "admin_token.hpp"
#include "join_key.hpp"
#include "redis_start.hpp"
#include "roombus/crypto/hashing.hpp"
#include "roombus/json/demand_codec.hpp"
#include "roombus/time/tz_time_zone.hpp"

namespace roombus::app {
namespace {

using SteadyClock = std::chrono::steady_clock;

// One component's stop at most (the relay's drain is the longest: until Kafka acknowledged what
// is durable), and the whole stop at most: under a supervisor's usual grace period (30 s).
constexpr std::chrono::seconds kStepTimeout{10};
constexpr std::chrono::seconds kStopTimeout{25};
constexpr double kSlowStop = 1.0;  // seconds

// Seconds with two decimals, for log lines.
std::string seconds(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", value);
  return text;
}

// Every component in reverse start order, each once the later ones have stopped.
asio::awaitable<void> stop_components(Runtime& runtime, bool failed) {
  const auto all_by = SteadyClock::now() + kStopTimeout;
  const auto& components = runtime.components();
  for (auto it = components.rbegin(); it != components.rend(); ++it) {
    const auto began = SteadyClock::now();
    const auto deadline = std::min(all_by, began + kStepTimeout);
    try {
      co_await (*it)->stop(deadline, failed);
    } catch (const std::exception& e) {
      runtime.log()(std::string("stopping ") + std::string((*it)->name()) + " failed: " + e.what());
    }
    // A slow stop is worth a line: it is where a supervisor's grace period goes.
    const double took = std::chrono::duration<double>(SteadyClock::now() - began).count();
    if (took >= kSlowStop) {
      runtime.log()("stopping " + std::string((*it)->name()) + " took " + seconds(took) + " s");
    }
  }
  runtime.io().stop();
}

}  // namespace

Runtime::Runtime(const ServeConfig& config, services::LogFunction log)
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

  // The log of record on this machine, and the core recovered from it.
  durable_log_ =
      std::make_unique<eventlog::DurableLog>(io_, *store_, [this](const std::string& why) {
        log_(why + "; stopping (restart recovers from the log)");
        begin_shutdown(true);
      });
  cursors_ = std::make_unique<eventlog::StoreCursors>(*store_);
  log_reader_ = std::make_unique<eventlog::StoreReader>(*store_);
  snapshot_store_ = std::make_unique<eventlog::StoreSnapshots>(*store_);
  service_ = std::make_unique<core::Service>(
      core::Service::Ports{&clock_, &ids_, &hasher_, zone_.get(), durable_log_.get(), {}},
      core::Service::Options{outcome_ttl});
  recovered_ = services::recover(*log_reader_, *snapshot_store_, *service_, log_);
  const std::int64_t head = service_->state().position();
  log_component_ = &own(std::make_unique<LogComponent>(*store_, log_));

  snapshotter_ = std::make_unique<services::Snapshotter>(*snapshot_store_, service_->state(),
                                                         config_.snapshot_every,
                                                         recovered_.snapshot_position, log_);
  service_->add_listener(snapshotter_.get());
  components_.push_back(snapshotter_.get());

  const kafka::Settings kafka = kafka_settings(config_);
  kafka::RecordContext context{kafka.topic_prefix, store_->log_id()};
  if (kafka.enabled()) {
    producer_ = std::make_unique<kafka::Producer>(io_, kafka, log_);
    own(std::make_unique<ProducerComponent>(*producer_));
    relay_ = std::make_unique<kafka::OutboxRelay>(io_, *producer_, *cursors_, context,
                                                  kafka::RelayOptions{}, log_);
    relay_feed_ = std::make_unique<services::Subscription>(*relay_, *log_reader_, head,
                                                           services::SubscriptionOptions{}, log_);
    service_->add_listener(relay_feed_.get());
    own(std::make_unique<RelayComponent>(*relay_feed_, *producer_));
  }

  if (redis_) {
    own(std::make_unique<RedisConnectionComponent>(redis_));
    redis_index_ = std::make_unique<redis::RedisIndex>(redis_, service_->state(), store_->log_id(),
                                                       head, *log_reader_, log_);
    service_->add_listener(redis_index_.get());
    components_.push_back(redis_index_.get());
    redis_demand_ = std::make_unique<redis::RedisDemand>(redis_, log_);
    components_.push_back(redis_demand_.get());
  }

  if (kafka.enabled()) {
    demand_topic_ = std::make_unique<kafka::DemandTopic>(io_, kafka, context, log_);
    own(std::make_unique<DemandTopicComponent>(*demand_topic_));
  }

  // Stopped after everything that submits commands, before the subscribers drain.
  own(std::make_unique<CoreComponent>(*service_));

  // Demand forecasts follow durable events like the subscribers, but are derived data with no
  // cursor: every live server is published again at start.
  demand_ = std::make_unique<services::DemandForecaster>(
      io_, *service_, std::chrono::minutes{config_.demand_horizon_minutes},
      [](const core::Demand& demand) { return json::encode_demand(demand); });
  service_->add_listener(demand_.get());
  if (demand_topic_) demand_->add_output(kafka_output(*demand_topic_));
  if (redis_demand_) demand_->add_output(redis_demand_->output());
  components_.push_back(demand_.get());

  // Lifecycle facts are decided by the core on Ticks; the Service kept its due index up to date
  // through recovery, and rebuilds it here only for a lead other than the default.
  service_->set_starting_soon(std::chrono::minutes{config_.starting_soon_minutes});
  lifecycle_ = std::make_unique<services::LifecycleScheduler>(
      io_, *service_, [] { return "tick:" + crypto::random_token(16); },
      services::LifecycleOptions{}, log_);
  service_->add_listener(lifecycle_.get());
  components_.push_back(lifecycle_.get());

  if (kafka.enabled()) {
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
    own(std::make_unique<CommandsComponent>(*commands_));
  }

  // Commands with an idempotency key wait for the remembered outcomes; the rest are served
  // meanwhile.
  outcome_loader_ = std::make_unique<services::OutcomeLoader>(
      io_, *log_reader_, *service_, log_, [this](const std::string& why) {
        log_("cannot recover the remembered outcomes: " + why + "; stopping");
        begin_shutdown(true);
      });
  components_.push_back(outcome_loader_.get());

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
  own(std::make_unique<HttpComponent>(*server_));

  // Probes of several components at once: no start, no stop.
  std::vector<const services::Subscription*> feeds;
  if (relay_feed_) feeds.push_back(relay_feed_.get());
  if (redis_index_) feeds.push_back(&redis_index_->subscription());
  own(std::make_unique<SubscriptionsProbe>(std::move(feeds)));
  own(std::make_unique<RedisProbe>(redis_index_.get(), redis_demand_.get()));
  own(std::make_unique<KafkaProbe>(producer_.get(), relay_.get(), relay_feed_.get(),
                                   commands_.get()));
}

Runtime::~Runtime() {
  // Their threads call the subscribers, which are destroyed before them otherwise.
  if (relay_feed_) relay_feed_->close();
  if (redis_index_) redis_index_->subscription().close();
}

void Runtime::begin_shutdown(bool failed) {
  if (failed) exit_code_ = 1;
  if (shutting_down_) return;
  shutting_down_ = true;
  asio::co_spawn(io_, stop_components(*this, failed), [this](std::exception_ptr e) {
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

  // Accepting starts with io_.run(), after every component started.
  for (services::Component* component : components_) component->start();
  io_.run();

  if (log_component_->close_failed()) exit_code_ = 1;
  log_(exit_code_ == 0 ? "stopped" : "stopped after a failure");
  return exit_code_;
}

http::Readiness Runtime::readiness() const {
  std::vector<Check> checks;
  for (const services::Component* component : components_) component->check(checks);
  http::Readiness r;
  for (const Check& c : checks) {
    r.checks.emplace_back(c.name, c.state);
    if (!c.detail.empty() && c.state != "ok") r.details.emplace_back(c.name, c.detail);
    if (c.required && c.state != "ok") r.ready = false;
  }
  return r;
}

void Runtime::metrics(std::string& out) const {
  for (const services::Component* component : components_) component->metrics(out);
}

}  // namespace roombus::app
