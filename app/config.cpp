// Validation of `roombus serve` configuration: every message names the flag and its variable.
#include "config.hpp"

#include <charconv>

#include "roombus/kafka/producer.hpp"
#include "roombus/time/tz_time_zone.hpp"

namespace roombus::app {
namespace {

void check_listen(const std::string& listen) {
  auto colon = listen.rfind(':');
  auto fail = [&] {
    throw ConfigError("--listen/ROOMBUS_LISTEN: expected host:port such as 127.0.0.1:8080, got '" +
                      listen + "'");
  };
  if (colon == std::string::npos || colon == 0) fail();
  std::string_view port(listen);
  port.remove_prefix(colon + 1);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    fail();
  }
}

void check_kafka(const ServeConfig& config) {
  for (const std::string& item : config.kafka_config) {
    try {
      (void)kafka::parse_property(item);
    } catch (const std::exception& e) {
      throw ConfigError(std::string("--kafka-config/ROOMBUS_KAFKA_CONFIG: ") + e.what());
    }
  }
  kafka::Settings settings = kafka_settings(config);
  if (settings.enabled()) {
    try {
      kafka::validate_brokers(settings.brokers);
    } catch (const std::exception& e) {
      throw ConfigError(std::string("--kafka-brokers/ROOMBUS_KAFKA_BROKERS: ") + e.what());
    }
  }
  try {
    kafka::validate_topic_prefix(settings.topic_prefix);
  } catch (const std::exception& e) {
    throw ConfigError(std::string("--kafka-topic-prefix/ROOMBUS_KAFKA_TOPIC_PREFIX: ") + e.what());
  }
  if (config.kafka_partitions < 1) {
    throw ConfigError("--kafka-partitions/ROOMBUS_KAFKA_PARTITIONS must be at least 1");
  }
  if (config.kafka_replication_factor < -1 || config.kafka_replication_factor == 0) {
    throw ConfigError(
        "--kafka-replication-factor/ROOMBUS_KAFKA_REPLICATION_FACTOR must be -1 (the broker's "
        "default) or at least 1");
  }
  // Checked with Kafka off too: a mistyped property should not wait for the day Kafka is on.
  try {
    (void)kafka::producer_conf(settings);
  } catch (const std::exception& e) {
    throw ConfigError(std::string("--kafka-config/ROOMBUS_KAFKA_CONFIG: ") + e.what());
  }
}

}  // namespace

kafka::Settings kafka_settings(const ServeConfig& config) {
  kafka::Settings settings;
  settings.brokers = config.kafka_brokers;
  settings.topic_prefix = config.kafka_topic_prefix;
  for (const std::string& item : config.kafka_config) {
    settings.properties.push_back(kafka::parse_property(item));
  }
  settings.partitions = config.kafka_partitions;
  settings.replication_factor = config.kafka_replication_factor;
  return settings;
}

void validate(const ServeConfig& config) {
  check_listen(config.listen);
  if (config.data_dir.empty()) throw ConfigError("--data-dir/ROOMBUS_DATA_DIR must not be empty");
  try {
    (void)time::make_time_zone(config.timezone);
  } catch (const std::exception& e) {
    throw ConfigError(std::string("--timezone/ROOMBUS_TIMEZONE: ") + e.what());
  }
  if (!config.public_url.empty() && config.public_url.rfind("http://", 0) != 0 &&
      config.public_url.rfind("https://", 0) != 0) {
    throw ConfigError("--public-url/ROOMBUS_PUBLIC_URL must start with http:// or https://, got '" +
                      config.public_url + "'");
  }
  if (!config.admin_token.empty() && config.admin_token.size() < 16) {
    throw ConfigError("--admin-token/ROOMBUS_ADMIN_TOKEN must have at least 16 characters");
  }
  check_kafka(config);
  if (!config.redis_url.empty()) {
    throw ConfigError(
        "--redis/ROOMBUS_REDIS_URL: Redis is not supported by this build yet; leave it empty");
  }
  if (config.snapshot_every < 0) {
    throw ConfigError("--snapshot-every/ROOMBUS_SNAPSHOT_EVERY must be 0 or more");
  }
  if (config.max_body_bytes < 1024) {
    throw ConfigError("--max-body-bytes/ROOMBUS_MAX_BODY_BYTES must be at least 1024");
  }
  if (config.max_connections < 1) {
    throw ConfigError("--max-connections/ROOMBUS_MAX_CONNECTIONS must be at least 1");
  }
  // A week bounds both: beyond it a lead or a forecast says nothing an autoscaler can act on,
  // and each forecast costs a bucket per 5 minutes.
  if (config.starting_soon_minutes < 0 || config.starting_soon_minutes > 10080) {
    throw ConfigError(
        "--starting-soon-minutes/ROOMBUS_STARTING_SOON_MINUTES must be 0 to 10080 (a week), got " +
        std::to_string(config.starting_soon_minutes));
  }
  if (config.demand_horizon_minutes < 5 || config.demand_horizon_minutes > 10080 ||
      config.demand_horizon_minutes % 5 != 0) {
    throw ConfigError(
        "--demand-horizon-minutes/ROOMBUS_DEMAND_HORIZON_MINUTES must be a multiple of 5 from 5 "
        "to 10080 (a week), got " +
        std::to_string(config.demand_horizon_minutes));
  }
}

}  // namespace roombus::app
