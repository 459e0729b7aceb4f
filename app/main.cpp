// Composition root: the `roombus` command line (serve, admin, log) wiring every layer together.
#include <CLI/CLI.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "admin_client.hpp"
#include "admin_token.hpp"
#include "config.hpp"
#include "durable_log.hpp"
#include "roombus/core/service.hpp"
#include "roombus/crypto/hashing.hpp"
#include "roombus/crypto/ids.hpp"
#include "roombus/http/api.hpp"
#include "roombus/http/server.hpp"
#include "roombus/time/system_clock.hpp"
#include "roombus/time/tz_time_zone.hpp"

namespace roombus::app {
namespace {

void log_line(std::string_view line) {
  auto now = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
  auto secs = std::chrono::floor<std::chrono::seconds>(now);
  std::string stamp = core::format_iso_utc(core::Instant{secs.time_since_epoch()});
  std::fprintf(stderr, "%s roombus: %.*s\n", stamp.c_str(), static_cast<int>(line.size()),
               line.data());
}

// Stops accepting, lets requests and commits in flight finish (bounded), then ends the loop.
asio::awaitable<void> shut_down(http::Server& server, core::Service& service,
                                asio::io_context& io) {
  co_await server.stop();
  asio::steady_timer timer(io);
  for (int i = 0; i < 100 && service.in_flight() > 0; ++i) {
    timer.expires_after(std::chrono::milliseconds(50));
    co_await timer.async_wait(asio::use_awaitable);
  }
  io.stop();
}

void log_exception(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    log_line(std::string("shutdown failed: ") + ex.what());
  }
}

int serve(const ServeConfig& config) {
  validate(config);
  auto zone = time::make_time_zone(config.timezone);
  const std::chrono::seconds outcome_ttl = idempotency_ttl(config);
  std::unique_ptr<sqlite::EventStore> store;
  try {
    sqlite::EventStore::Options options;
    options.log = [](std::string_view line) { log_line(line); };
    options.outcome_ttl = outcome_ttl;
    store = sqlite::EventStore::open(config.data_dir, options);
  } catch (const std::exception& e) {
    throw ConfigError(std::string("--data-dir/ROOMBUS_DATA_DIR: ") + e.what());
  }
  std::string token = admin_token(config, log_line);

  asio::io_context io{1};
  time::SystemClock clock;
  crypto::OpenSslIdSource ids;
  crypto::Sha256KeyHasher hasher;
  int exit_code = 0;
  DurableLog log(io, *store, [&](const std::string& why) {
    log_line(why + "; stopping (restart recovers from the log)");
    exit_code = 1;
    io.stop();
  });
  core::Service service(core::Service::Ports{&clock, &ids, &hasher, zone.get(), &log, {}},
                        core::Service::Options{outcome_ttl});
  Recovery recovered = recover(*store, service, log_line);
  Snapshotter snapshotter(*store, service.state(), config.snapshot_every,
                          recovered.snapshot_position);
  service.add_listener(&snapshotter);

  http::ApiOptions api_options;
  api_options.public_url = config.public_url;
  api_options.info_requires_key = config.info_requires_key;
  api_options.server_info_open = config.server_info_open;
  api_options.hash_token = [](std::string_view t) { return crypto::sha256_hex(t); };
  api_options.admin_token_hash = crypto::sha256_hex(token);
  api_options.new_command_id = [] { return "gen:" + crypto::random_token(16); };
  sqlite::EventStore* store_ptr = store.get();
  api_options.ready = [store_ptr](std::string& why) {
    if (auto failure = store_ptr->failure()) {
      why = "event log failed: " + failure.message();
      return false;
    }
    return true;
  };
  // The server is built after the API it serves, so metrics reach it through this pointer.
  const http::Server* server_for_metrics = nullptr;
  api_options.extra_metrics = [store_ptr, &server_for_metrics](std::string& out) {
    sqlite::Counters c = store_ptr->counters();
    out += "# HELP roombus_log_transactions_total Committed event-log transactions (fsyncs).\n";
    out += "# TYPE roombus_log_transactions_total counter\n";
    http::append_sample(out, "roombus_log_transactions_total", "",
                        static_cast<double>(c.transactions));
    out += "# HELP roombus_log_events_total Events made durable since start.\n";
    out += "# TYPE roombus_log_events_total counter\n";
    http::append_sample(out, "roombus_log_events_total", "", static_cast<double>(c.events));
    out += "# HELP roombus_log_checkpoints_total WAL checkpoints since start.\n";
    out += "# TYPE roombus_log_checkpoints_total counter\n";
    http::append_sample(out, "roombus_log_checkpoints_total", "",
                        static_cast<double>(c.checkpoints));
    out += "# HELP roombus_snapshots_total Snapshots written since start.\n";
    out += "# TYPE roombus_snapshots_total counter\n";
    http::append_sample(out, "roombus_snapshots_total", "", static_cast<double>(c.snapshots));
    if (server_for_metrics != nullptr) {
      out += "# HELP roombus_http_connections Open HTTP connections.\n";
      out += "# TYPE roombus_http_connections gauge\n";
      http::append_sample(out, "roombus_http_connections", "",
                          static_cast<double>(server_for_metrics->connection_count()));
    }
  };
  http::Api api(service, api_options);

  http::ServerOptions server_options;
  server_options.max_body_bytes = static_cast<std::size_t>(config.max_body_bytes);
  server_options.max_connections = static_cast<std::size_t>(config.max_connections);
  server_options.log = [](std::string_view line) { log_line(line); };
  http::Server server(
      io, [&api](http::Request& request) { return api.handle(request); }, server_options);
  server_for_metrics = &server;
  // Before listening: a supervisor may signal as soon as the "listening" line appears.
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const std::error_code& ec, int signal) {
    if (ec) return;
    log_line("signal " + std::to_string(signal) + ": shutting down");
    asio::co_spawn(io, shut_down(server, service, io), log_exception);
  });
  try {
    server.listen(config.listen);
  } catch (const std::exception& e) {
    throw ConfigError("--listen/ROOMBUS_LISTEN: cannot listen on " + config.listen + ": " +
                      e.what());
  }
  auto endpoint = server.local_endpoint();
  log_line("listening on http://" + endpoint.address().to_string() + ":" +
           std::to_string(endpoint.port()) + " (data " + config.data_dir.string() + ", zone " +
           zone->name() + "); recovered " + std::to_string(service.state().position()) +
           " events (snapshot at " + std::to_string(recovered.snapshot_position) + ", " +
           std::to_string(recovered.events_replayed) + " replayed) in " +
           std::to_string(recovered.seconds) + " s");

  io.run();
  snapshotter.stop();
  try {
    store->close();
  } catch (const std::exception& e) {
    log_line(std::string("closing the event log failed: ") + e.what());
    exit_code = 1;
  }
  log_line(exit_code == 0 ? "stopped" : "stopped after a failure");
  return exit_code;
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

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

std::string json_strings(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const auto& s : items) out += (out.size() > 1 ? "," : "") + json_string(s);
  return out + "]";
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
      std::string body = "{\"url\":" + json_string(url) + ",\"name\":" + json_string(name) +
                         ",\"app_id\":" + json_string(app_id) +
                         ",\"app_secret\":" + json_string(app_secret) +
                         ",\"members\":" + json_strings(members) +
                         ",\"allow_clone\":" + (allow_clone ? "true" : "false");
      if (!api_key.empty()) body += ",\"api_key\":" + json_string(api_key);
      return Call{"POST", "/admin/v1/servers", body + "}"};
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
      std::string body;
      auto field = [&](const char* key, const std::string& v) {
        if (!v.empty())
          body += std::string(body.empty() ? "" : ",") + "\"" + key + "\":" + json_string(v);
      };
      field("url", url);
      field("name", name);
      field("app_id", app_id);
      field("app_secret", app_secret);
      return Call{"PATCH", "/admin/v1/servers/" + std::to_string(id), "{" + body + "}"};
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
                  "{\"member\":" + json_string(member) + "}"};
    };
  });
  auto* remove_member = admin->add_subcommand("remove-member", "Revoke an email or @domain");
  remove_member->add_option("id", id)->required();
  remove_member->add_option("member", member)->required();
  remove_member->callback([&] {
    make_call = [&] {
      return Call{"DELETE", "/admin/v1/servers/" + std::to_string(id) + "/members/" + member, ""};
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
                  "{\"state\":" + json_string(state) + "}"};
    };
  });
  auto* clone = admin->add_subcommand("allow-clone", "Allow or forbid cloning (on|off)");
  clone->add_option("id", id)->required();
  clone->add_option("on_off", allow)->required()->check(CLI::IsMember({"on", "off"}));
  clone->callback([&] {
    make_call = [&] {
      return Call{"PUT", "/admin/v1/servers/" + std::to_string(id) + "/clone",
                  std::string("{\"allow_clone\":") + (allow == "on" ? "true" : "false") + "}"};
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
    if (serve_cmd->parsed()) return serve(config);
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
