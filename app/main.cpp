// The `roombus` executable: its command line, `serve` (the Runtime) beside cli/'s subcommands.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

#include "config.hpp"
#include "roombus/cli/admin_command.hpp"
#include "roombus/cli/log_command.hpp"
#include "roombus/cli/usage_error.hpp"
#include "roombus/core/time.hpp"
#include "runtime.hpp"

namespace {

void log_line(std::string_view line) {
  namespace core = roombus::core;
  auto now = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
  auto secs = std::chrono::floor<std::chrono::seconds>(now);
  std::string stamp = core::format_iso_utc(core::Instant{secs.time_since_epoch()});
  std::fprintf(stderr, "%s roombus: %.*s\n", stamp.c_str(), static_cast<int>(line.size()),
               line.data());
}

}  // namespace

int main(int argc, char** argv) {
  namespace app = roombus::app;
  namespace cli = roombus::cli;
  CLI::App command_line{"roombus: Jitsi room scheduling, a drop-in for jitsi-admin's REST API v1"};
  command_line.require_subcommand(1);
  command_line.set_version_flag("--version", "roombus 0.1.0");

  app::ServeConfig config;
  auto* serve_cmd = command_line.add_subcommand("serve", "Run the service");
  serve_cmd->add_option("--listen", config.listen, "host:port to listen on")
      ->envname("ROOMBUS_LISTEN")
      ->capture_default_str();
  serve_cmd->add_option("--data-dir", config.data_dir, "Directory of the event log")
      ->envname("ROOMBUS_DATA_DIR")
      ->capture_default_str();
  serve_cmd->add_option("--kafka-brokers", config.kafka_brokers, "Kafka bootstrap servers")
      ->envname("ROOMBUS_KAFKA_BROKERS");
  serve_cmd->add_option("--kafka-topic-prefix", config.kafka_topic_prefix, "Prefix of every topic")
      ->envname("ROOMBUS_KAFKA_TOPIC_PREFIX")
      ->capture_default_str();
  serve_cmd
      ->add_option("--kafka-config", config.kafka_config,
                   "librdkafka property key=value (repeatable; in the variable, ';'-separated)")
      ->envname("ROOMBUS_KAFKA_CONFIG")
      ->delimiter(';');
  serve_cmd
      ->add_option("--kafka-partitions", config.kafka_partitions,
                   "Partitions of the topics roombus creates")
      ->envname("ROOMBUS_KAFKA_PARTITIONS")
      ->capture_default_str();
  serve_cmd->add_option("--kafka-group", config.kafka_group, "Consumer group of Kafka commands")
      ->envname("ROOMBUS_KAFKA_GROUP")
      ->capture_default_str();
  serve_cmd
      ->add_option("--kafka-commands-in-flight", config.kafka_commands_in_flight,
                   "Kafka commands running at once at most (beyond: partitions pause)")
      ->envname("ROOMBUS_KAFKA_COMMANDS_IN_FLIGHT")
      ->capture_default_str();
  serve_cmd
      ->add_option("--kafka-replication-factor", config.kafka_replication_factor,
                   "Replication factor of the topics roombus creates (-1: broker default)")
      ->envname("ROOMBUS_KAFKA_REPLICATION_FACTOR")
      ->capture_default_str();
  serve_cmd->add_option("--redis", config.redis_url, "Redis URL for the upcoming-rooms index")
      ->envname("ROOMBUS_REDIS_URL");
  serve_cmd->add_option("--admin-token", config.admin_token, "Bearer token of /admin/v1")
      ->envname("ROOMBUS_ADMIN_TOKEN");
  serve_cmd->add_option("--timezone", config.timezone, "IANA zone of v1 wall-clock times")
      ->envname("ROOMBUS_TIMEZONE")
      ->capture_default_str();
  serve_cmd->add_option("--public-url", config.public_url, "Base URL of v1 join links")
      ->envname("ROOMBUS_PUBLIC_URL");
  serve_cmd
      ->add_flag("--info-requires-key", config.info_requires_key,
                 "GET /api/v1/info/{uid} needs the room server's key")
      ->envname("ROOMBUS_INFO_REQUIRES_KEY");
  serve_cmd
      ->add_flag("--server-info-open", config.server_info_open,
                 "GET /api/v1/serverInfo without a key, as jitsi-admin did")
      ->envname("ROOMBUS_SERVER_INFO_OPEN");
  serve_cmd->add_option("--snapshot-every", config.snapshot_every, "Events between snapshots")
      ->envname("ROOMBUS_SNAPSHOT_EVERY")
      ->capture_default_str();
  serve_cmd->add_option("--max-body-bytes", config.max_body_bytes, "Largest request body")
      ->envname("ROOMBUS_MAX_BODY_BYTES")
      ->capture_default_str();
  serve_cmd->add_option("--max-connections", config.max_connections, "Open connections at most")
      ->envname("ROOMBUS_MAX_CONNECTIONS")
      ->capture_default_str();
  serve_cmd
      ->add_option("--starting-soon-minutes", config.starting_soon_minutes,
                   "room.starting events this many minutes before a room's start")
      ->envname("ROOMBUS_STARTING_SOON_MINUTES")
      ->capture_default_str();
  serve_cmd
      ->add_option("--demand-horizon-minutes", config.demand_horizon_minutes,
                   "Demand forecasts cover this many minutes ahead (a multiple of 5)")
      ->envname("ROOMBUS_DEMAND_HORIZON_MINUTES")
      ->capture_default_str();
  bool check_config = false;
  serve_cmd->add_flag("--check-config", check_config,
                      "Validate the configuration and exit (0: valid, 2: not)");
  serve_cmd
      ->add_option("--join-early-minutes", config.join_early_minutes,
                   "Join links open this many minutes before the start")
      ->envname("ROOMBUS_JOIN_EARLY_MINUTES")
      ->capture_default_str();
  serve_cmd
      ->add_option("--join-key", config.join_key,
                   "Key of join links, shared by instances (default: <data-dir>/join-key)")
      ->envname("ROOMBUS_JOIN_KEY");
  serve_cmd
      ->add_option("--idempotency-ttl", config.idempotency_ttl,
                   "How long an Idempotency-Key's answer is remembered (e.g. 24h, 90m, 3600)")
      ->envname("ROOMBUS_IDEMPOTENCY_TTL")
      ->capture_default_str();

  // In this order: `roombus --help` lists serve, log, admin.
  cli::LogCommand log_cmd(command_line);
  cli::AdminCommand admin_cmd(command_line);

  try {
    command_line.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return command_line.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    std::fprintf(stderr, "roombus: %s (see roombus --help)\n", what.c_str());
    return 2;
  }

  // Exit codes: 2 for what the operator must fix in the invocation or configuration, 1 for any
  // other failure.
  try {
    if (serve_cmd->parsed()) {
      if (check_config) {
        app::validate(config);
        return 0;
      }
      app::Runtime runtime(config, log_line);
      return runtime.run();
    }
    if (log_cmd.parsed()) return log_cmd.run();
    if (admin_cmd.parsed()) return admin_cmd.run();
  } catch (const app::ConfigError& e) {
    std::fprintf(stderr, "roombus: %s\n", e.what());
    return 2;
  } catch (const cli::UsageError& e) {
    std::fprintf(stderr, "roombus: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "roombus: %s\n", e.what());
    return 1;
  }
  return 2;
}
