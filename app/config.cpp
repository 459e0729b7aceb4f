// Validation of `roombus serve` configuration: every message names the flag and its variable.
#include "config.hpp"

#include <charconv>

#include "options.hpp"
#include "roombus/crypto/join_links.hpp"
#include "roombus/kafka/producer.hpp"
#include "roombus/redis/url.hpp"
#include "roombus/time/tz_time_zone.hpp"

namespace roombus::app {
namespace {

void check_listen(const std::string& listen) {
  auto colon = listen.rfind(':');
  auto fail = [&] {
    throw ConfigError(option_label(&ServeConfig::listen) +
                      ": expected host:port such as 127.0.0.1:8080, got '" + listen + "'");
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
      throw ConfigError(option_label(&ServeConfig::kafka_config) + ": " + e.what());
    }
  }
  kafka::Settings settings = kafka_settings(config);
  if (settings.enabled()) {
    try {
      kafka::validate_brokers(settings.brokers);
    } catch (const std::exception& e) {
      throw ConfigError(option_label(&ServeConfig::kafka_brokers) + ": " + e.what());
    }
  }
  try {
    kafka::validate_topic_prefix(settings.topic_prefix);
  } catch (const std::exception& e) {
    throw ConfigError(option_label(&ServeConfig::kafka_topic_prefix) + ": " + e.what());
  }
  if (config.kafka_partitions < 1) {
    throw ConfigError(option_label(&ServeConfig::kafka_partitions) + " must be at least 1");
  }
  if (config.kafka_group.empty()) {
    throw ConfigError(option_label(&ServeConfig::kafka_group) + " must not be empty");
  }
  if (config.kafka_commands_in_flight < 1 || config.kafka_commands_in_flight > 100000) {
    throw ConfigError(option_label(&ServeConfig::kafka_commands_in_flight) +
                      " must be between 1 and 100000");
  }
  if (config.kafka_replication_factor < -1 || config.kafka_replication_factor == 0) {
    throw ConfigError(option_label(&ServeConfig::kafka_replication_factor) +
                      " must be -1 (the broker's default) or at least 1");
  }
  // Checked with Kafka off too: a mistyped property should not wait for the day Kafka is on.
  try {
    (void)kafka::producer_conf(settings);
  } catch (const std::exception& e) {
    throw ConfigError(option_label(&ServeConfig::kafka_config) + ": " + e.what());
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

std::chrono::seconds idempotency_ttl(const ServeConfig& config) {
  const std::string& text = config.idempotency_ttl;
  auto fail = [&]() -> std::chrono::seconds {
    throw ConfigError(option_label(&ServeConfig::idempotency_ttl) +
                      ": expected a duration from 1m to 365d such as 24h, 90m, 3600s or 3600 "
                      "(seconds), got '" +
                      text + "'");
  };
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || text.front() == '-' || ec != std::errc()) return fail();
  const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  std::int64_t scale = 0;
  if (unit.empty() || unit == "s") scale = 1;
  if (unit == "m") scale = 60;
  if (unit == "h") scale = 3600;
  if (unit == "d") scale = 86400;
  constexpr std::int64_t max_seconds = 365 * 86400;
  if (scale == 0 || value > max_seconds / scale || value * scale < 60) return fail();
  return std::chrono::seconds(value * scale);
}

void validate(const ServeConfig& config) {
  check_listen(config.listen);
  if (config.data_dir.empty()) {
    throw ConfigError(option_label(&ServeConfig::data_dir) + " must not be empty");
  }
  try {
    (void)time::make_time_zone(config.timezone);
  } catch (const std::exception& e) {
    throw ConfigError(option_label(&ServeConfig::timezone) + ": " + e.what());
  }
  if (!config.public_url.empty() && config.public_url.rfind("http://", 0) != 0 &&
      config.public_url.rfind("https://", 0) != 0) {
    throw ConfigError(option_label(&ServeConfig::public_url) +
                      " must start with http:// or https://, got '" + config.public_url + "'");
  }
  if (!config.admin_token.empty() && config.admin_token.size() < 16) {
    throw ConfigError(option_label(&ServeConfig::admin_token) +
                      " must have at least 16 characters");
  }
  check_kafka(config);
  if (!config.redis_url.empty()) {
    try {
      (void)redis::parse_url(config.redis_url);
    } catch (const redis::UrlError& e) {
      throw ConfigError(option_label(&ServeConfig::redis_url) + ": " + e.what());
    }
  }
  if (config.snapshot_every < 0) {
    throw ConfigError(option_label(&ServeConfig::snapshot_every) + " must be 0 or more");
  }
  if (config.max_body_bytes < 1024) {
    throw ConfigError(option_label(&ServeConfig::max_body_bytes) + " must be at least 1024");
  }
  if (config.max_connections < 1) {
    throw ConfigError(option_label(&ServeConfig::max_connections) + " must be at least 1");
  }
  if (config.join_early_minutes < 0 || config.join_early_minutes > 10080) {
    throw ConfigError(option_label(&ServeConfig::join_early_minutes) +
                      " must be between 0 and 10080 (a week)");
  }
  if (!config.join_key.empty() && !crypto::parse_join_key(config.join_key)) {
    throw ConfigError(join_key_format_error());
  }
  // A week bounds both: beyond it a lead or a forecast says nothing an autoscaler can act on,
  // and each forecast costs a bucket per 5 minutes.
  if (config.starting_soon_minutes < 0 || config.starting_soon_minutes > 10080) {
    throw ConfigError(option_label(&ServeConfig::starting_soon_minutes) +
                      " must be 0 to 10080 (a week), got " +
                      std::to_string(config.starting_soon_minutes));
  }
  if (config.demand_horizon_minutes < 5 || config.demand_horizon_minutes > 10080 ||
      config.demand_horizon_minutes % 5 != 0) {
    throw ConfigError(option_label(&ServeConfig::demand_horizon_minutes) +
                      " must be a multiple of 5 from 5 to 10080 (a week), got " +
                      std::to_string(config.demand_horizon_minutes));
  }
  (void)idempotency_ttl(config);
}

std::string join_key_format_error() {
  return option_label(&ServeConfig::join_key) +
         " must be 43 base64url characters (32 bytes), such as the join-key file another "
         "instance made in its data directory";
}

}  // namespace roombus::app
