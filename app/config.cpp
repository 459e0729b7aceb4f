// Validation of `roombus serve` configuration: every message names the flag and its variable.
#include "config.hpp"

#include <charconv>

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

}  // namespace

std::chrono::seconds idempotency_ttl(const ServeConfig& config) {
  const std::string& text = config.idempotency_ttl;
  auto fail = [&]() -> std::chrono::seconds {
    throw ConfigError(
        "--idempotency-ttl/ROOMBUS_IDEMPOTENCY_TTL: expected a duration from 1m to 365d such as "
        "24h, 90m, 3600s or 3600 (seconds), got '" +
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
  if (!config.kafka_brokers.empty()) {
    throw ConfigError(
        "--kafka-brokers/ROOMBUS_KAFKA_BROKERS: Kafka is not supported by this build yet; leave "
        "it empty");
  }
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
  (void)idempotency_ttl(config);
}

}  // namespace roombus::app
