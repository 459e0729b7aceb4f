// Probes of the log, HTTP, subscriptions, snapshots, Redis and Kafka.
#include "probes.hpp"

#include "roombus/http/metrics.hpp"

namespace roombus::app {
namespace {

using http::append_sample;

double d(auto value) { return static_cast<double>(value); }

std::string label(std::string_view name, std::string_view value) {
  return std::string(name) + "=\"" + std::string(value) + "\"";
}

}  // namespace

void describe(std::string& out, std::string_view name, std::string_view type,
              std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void LogProbe::check(std::vector<Check>& out) const {
  if (auto failure = store_.failure()) {
    out.push_back({"log", "down", "event log failed: " + failure.message(), true});
  } else {
    out.push_back({"log", "ok", "", true});
  }
}

void LogProbe::metrics(std::string& out) const {
  sqlite::Counters c = store_.counters();
  describe(out, "roombus_log_transactions_total", "counter",
           "Committed event-log transactions (fsyncs).");
  append_sample(out, "roombus_log_transactions_total", "", d(c.transactions));
  describe(out, "roombus_log_events_total", "counter", "Events made durable since start.");
  append_sample(out, "roombus_log_events_total", "", d(c.events));
  describe(out, "roombus_log_checkpoints_total", "counter", "WAL checkpoints since start.");
  append_sample(out, "roombus_log_checkpoints_total", "", d(c.checkpoints));
  describe(out, "roombus_snapshots_total", "counter", "Snapshots written since start.");
  append_sample(out, "roombus_snapshots_total", "", d(c.snapshots));
}

void HttpProbe::metrics(std::string& out) const {
  describe(out, "roombus_http_connections", "gauge", "Open HTTP connections.");
  append_sample(out, "roombus_http_connections", "", d(server_.connection_count()));
}

void SubscriptionsProbe::metrics(std::string& out) const {
  std::vector<SubscriptionStatus> all;
  for (const Subscription* s : subscriptions_) all.push_back(s->status());
  auto each = [&](std::string_view name, std::string_view type, std::string_view help, auto value) {
    describe(out, name, type, help);
    for (const auto& s : all) append_sample(out, name, label("subscriber", s.name), d(value(s)));
  };
  each("roombus_subscriber_lag_events", "gauge",
       "Durable events the subscriber has not handled yet.",
       [](const SubscriptionStatus& s) { return s.head > s.handled ? s.head - s.handled : 0; });
  each("roombus_subscriber_lag_seconds", "gauge",
       "Age of the oldest durable event the subscriber has not handled yet.",
       [](const SubscriptionStatus& s) { return s.lag_seconds; });
  each("roombus_subscriber_handled_position", "gauge",
       "Log position up to which the subscriber has handled everything.",
       [](const SubscriptionStatus& s) { return s.handled; });
  each("roombus_subscriber_queued_events", "gauge", "Live events held for the subscriber.",
       [](const SubscriptionStatus& s) { return s.queued; });
  each("roombus_subscriber_overflows_total", "counter",
       "Times the subscriber fell so far behind that its queue was dropped for the log.",
       [](const SubscriptionStatus& s) { return s.overflows; });
  each("roombus_subscriber_log_reads_total", "counter",
       "Events read back from the log for the subscriber.",
       [](const SubscriptionStatus& s) { return s.events_from_log; });
  each("roombus_subscriber_failures_total", "counter",
       "Failed deliveries to (or resumptions of) the subscriber.",
       [](const SubscriptionStatus& s) { return s.failures; });
}

void SnapshotProbe::metrics(std::string& out) const {
  SnapshotterStatus s = snapshotter_.status();
  describe(out, "roombus_snapshot_failures_total", "counter",
           "Snapshots that could not be written (retried with a growing delay).");
  append_sample(out, "roombus_snapshot_failures_total", "", d(s.failures));
  describe(out, "roombus_snapshot_failing", "gauge",
           "Snapshot attempts that failed in a row (0: the last one succeeded).");
  append_sample(out, "roombus_snapshot_failing", "", d(s.consecutive_failures));
  describe(out, "roombus_snapshot_position", "gauge", "Log position of the newest snapshot.");
  append_sample(out, "roombus_snapshot_position", "", d(s.last_position));
}

void KafkaProbe::check(std::vector<Check>& out) const {
  if (producer_ == nullptr) {
    out.push_back({"kafka", "off", "", false});
    return;
  }
  kafka::ProducerStatus p = producer_->status();
  kafka::RelayStatus r = relay_->status();
  SubscriptionStatus s = subscription_->status();
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
  }
  out.push_back({"kafka", why.empty() ? "ok" : "down", why, false});
}

void KafkaProbe::metrics(std::string& out) const {
  if (producer_ == nullptr) return;
  kafka::ProducerStatus p = producer_->status();
  kafka::RelayStatus r = relay_->status();
  describe(out, "roombus_kafka_brokers_up", "gauge", "Kafka brokers the producer is connected to.");
  append_sample(out, "roombus_kafka_brokers_up", "", d(p.brokers_up));
  describe(out, "roombus_kafka_producer_queue", "gauge",
           "Records queued in the producer or in flight, not yet acknowledged.");
  append_sample(out, "roombus_kafka_producer_queue", "", d(p.queued));
  describe(out, "roombus_kafka_delivered_total", "counter", "Records Kafka acknowledged.");
  append_sample(out, "roombus_kafka_delivered_total", "", d(p.delivered));
  describe(out, "roombus_kafka_delivery_errors_total", "counter",
           "Records whose delivery failed (they are sent again from the relay's cursor).");
  append_sample(out, "roombus_kafka_delivery_errors_total", "", d(p.delivery_errors));
  describe(out, "roombus_kafka_relay_delivered_position", "gauge",
           "Log position up to which Kafka acknowledged every event.");
  append_sample(out, "roombus_kafka_relay_delivered_position", "", d(r.acknowledged));
  describe(out, "roombus_kafka_relay_cursor", "gauge", "The relay's durable cursor.");
  append_sample(out, "roombus_kafka_relay_cursor", "", d(r.saved));
  describe(out, "roombus_kafka_relay_rewinds_total", "counter",
           "Times the relay went back to its cursor after a refused record.");
  append_sample(out, "roombus_kafka_relay_rewinds_total", "", d(r.rewinds));
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
  describe(out, "roombus_redis_up", "gauge", "1 while the Redis connection is up.");
  append_sample(out, "roombus_redis_up", "", conn.up() ? 1 : 0);
  describe(out, "roombus_redis_commands_total", "counter", "Commands sent to Redis.");
  append_sample(out, "roombus_redis_commands_total", "", d(c.commands));
  describe(out, "roombus_redis_errors_total", "counter",
           "Redis operations that failed (no connection, connection lost, error replies).");
  append_sample(out, "roombus_redis_errors_total", "", d(c.errors));
  describe(out, "roombus_redis_timeouts_total", "counter",
           "Redis operations whose deadline passed first.");
  append_sample(out, "roombus_redis_timeouts_total", "", d(c.timeouts));
  describe(out, "roombus_redis_reconnects_total", "counter",
           "Connections to Redis established after the first one.");
  append_sample(out, "roombus_redis_reconnects_total", "", d(c.reconnects));
  describe(out, "roombus_redis_connect_failures_total", "counter",
           "Connection attempts that failed.");
  append_sample(out, "roombus_redis_connect_failures_total", "", d(c.connect_failures));

  const RedisIndexCounters& i = index_->counters();
  describe(out, "roombus_redis_index_rebuilds_total", "counter",
           "Times the index was wiped and rebuilt from the start of the log.");
  append_sample(out, "roombus_redis_index_rebuilds_total", "", d(index_->writer().wipes()));
  describe(out, "roombus_redis_index_repairs_total", "counter",
           "Times the index was found lost (cursor check), with members added or removed (count "
           "check) or holding a uid roombus never issued (a query), and had it rebuilt.");
  append_sample(out, "roombus_redis_index_repairs_total", label("check", "cursor"),
                d(i.cursor_repairs));
  append_sample(out, "roombus_redis_index_repairs_total", label("check", "count"),
                d(i.count_repairs));
  append_sample(out, "roombus_redis_index_repairs_total", label("check", "member"),
                d(i.member_repairs));
  describe(out, "roombus_redis_index_position", "gauge",
           "Log position up to which the index in Redis is written.");
  append_sample(out, "roombus_redis_index_position", "", d(index_->writer().handled_position()));
  describe(out, "roombus_redis_get_rooms_queries_total", "counter",
           "getRooms questions put to the index (answers reused from the answer cache are not "
           "asked again), by outcome; all but answered fall back to memory.");
  for (const auto& [outcome, n] : {std::pair<const char*, std::uint64_t>{"answered", i.answered},
                                   {"behind", i.behind},
                                   {"unavailable", i.unavailable},
                                   {"timeout", i.timeouts},
                                   {"error", i.errors}}) {
    append_sample(out, "roombus_redis_get_rooms_queries_total", label("outcome", outcome), d(n));
  }
}

}  // namespace roombus::app
