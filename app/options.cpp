// The options of `roombus serve`: one table feeds CLI11, the configuration errors and the README.
#include "options.hpp"

#include <CLI/CLI.hpp>
#include <array>
#include <stdexcept>
#include <type_traits>

namespace roombus::app {
namespace {

// In the README's order: the service, then Kafka, then Redis.
constexpr std::array kServeOptions = {
    ServeOption{.flag = "--listen",
                .env = "ROOMBUS_LISTEN",
                .member = &ServeConfig::listen,
                .help = "host:port to listen on",
                .meaning = "address to serve HTTP on"},
    ServeOption{.flag = "--data-dir",
                .env = "ROOMBUS_DATA_DIR",
                .member = &ServeConfig::data_dir,
                .help = "Directory of the event log",
                .meaning = "event log, snapshots, admin token, join key"},
    ServeOption{.flag = "--admin-token",
                .env = "ROOMBUS_ADMIN_TOKEN",
                .member = &ServeConfig::admin_token,
                .help = "Bearer token of /admin/v1",
                .meaning = "bearer token of `/admin/v1`",
                .readme_default = "generated"},
    ServeOption{.flag = "--timezone",
                .env = "ROOMBUS_TIMEZONE",
                .member = &ServeConfig::timezone,
                .help = "IANA zone of v1 wall-clock times",
                .meaning = "IANA zone of v1 wall-clock times"},
    ServeOption{.flag = "--public-url",
                .env = "ROOMBUS_PUBLIC_URL",
                .member = &ServeConfig::public_url,
                .help = "Base URL of v1 join links",
                .meaning = "base of v1 join links",
                .readme_default = "request `Host`"},
    ServeOption{.flag = "--join-early-minutes",
                .env = "ROOMBUS_JOIN_EARLY_MINUTES",
                .member = &ServeConfig::join_early_minutes,
                .help = "Join links open this many minutes before the start",
                .meaning = "join links open this long before the start"},
    ServeOption{.flag = "--join-key",
                .env = "ROOMBUS_JOIN_KEY",
                .member = &ServeConfig::join_key,
                .help = "Key of join links, shared by instances (default: <data-dir>/join-key)",
                .meaning = "key of join links (share it between instances)",
                .readme_default = "`<data-dir>/join-key`"},
    ServeOption{.flag = "--info-requires-key",
                .env = "ROOMBUS_INFO_REQUIRES_KEY",
                .member = &ServeConfig::info_requires_key,
                .help = "GET /api/v1/info/{uid} needs the room server's key",
                .meaning = "`info/{uid}` needs the server key",
                .readme_default = "off"},
    ServeOption{.flag = "--server-info-open",
                .env = "ROOMBUS_SERVER_INFO_OPEN",
                .member = &ServeConfig::server_info_open,
                .help = "GET /api/v1/serverInfo without a key, as jitsi-admin did",
                .meaning = "`serverInfo` without a key",
                .readme_default = "off"},
    ServeOption{.flag = "--snapshot-every",
                .env = "ROOMBUS_SNAPSHOT_EVERY",
                .member = &ServeConfig::snapshot_every,
                .help = "Events between snapshots",
                .meaning = "events between snapshots"},
    ServeOption{.flag = "--max-body-bytes",
                .env = "ROOMBUS_MAX_BODY_BYTES",
                .member = &ServeConfig::max_body_bytes,
                .help = "Largest request body",
                .meaning = "largest request body"},
    ServeOption{.flag = "--max-connections",
                .env = "ROOMBUS_MAX_CONNECTIONS",
                .member = &ServeConfig::max_connections,
                .help = "Open connections at most",
                .meaning = "open connections at most"},
    ServeOption{.flag = "--idempotency-ttl",
                .env = "ROOMBUS_IDEMPOTENCY_TTL",
                .member = &ServeConfig::idempotency_ttl,
                .help = "How long an Idempotency-Key's answer is remembered (e.g. 24h, 90m, 3600)",
                .meaning = "how long an `Idempotency-Key`'s answer is remembered (seconds, or "
                           "`s`/`m`/`h`/`d`; 1m–365d)"},
    ServeOption{.flag = "--starting-soon-minutes",
                .env = "ROOMBUS_STARTING_SOON_MINUTES",
                .member = &ServeConfig::starting_soon_minutes,
                .help = "room.starting events this many minutes before a room's start",
                .meaning = "`room.starting` this long before a room's start (0–10080)"},
    ServeOption{.flag = "--demand-horizon-minutes",
                .env = "ROOMBUS_DEMAND_HORIZON_MINUTES",
                .member = &ServeConfig::demand_horizon_minutes,
                .help = "Demand forecasts cover this many minutes ahead (a multiple of 5)",
                .meaning = "demand forecasts look this far ahead (a multiple of 5, up to 10080)"},
    ServeOption{.flag = "--kafka-brokers",
                .env = "ROOMBUS_KAFKA_BROKERS",
                .member = &ServeConfig::kafka_brokers,
                .help = "Kafka bootstrap servers",
                .meaning = "publish every change to Kafka, run commands from it",
                .readme_default = "empty (off)"},
    ServeOption{.flag = "--kafka-topic-prefix",
                .env = "ROOMBUS_KAFKA_TOPIC_PREFIX",
                .member = &ServeConfig::kafka_topic_prefix,
                .help = "Prefix of every topic",
                .meaning = "prefix of every topic"},
    ServeOption{
        .flag = "--kafka-config",
        .env = "ROOMBUS_KAFKA_CONFIG",
        .member = &ServeConfig::kafka_config,
        .help = "librdkafka property key=value (repeatable; in the variable, ';'-separated)",
        .meaning = "librdkafka properties (TLS, SASL, ...)",
        .readme_default = "none",
        .delimiter = ';',
        .readme_value = "key=value"},
    ServeOption{.flag = "--kafka-partitions",
                .env = "ROOMBUS_KAFKA_PARTITIONS",
                .member = &ServeConfig::kafka_partitions,
                .help = "Partitions of the topics roombus creates",
                .meaning = "partitions of topics roombus creates"},
    ServeOption{.flag = "--kafka-replication-factor",
                .env = "ROOMBUS_KAFKA_REPLICATION_FACTOR",
                .member = &ServeConfig::kafka_replication_factor,
                .help = "Replication factor of the topics roombus creates (-1: broker default)",
                .meaning = "replication of topics roombus creates",
                .readme_default = "{} (broker's default)"},
    ServeOption{.flag = "--kafka-group",
                .env = "ROOMBUS_KAFKA_GROUP",
                .member = &ServeConfig::kafka_group,
                .help = "Consumer group of Kafka commands",
                .meaning = "consumer group of the command consumer (`<prefix>commands`)"},
    ServeOption{.flag = "--kafka-commands-in-flight",
                .env = "ROOMBUS_KAFKA_COMMANDS_IN_FLIGHT",
                .member = &ServeConfig::kafka_commands_in_flight,
                .help = "Kafka commands running at once at most (beyond: partitions pause)",
                .meaning = "Kafka commands running at once at most (beyond: the consumer holds, "
                           "then pauses its partitions)"},
    ServeOption{.flag = "--redis",
                .env = "ROOMBUS_REDIS_URL",
                .member = &ServeConfig::redis_url,
                .help = "Redis URL for the upcoming-rooms index",
                .meaning = "`redis://[[user]:password@]host[:port][/db]`: the upcoming-room index, "
                           "getRooms answered from it (docs/operations.md, \"Redis\")",
                .readme_default = "empty (off)"},
};

// The member's value in a default ServeConfig as `--help` and the README show it; empty when
// there is nothing to show: an empty text or list, or a flag (which is off unless given).
std::string default_text(const ServeMember& member) {
  static const ServeConfig defaults;
  return std::visit(
      [](auto ServeConfig::*field) -> std::string {
        const auto& value = defaults.*field;
        using Value = std::remove_cvref_t<decltype(value)>;
        if constexpr (std::is_same_v<Value, bool>) {
          return {};
        } else if constexpr (std::is_same_v<Value, std::string>) {
          return value;
        } else if constexpr (std::is_same_v<Value, std::filesystem::path>) {
          return value.string();
        } else if constexpr (std::is_same_v<Value, std::vector<std::string>>) {
          std::string joined;
          for (const std::string& item : value) joined += (joined.empty() ? "" : ";") + item;
          return joined;
        } else {
          return std::to_string(value);
        }
      },
      member);
}

std::string readme_default(const ServeOption& option) {
  std::string cell(option.readme_default);
  auto slot = cell.find("{}");
  if (slot == std::string::npos) return cell;
  std::string value = default_text(option.member);
  // "``" would render as nothing: an option without a default must say what that means.
  if (value.empty()) {
    throw std::logic_error(std::string(option.flag) + ": no default to show; say what empty means");
  }
  return cell.replace(slot, 2, "`" + value + "`");
}

}  // namespace

std::span<const ServeOption> serve_options() { return kServeOptions; }

void add_serve_options(CLI::App& serve, ServeConfig& config) {
  for (const ServeOption& option : serve_options()) {
    CLI::Option* added = std::visit(
        [&](auto ServeConfig::*field) {
          auto& target = config.*field;
          if constexpr (std::is_same_v<std::remove_cvref_t<decltype(target)>, bool>) {
            return serve.add_flag(std::string(option.flag), target, std::string(option.help));
          } else {
            return serve.add_option(std::string(option.flag), target, std::string(option.help));
          }
        },
        option.member);
    added->envname(std::string(option.env));
    if (option.delimiter != '\0') added->delimiter(option.delimiter);
    // `--help` shows a default only where there is one: an empty text or list means "not set".
    if (!default_text(option.member).empty()) added->capture_default_str();
  }
}

std::string option_label(ServeMember member) {
  for (const ServeOption& option : serve_options()) {
    if (option.member == member) return std::string(option.flag) + "/" + std::string(option.env);
  }
  throw std::logic_error("option_label: no option of `roombus serve` sets this member");
}

std::string readme_table() {
  std::string table = "| flag | variable | default | |\n|---|---|---|---|\n";
  for (const ServeOption& option : serve_options()) {
    std::string flag(option.flag);
    if (!option.readme_value.empty()) flag += " " + std::string(option.readme_value);
    std::string variable = "`" + std::string(option.env) + "`";
    if (option.delimiter != '\0') {
      variable += std::string(" (`") + option.delimiter + "`-separated)";
    }
    table += "| `" + flag + "` | " + variable + " | " + readme_default(option) + " | " +
             std::string(option.meaning) + " |\n";
  }
  return table;
}

}  // namespace roombus::app
