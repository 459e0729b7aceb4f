// The `roombus` executable: its command line, `serve` (the Runtime) beside cli/'s subcommands.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

#include "config.hpp"
#include "options.hpp"
#include "roombus/cli/admin_command.hpp"
#include "roombus/cli/log_command.hpp"
#include "roombus/cli/usage_error.hpp"
#include "roombus/core/time.hpp"
#include "runtime.hpp"

// jemalloc's options, read when the `roombus` binary links it (release builds; the sanitizers
// bring their own allocator and ignore this). Transparent huge pages for its extents and its
// metadata: a restart builds hundreds of MB of rooms and indexes, and with 4 KiB pages the page
// faults were most of it (500,000 rooms: ready in 0.49 s instead of 1.02 s, for 60 B more per
// room; docs/performance.md). MALLOC_CONF in the environment overrides it (e.g. thp:default).
extern "C" {
// NOLINTNEXTLINE: the name and type jemalloc looks for.
const char* malloc_conf = "thp:always,metadata_thp:always";
}

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
  app::add_serve_options(*serve_cmd, config);
  bool check_config = false;
  serve_cmd->add_flag("--check-config", check_config,
                      "Validate the configuration and exit (0: valid, 2: not)");

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
