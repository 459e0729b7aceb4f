// Configuration of `roombus serve`: flags and ROOMBUS_* variables, validated before anything runs.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "roombus/kafka/settings.hpp"

namespace roombus::app {

// Bad configuration: main prints the message on one line and exits with code 2.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Set by the options of options.cpp's table; these initial values are the defaults that
// `roombus serve --help` and the README show.
struct ServeConfig {
  std::string listen = "127.0.0.1:8080";
  std::filesystem::path data_dir = "./data";
  std::string kafka_brokers;  // empty: Kafka off
  std::string kafka_topic_prefix = "roombus.";
  std::vector<std::string> kafka_config;  // key=value, passed to librdkafka
  int kafka_partitions = 3;               // of the topics roombus creates
  int kafka_replication_factor = -1;      // of the topics roombus creates; -1: broker default
  std::string kafka_group = "roombus";    // consumer group of the command consumer
  int kafka_commands_in_flight = 1024;    // Kafka commands running at once, at most
  std::string redis_url;                  // redis://...; empty: getRooms from memory only
  std::string admin_token;  // empty: generated on first start, kept in <data-dir>/admin-token
  std::string timezone = "UTC";
  std::string public_url;  // empty: links built from the request's Host header
  bool info_requires_key = false;
  bool server_info_open = false;
  std::int64_t snapshot_every = 100'000;  // events between snapshots; 0: no periodic snapshots
  std::int64_t max_body_bytes = 1 << 20;
  std::int64_t max_connections = 1024;
  // Join links open this many minutes before a room's start (jitsi-admin's 30).
  std::int64_t join_early_minutes = 30;
  // 43 base64url characters; empty: the key kept in <data-dir>/join-key (made on first start).
  std::string join_key;
  // How long an Idempotency-Key's outcome is remembered: seconds, or a number with s, m, h or d.
  std::string idempotency_ttl = "24h";
  std::int64_t starting_soon_minutes = 10;    // room.starting this long before a room's start
  std::int64_t demand_horizon_minutes = 120;  // demand forecasts look this far ahead
};

// Checks what can be checked without side effects (address syntax, URL shape, zone name,
// unsupported features); throws ConfigError naming the option.
void validate(const ServeConfig& config);

// The Kafka part of the configuration (validated: call validate() first).
kafka::Settings kafka_settings(const ServeConfig& config);

// The one-line error for join key material that is not a key.
std::string join_key_format_error();

// --idempotency-ttl as a duration: "86400", "86400s", "1440m", "24h" or "1d"; from one minute to
// 365 days. Throws ConfigError otherwise.
std::chrono::seconds idempotency_ttl(const ServeConfig& config);

}  // namespace roombus::app
