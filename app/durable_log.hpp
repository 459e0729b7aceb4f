// The core's EventLog on the SQLite event store: appends, encodes off-loop, resumes callers.
#pragma once

#include <asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "roombus/core/event_ports.hpp"
#include "roombus/core/service.hpp"
#include "roombus/core/state.hpp"
#include "roombus/sqlite/event_store.hpp"

namespace roombus::app {

// Implements core::EventLog. append() queues the shared events to the store's writer, which
// encodes them (JSON) just before writing them, so the io_context thread never spends its time
// on it; the store's completion is posted back to the io_context, so the core's callback runs on
// its own thread. A failed commit calls `on_fatal` (once) after the failed callers were
// answered: the process must stop, since nothing later can be durable.
class DurableLog final : public core::EventLog {
 public:
  DurableLog(asio::io_context& io, sqlite::EventStore& store,
             std::function<void(const std::string&)> on_fatal);
  void append(core::EventBatch events, const std::optional<core::Outcome>& outcome,
              Completion on_durable) override;

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

// Writes snapshots without stopping the write path: a thread of its own keeps a second copy of
// the state, fed with durable events, and encodes that copy every `every` events.
class Snapshotter final : public core::EventListener {
 public:
  // `last_snapshot`: position of the snapshot recovery started from (0 for none), so a start
  // that replayed many events writes a fresh snapshot soon.
  Snapshotter(sqlite::EventStore& store, core::State start, std::int64_t every,
              std::int64_t last_snapshot);
  ~Snapshotter() override;
  void on_events(const core::EventBatch& events) override;  // io_context thread
  // Writes a last snapshot if anything happened since the previous one, then joins the thread.
  void stop();

 private:
  void run();

  static constexpr std::size_t kWakeAt = 4096;
  static constexpr std::chrono::milliseconds kPeriod{250};

  sqlite::EventStore& store_;
  core::State state_;  // owned by the thread
  std::int64_t every_;
  std::int64_t last_written_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<core::EventBatch> queue_;  // shared with the core: nothing is copied
  std::size_t queued_events_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

struct Recovery {
  std::int64_t snapshot_position = 0;
  std::int64_t events_replayed = 0;
  std::int64_t outcomes = 0;
  double seconds = 0;
};

// Rebuilds the service's state from the newest valid snapshot plus the events after it, and its
// remembered outcomes. Throws std::runtime_error when the log itself cannot be decoded.
Recovery recover(sqlite::EventStore& store, core::Service& service,
                 const std::function<void(std::string_view)>& log);

sqlite::StoredEvent to_stored(const core::Event& event);

}  // namespace roombus::app
