// The `roombus` command line: serve (the Runtime), admin (a client of the admin API), log dump.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>

#include "admin_client.hpp"
#include "admin_token.hpp"
#include "config.hpp"
#include "roombus/core/time.hpp"
#include "roombus/sqlite/event_store.hpp"
#include "runtime.hpp"

namespace roombus::app {
namespace {

void log_line(std::string_view line) {
  auto now = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
  auto secs = std::chrono::floor<std::chrono::seconds>(now);
  std::string stamp = core::format_iso_utc(core::Instant{secs.time_since_epoch()});
  std::fprintf(stderr, "%s roombus: %.*s\n", stamp.c_str(), static_cast<int>(line.size()),
               line.data());
}

int serve(const ServeConfig& config) {
  Runtime runtime(config, log_line);
  return runtime.run();
}

int log_dump(const std::filesystem::path& data_dir, std::int64_t after) {
  std::unique_ptr<sqlite::EventStore> store;
  try {
    // Read-only and unlocked: it works beside a running `roombus serve`.
    store = sqlite::EventStore::open_read_only(data_dir);
  } catch (const std::exception& e) {
    throw ConfigError(std::string("--data-dir/ROOMBUS_DATA_DIR: ") + e.what());
  }
  store->replay(after, [](const sqlite::StoredEvent& e) {
    // The payload is the event's own JSON document; one line per event.
    std::fwrite(e.payload.data(), 1, e.payload.size(), stdout);
    std::fputc('\n', stdout);
  });
  store->close();
  return 0;
}

std::string read_token_file(const std::filesystem::path& data_dir) {
  std::ifstream in(data_dir / "admin-token");
  std::string token;
  std::getline(in, token);
  return token;
}

}  // namespace

int run(int argc, char** argv) {
  CLI::App app{"roombus: Jitsi room scheduling, a drop-in for jitsi-admin's REST API v1"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "roombus 0.1.0");

  ServeConfig config;
  auto* serve_cmd = app.add_subcommand("serve", "Run the service");
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

  std::filesystem::path dump_dir = "./data";
  std::int64_t dump_after = 0;
  auto* log_cmd = app.add_subcommand("log", "Inspect the event log");
  log_cmd->require_subcommand(1);
  auto* dump_cmd = log_cmd->add_subcommand("dump", "Print events as JSON lines");
  dump_cmd->add_option("--data-dir", dump_dir, "Data directory")
      ->envname("ROOMBUS_DATA_DIR")
      ->capture_default_str();
  dump_cmd->add_option("--after", dump_after, "Only events after this position");

  std::string admin_url = "http://127.0.0.1:8080";
  std::string token;
  std::filesystem::path admin_dir = "./data";
  auto* admin = app.add_subcommand("admin", "Manage servers through the admin API");
  admin->require_subcommand(1);
  admin->add_option("--url", admin_url, "Base URL of a running roombus")
      ->envname("ROOMBUS_URL")
      ->capture_default_str();
  admin->add_option("--admin-token", token, "Admin token (default: <data-dir>/admin-token)")
      ->envname("ROOMBUS_ADMIN_TOKEN");
  admin->add_option("--data-dir", admin_dir, "Where to find admin-token")
      ->envname("ROOMBUS_DATA_DIR")
      ->capture_default_str();

  std::int64_t id = 0;
  std::string url, name, app_id, app_secret, api_key, member, state, allow;
  std::vector<std::string> members;
  bool allow_clone = false;
  struct Call {
    std::string method;
    std::string path;
    std::string body;
  };
  std::function<Call()> make_call;

  auto* list = admin->add_subcommand("list", "List servers");
  list->callback([&] { make_call = [] { return Call{"GET", "/admin/v1/servers", ""}; }; });
  auto* show = admin->add_subcommand("show", "Show one server");
  show->add_option("id", id)->required();
  show->callback([&] {
    make_call = [&] { return Call{"GET", "/admin/v1/servers/" + std::to_string(id), ""}; };
  });
  auto* create = admin->add_subcommand("create", "Register a server (prints its key once)");
  create->add_option("--url", url, "Host name clients use, e.g. meet.example.com")->required();
  create->add_option("--name", name, "Display name")->required();
  create->add_option("--app-id", app_id);
  create->add_option("--app-secret", app_secret);
  create->add_option("--member", members, "Email or @domain (repeatable)");
  create->add_flag("--allow-clone", allow_clone, "Allow v1 server/create to clone it");
  create->add_option("--api-key", api_key, "Import an existing jitsi-admin key");
  create->callback([&] {
    make_call = [&] {
      JsonBody body;
      body.string("url", url)
          .string("name", name)
          .string("app_id", app_id)
          .string("app_secret", app_secret)
          .strings("members", members)
          .boolean("allow_clone", allow_clone);
      if (!api_key.empty()) body.string("api_key", api_key);
      return Call{"POST", "/admin/v1/servers", body.take()};
    };
  });
  auto* update = admin->add_subcommand("update", "Change a server's fields");
  update->add_option("id", id)->required();
  update->add_option("--url", url);
  update->add_option("--name", name);
  update->add_option("--app-id", app_id);
  update->add_option("--app-secret", app_secret);
  update->callback([&] {
    make_call = [&] {
      JsonBody body;
      for (const auto& [key, value] : {std::pair<const char*, const std::string&>{"url", url},
                                       {"name", name},
                                       {"app_id", app_id},
                                       {"app_secret", app_secret}}) {
        if (!value.empty()) body.string(key, value);
      }
      return Call{"PATCH", "/admin/v1/servers/" + std::to_string(id), body.take()};
    };
  });
  auto* remove = admin->add_subcommand("delete", "Delete a server");
  remove->add_option("id", id)->required();
  remove->callback([&] {
    make_call = [&] { return Call{"DELETE", "/admin/v1/servers/" + std::to_string(id), ""}; };
  });
  auto* rotate = admin->add_subcommand("rotate-key", "Issue a new API key (printed once)");
  rotate->add_option("id", id)->required();
  rotate->callback([&] {
    make_call = [&] {
      return Call{"POST", "/admin/v1/servers/" + std::to_string(id) + "/rotate-key", ""};
    };
  });
  auto* add_member = admin->add_subcommand("add-member", "Admit an email or @domain");
  add_member->add_option("id", id)->required();
  add_member->add_option("member", member)->required();
  add_member->callback([&] {
    make_call = [&] {
      return Call{"POST", "/admin/v1/servers/" + std::to_string(id) + "/members",
                  JsonBody().string("member", member).take()};
    };
  });
  auto* remove_member = admin->add_subcommand("remove-member", "Revoke an email or @domain");
  remove_member->add_option("id", id)->required();
  remove_member->add_option("member", member)->required();
  remove_member->callback([&] {
    make_call = [&] {
      return Call{"DELETE",
                  "/admin/v1/servers/" + std::to_string(id) + "/members/" + path_segment(member),
                  ""};
    };
  });
  auto* set_state = admin->add_subcommand("state", "Set enabled, cordoned or disabled");
  set_state->add_option("id", id)->required();
  set_state->add_option("state", state)
      ->required()
      ->check(CLI::IsMember({"enabled", "cordoned", "disabled"}));
  set_state->callback([&] {
    make_call = [&] {
      return Call{"PUT", "/admin/v1/servers/" + std::to_string(id) + "/state",
                  JsonBody().string("state", state).take()};
    };
  });
  auto* clone = admin->add_subcommand("allow-clone", "Allow or forbid cloning (on|off)");
  clone->add_option("id", id)->required();
  clone->add_option("on_off", allow)->required()->check(CLI::IsMember({"on", "off"}));
  clone->callback([&] {
    make_call = [&] {
      return Call{"PUT", "/admin/v1/servers/" + std::to_string(id) + "/clone",
                  JsonBody().boolean("allow_clone", allow == "on").take()};
    };
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    std::fprintf(stderr, "roombus: %s (see roombus --help)\n", what.c_str());
    return 2;
  }

  try {
    if (serve_cmd->parsed()) {
      if (check_config) {
        validate(config);
        return 0;
      }
      return serve(config);
    }
    if (dump_cmd->parsed()) return log_dump(dump_dir, dump_after);
    if (make_call) {
      if (token.empty()) token = read_token_file(admin_dir);
      if (token.empty()) {
        throw ConfigError(
            "--admin-token/ROOMBUS_ADMIN_TOKEN is required (or --data-dir with an "
            "admin-token file)");
      }
      Call call = make_call();
      HttpReply reply = http_call(admin_url, call.method, call.path, token, call.body);
      std::FILE* out = reply.status >= 200 && reply.status < 300 ? stdout : stderr;
      std::fprintf(out, "%s\n",
                   reply.body.empty() ? std::to_string(reply.status).c_str() : reply.body.c_str());
      return reply.status >= 200 && reply.status < 300 ? 0 : 1;
    }
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "roombus: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "roombus: %s\n", e.what());
    return 1;
  }
  return 2;
}

}  // namespace roombus::app

int main(int argc, char** argv) { return roombus::app::run(argc, argv); }
