// The adapters of `roombus serve` as components, and the probes of several at once.
#include "components.hpp"

#include <algorithm>
#include <asio/this_coro.hpp>
#include <memory>

#include "roombus/services/signal.hpp"

namespace roombus::app {
namespace {

using services::append_sample;
using services::describe;
using services::single;
using SteadyClock = std::chrono::steady_clock;

// How long commands decided before a stop may take to become durable (and Kafka commands taken
// before it to have their results acknowledged).
constexpr std::chrono::seconds kInFlightTimeout{5};
// What is left in the producer after the relay drained (records after the relay's saved cursor:
// they are sent again on the next start).
constexpr std::chrono::milliseconds kFlushTimeout{1000};
// Forecasts are derived: what is not out after a short flush is published again at start.
constexpr std::chrono::milliseconds kDemandFlushTimeout{500};

// Waits on the io_context until `subscribe` reports the fact (through the callback it is given,
// called on the io_context's thread) or until `deadline`.
template <typename Subscribe>
asio::awaitable<void> until(Deadline deadline, Subscribe subscribe) {
  auto executor = co_await asio::this_coro::executor;
  auto fact = std::make_shared<services::Signal>(executor);
  subscribe([fact] { fact->set(); });
  co_await fact->wait(deadline);
}

double d(auto value) { return static_cast<double>(value); }

std::string label(std::string_view name, std::string_view value) {
  return std::string(name) + "=\"" + std::string(value) + "\"";
}

// A metric with one label: HELP, TYPE, then a sample per label value.
void family(std::string& out, std::string_view name, std::string_view type, std::string_view help,
            std::string_view label_name,
            std::initializer_list<std::pair<std::string_view, double>> samples) {
  describe(out, name, type, help);
  for (const auto& [value, sample] : samples) {
    append_sample(out, name, label(label_name, value), sample);
  }
}

}  // namespace

void LogComponent::check(std::vector<Check>& out) const {
  if (auto failure = store_.failure()) {
    out.push_back({"log", "down", "event log failed: " + failure.message(), true});
  } else {
    out.push_back({"log", "ok", "", true});
  }
}

void LogComponent::metrics(std::string& out) const {
  sqlite::Counters c = store_.counters();
  single(out, "roombus_log_transactions_total", "counter",
         "Committed event-log transactions (fsyncs).", d(c.transactions));
  single(out, "roombus_log_events_total", "counter", "Events made durable since start.",
         d(c.events));
  single(out, "roombus_log_checkpoints_total", "counter", "WAL checkpoints since start.",
         d(c.checkpoints));
  single(out, "roombus_snapshots_total", "counter", "Snapshots written since start.",
         d(c.snapshots));
}

asio::awaitable<void> LogComponent::stop(Deadline, bool) {
  try {
    store_.close();
  } catch (const std::exception& e) {
    close_failed_ = true;
    if (log_) log_(std::string("closing the event log failed: ") + e.what());
  }
  co_return;
}

asio::awaitable<void> CoreComponent::stop(Deadline deadline, bool) {
  co_await until(std::min(deadline, SteadyClock::now() + kInFlightTimeout),
                 [this](auto then) { service_.when_settled(std::move(then)); });
}

asio::awaitable<void> HttpComponent::stop(Deadline, bool) { co_await server_.stop(); }

void HttpComponent::metrics(std::string& out) const {
  single(out, "roombus_http_connections", "gauge", "Open HTTP connections.",
         d(server_.connection_count()));
}

void SubscriptionsProbe::metrics(std::string& out) const {
  std::vector<services::SubscriptionStatus> all;
  for (const services::Subscription* s : subscriptions_) all.push_back(s->status());
  auto each = [&](std::string_view name, std::string_view type, std::string_view help, auto value) {
    describe(out, name, type, help);
    for (const auto& s : all) append_sample(out, name, label("subscriber", s.name), d(value(s)));
  };
  each("roombus_subscriber_lag_events", "gauge",
       "Durable events the subscriber has not handled yet.",
       [](const services::SubscriptionStatus& s) {
         return s.head > s.handled ? s.head - s.handled : 0;
       });
  each("roombus_subscriber_lag_seconds", "gauge",
       "Age of the oldest durable event the subscriber has not handled yet.",
       [](const services::SubscriptionStatus& s) { return s.lag_seconds; });
  each("roombus_subscriber_handled_position", "gauge",
       "Log position up to which the subscriber has handled everything.",
       [](const services::SubscriptionStatus& s) { return s.handled; });
  each("roombus_subscriber_queued_events", "gauge", "Live events held for the subscriber.",
       [](const services::SubscriptionStatus& s) { return s.queued; });
  each("roombus_subscriber_overflows_total", "counter",
       "Times the subscriber fell so far behind that its queue was dropped for the log.",
       [](const services::SubscriptionStatus& s) { return s.overflows; });
  each("roombus_subscriber_log_reads_total", "counter",
       "Events read back from the log for the subscriber.",
       [](const services::SubscriptionStatus& s) { return s.events_from_log; });
  each("roombus_subscriber_failures_total", "counter",
       "Failed deliveries to (or resumptions of) the subscriber.",
       [](const services::SubscriptionStatus& s) { return s.failures; });
}

asio::awaitable<void> ProducerComponent::stop(Deadline, bool) {
  producer_.flush(kFlushTimeout);
  producer_.stop();
  co_return;
}

asio::awaitable<void> RelayComponent::stop(Deadline deadline, bool failed) {
  const kafka::ProducerStatus producer = producer_.status();
  const bool reachable = !producer.statistics_seen || producer.brokers_up > 0;
  co_await feed_.stop(reachable ? deadline : SteadyClock::now(), failed);
}

asio::awaitable<void> CommandsComponent::stop(Deadline deadline, bool failed) {
  commands_.stop_taking();
  if (!failed) {
    co_await until(std::min(deadline, SteadyClock::now() + kInFlightTimeout),
                   [this](auto then) { commands_.when_idle(std::move(then)); });
  }
  commands_.close(kFlushTimeout);
}

asio::awaitable<void> DemandTopicComponent::stop(Deadline, bool) {
  topic_.stop(kDemandFlushTimeout);
  co_return;
}

void DemandTopicComponent::metrics(std::string& out) const {
  const kafka::DemandTopicStatus s = topic_.status();
  single(out, "roombus_kafka_demand_topic_ready", "gauge",
         "1 once the server-demand topic was found or created.", s.topic_ready ? 1.0 : 0.0);
  single(out, "roombus_kafka_demand_produced_total", "counter", "Demand records produced.",
         d(s.produced));
  single(out, "roombus_kafka_demand_delivered_total", "counter", "Demand records acknowledged.",
         d(s.delivered));
  single(out, "roombus_kafka_demand_failed_total", "counter",
         "Demand records refused or not delivered (the next forecast replaces them).", d(s.failed));
  single(out, "roombus_kafka_demand_waiting", "gauge",
         "Servers whose newest forecast waits for the previous record's acknowledgement.",
         d(s.waiting));
}

asio::awaitable<void> RedisConnectionComponent::stop(Deadline, bool) {
  connection_->stop();
  co_return;
}

void KafkaProbe::check(std::vector<Check>& out) const {
  if (producer_ == nullptr) {
    out.push_back({"kafka", "off", "", false});
    return;
  }
  kafka::ProducerStatus p = producer_->status();
  kafka::RelayStatus r = relay_->status();
  services::SubscriptionStatus s = subscription_->status();
  std::string why;
  if (p.fatal) {
    why = p.last_error;
  } else if (!p.statistics_seen) {
    why = "connecting";
  } else if (p.brokers_up == 0) {
    why = "no broker reachable" + (p.last_error.empty() ? "" : ": " + p.last_error);
  } else if (!r.topics_ready) {
    why = "topics not ready" + (s.last_error.empty() ? "" : ": " + s.last_error);
  } else if (s.failing) {
    why = s.last_error;
  } else if (commands_ != nullptr) {
    consumers::CommandConsumerStatus c = commands_->status();
    if (!c.topics_ready) {
      why = "command topics not ready: " +
            (c.topics_error.empty() ? std::string("checking") : c.topics_error);
    } else if (c.consumer.statistics_seen && c.consumer.brokers_up == 0) {
      why = "the command consumer reaches no broker" +
            (c.consumer.last_error.empty() ? "" : ": " + c.consumer.last_error);
    }
  }
  out.push_back({"kafka", why.empty() ? "ok" : "down", why, false});
}

void KafkaProbe::metrics(std::string& out) const {
  if (producer_ == nullptr) return;
  kafka::ProducerStatus p = producer_->status();
  kafka::RelayStatus r = relay_->status();
  single(out, "roombus_kafka_brokers_up", "gauge", "Kafka brokers the producer is connected to.",
         d(p.brokers_up));
  single(out, "roombus_kafka_producer_queue", "gauge",
         "Records queued in the producer or in flight, not yet acknowledged.", d(p.queued));
  single(out, "roombus_kafka_delivered_total", "counter", "Records Kafka acknowledged.",
         d(p.delivered));
  single(out, "roombus_kafka_delivery_errors_total", "counter",
         "Records whose delivery failed (they are sent again from the relay's cursor).",
         d(p.delivery_errors));
  single(out, "roombus_kafka_relay_delivered_position", "gauge",
         "Log position up to which Kafka acknowledged every event.", d(r.acknowledged));
  single(out, "roombus_kafka_relay_cursor", "gauge", "The relay's durable cursor.", d(r.saved));
  single(out, "roombus_kafka_relay_rewinds_total", "counter",
         "Times the relay went back to its cursor after a refused record.", d(r.rewinds));
  if (commands_ == nullptr) return;
  consumers::CommandConsumerStatus c = commands_->status();
  describe(out, "roombus_kafka_commands_total", "counter",
           "Kafka commands by type and outcome (ok, error, dead_letter).");
  for (const auto& [key, n] : c.commands) {
    append_sample(out, "roombus_kafka_commands_total",
                  label("type", key.first) + "," + label("outcome", key.second), d(n));
  }
  describe(out, "roombus_kafka_dead_letters_total", "counter",
           "Kafka command records sent to the dead-letter topic, by reason.");
  for (const auto& [reason, n] : c.dead_letters) {
    append_sample(out, "roombus_kafka_dead_letters_total", label("reason", reason), d(n));
  }
  describe(out, "roombus_kafka_consumer_lag", "gauge",
           "Command records not consumed yet, per partition (-1: not known yet).");
  for (const auto& [tp, lag] : c.consumer.lag) {
    append_sample(out, "roombus_kafka_consumer_lag",
                  label("topic", tp.first) + "," + label("partition", std::to_string(tp.second)),
                  d(lag));
  }
  single(out, "roombus_kafka_commands_in_flight", "gauge",
         "Kafka commands running or waiting for their result to be acknowledged.", d(c.in_flight));
  single(out, "roombus_kafka_commands_running", "gauge",
         "Kafka commands in the core (submitted, outcome not durable yet); at most 64.",
         d(c.running));
  single(out, "roombus_kafka_consumer_paused", "gauge",
         "1 while the command consumer pauses its partitions (too many commands in flight).",
         c.consumer.paused ? 1.0 : 0.0);
  single(out, "roombus_kafka_command_output_retries_total", "counter",
         "Results or dead letters Kafka refused and roombus sent again.", d(c.output_retries));
}

void RedisProbe::check(std::vector<Check>& out) const {
  if (index_ == nullptr) {
    out.push_back({"redis", "off", "", false});
    return;
  }
  const redis::Connection& c = index_->connection();
  out.push_back({"redis", c.up() ? "ok" : "down", c.up() ? "" : c.last_error(), false});
}

void RedisProbe::metrics(std::string& out) const {
  if (index_ == nullptr) return;
  const redis::Connection& conn = index_->connection();
  const redis::Counters& c = conn.counters();
  single(out, "roombus_redis_up", "gauge", "1 while the Redis connection is up.",
         conn.up() ? 1 : 0);
  single(out, "roombus_redis_commands_total", "counter", "Commands sent to Redis.", d(c.commands));
  single(out, "roombus_redis_errors_total", "counter",
         "Redis operations that failed (no connection, connection lost, error replies).",
         d(c.errors));
  single(out, "roombus_redis_timeouts_total", "counter",
         "Redis operations whose deadline passed first.", d(c.timeouts));
  single(out, "roombus_redis_reconnects_total", "counter",
         "Connections to Redis established after the first one.", d(c.reconnects));
  single(out, "roombus_redis_connect_failures_total", "counter", "Connection attempts that failed.",
         d(c.connect_failures));

  const redis::RedisIndexCounters& i = index_->counters();
  single(out, "roombus_redis_index_rebuilds_total", "counter",
         "Times the index was wiped and rebuilt from the start of the log.",
         d(index_->writer().wipes()));
  family(out, "roombus_redis_index_repairs_total", "counter",
         "Times the index was found lost (cursor check), with members added or removed (count "
         "check) or holding a uid roombus never issued (a query), and had it rebuilt.",
         "check",
         {{"cursor", d(i.cursor_repairs)},
          {"count", d(i.count_repairs)},
          {"member", d(i.member_repairs)}});
  single(out, "roombus_redis_index_position", "gauge",
         "Log position up to which the index in Redis is written.",
         d(index_->writer().handled_position()));
  family(out, "roombus_redis_get_rooms_queries_total", "counter",
         "getRooms questions put to the index (answers reused from the answer cache are not "
         "asked again), by outcome; all but answered fall back to memory.",
         "outcome",
         {{"answered", d(i.answered)},
          {"behind", d(i.behind)},
          {"unavailable", d(i.unavailable)},
          {"timeout", d(i.timeouts)},
          {"error", d(i.errors)}});
  if (demand_ == nullptr) return;
  const redis::RedisDemandCounters& dc = demand_->counters();
  family(out, "roombus_redis_demand_writes_total", "counter",
         "Demand forecasts written to roombus:demand:<server id> (or deleted), by outcome; what "
         "failed is written again after the next reconnect.",
         "outcome", {{"ok", d(dc.written)}, {"failed", d(dc.failed)}});
  single(out, "roombus_redis_demand_rewrites_total", "counter",
         "Times every forecast was written again after a (re)connection.", d(dc.rewrites));
}

services::DemandOutput kafka_output(kafka::DemandTopic& topic) {
  return services::DemandOutput{
      "kafka",
      [&topic](const core::Demand& demand, const std::string& json) { topic.put(demand, json); },
      [&topic](core::ServerId server, core::Instant at) { topic.remove(server, at); }};
}

}  // namespace roombus::app
