// The core's EventLog on the SQLite event store (appends encoded off-loop, callers resumed on the
// io_context), and the subscribers' cursors kept beside it.
#pragma once

#include <asio/io_context.hpp>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "roombus/core/event_ports.hpp"
#include "roombus/core/subscriber.hpp"
#include "roombus/sqlite/event_store.hpp"

namespace roombus::eventlog {

// Implements core::EventLog. append() queues the shared events to the store's writer, which
// encodes them (JSON) just before writing them, so the io_context thread never spends its time
// on it; the store's completion is posted back to the io_context, so the core's callback runs on
// its own thread. A failed commit calls `on_fatal` (once) after the failed callers were
// answered: the process must stop, since nothing later can be durable.
class DurableLog final : public core::EventLog {
 public:
  DurableLog(asio::io_context& io, sqlite::EventStore& store,
             std::function<void(const std::string&)> on_fatal);
  void append(core::EventBatch events, core::SharedOutcome outcome, Completion on_durable) override;

 private:
  void finish(Completion on_durable, std::error_code ec);  // io_context thread
  void drain();                                            // io_context thread
  // Answers the caller with the error, then stops the process once (fail-stop).
  void fail(const Completion& on_durable, const std::string& why, std::string_view context);

  asio::io_context& io_;
  sqlite::EventStore& store_;
  std::function<void(const std::string&)> on_fatal_;
  bool failed_ = false;
  // Completions handed over by the writer thread. One post drains all that one transaction made
  // durable, instead of one wake-up of the io_context per command.
  std::mutex mutex_;
  std::vector<std::pair<Completion, std::error_code>> done_;
  bool drain_posted_ = false;
};

// core::CursorStore in the event log's own database: a save rides along with the next group
// commit (or is a small transaction of its own when nothing else is written).
class StoreCursors final : public core::CursorStore {
 public:
  explicit StoreCursors(sqlite::EventStore& store) : store_(store) {}
  std::int64_t load(std::string_view name) override { return store_.cursor(name); }
  void save(std::string_view name, std::int64_t position,
            std::function<void(bool saved)> on_saved) override;

 private:
  sqlite::EventStore& store_;
};

}  // namespace roombus::eventlog
