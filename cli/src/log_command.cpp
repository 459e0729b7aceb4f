// `roombus log dump`: the event log as JSON lines, read beside a running `roombus serve`.
#include "roombus/cli/log_command.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>

#include "roombus/cli/usage_error.hpp"
#include "roombus/sqlite/event_store.hpp"

namespace roombus::cli {

LogCommand::LogCommand(CLI::App& app) {
  auto* log = app.add_subcommand("log", "Inspect the event log");
  log->require_subcommand(1);
  dump_ = log->add_subcommand("dump", "Print events as JSON lines");
  dump_->add_option("--data-dir", data_dir_, "Data directory")
      ->envname("ROOMBUS_DATA_DIR")
      ->capture_default_str();
  dump_->add_option("--after", after_, "Only events after this position");
}

bool LogCommand::parsed() const { return dump_->parsed(); }

int LogCommand::run() const {
  std::unique_ptr<sqlite::EventStore> store;
  try {
    // Read-only and unlocked: it works beside a running `roombus serve`.
    store = sqlite::EventStore::open_read_only(data_dir_);
  } catch (const std::exception& e) {
    throw UsageError(std::string("--data-dir/ROOMBUS_DATA_DIR: ") + e.what());
  }
  store->replay(after_, [](const sqlite::StoredEvent& e) {
    // The payload is the event's own JSON document; one line per event.
    std::fwrite(e.payload.data(), 1, e.payload.size(), stdout);
    std::fputc('\n', stdout);
  });
  store->close();
  return 0;
}

}  // namespace roombus::cli
