// Start-up recovery from the log of record: state, then remembered outcomes in the background.
#pragma once

#include <asio/io_context.hpp>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "roombus/core/log_ports.hpp"
#include "roombus/core/service.hpp"
#include "roombus/services/component.hpp"
#include "roombus/services/signal.hpp"

namespace roombus::services {

struct Recovery {
  std::int64_t snapshot_position = 0;
  std::int64_t events_replayed = 0;
  // "binary", "json" (a snapshot written before the binary format), or empty without one.
  std::string snapshot_format;
  double seconds = 0;
  // Where the time went: reading, checking and decoding the snapshot (core::State::restore
  // included), handing the state to the service (its lifecycle index built), replaying the
  // events after it.
  double snapshot_read_seconds = 0;
  double restore_seconds = 0;
  double replay_seconds = 0;
};

// Rebuilds the service's state from the newest valid snapshot plus the events after it. A
// snapshot that does not decode, or says another position than the one it was filed under, is
// logged and the whole log replayed instead. Throws std::runtime_error when the log itself cannot
// be decoded.
Recovery recover(core::LogReader& log, core::SnapshotStore& snapshots, core::Service& service,
                 const LogFunction& log_line);

// Remembers the log's unexpired outcomes in the service, at once; returns how many were read.
// Throws std::runtime_error when one cannot be decoded. (`roombus serve` uses OutcomeLoader.)
std::int64_t recover_outcomes(core::LogReader& log, core::Service& service);

// The remembered outcomes, loaded after the service is ready (they were most of a restart's
// time: 1.2 of 2.1 s with 400,000 rooms created with idempotency keys). A thread reads and decodes
// them and posts them to the core's thread in batches of 1,024, at most 4 batches ahead (so
// decoded outcomes never pile up, and the core's thread is held ~1 ms per batch); the last post
// ends the service's outcome recovery, which commands with a chosen id wait for
// (core::Service::begin_outcome_recovery). An outcome that cannot be read or decoded abandons
// the recovery (the waiting commands are answered 503) and calls `on_failure` on the core's
// thread: the process must stop, as for a log that cannot be replayed.
// Threads: every member on the core's thread; the reader is read on the loader's own thread. The
// io_context, reader and service outlive the loader.
class OutcomeLoader final : public Component {
 public:
  OutcomeLoader(asio::io_context& io, core::LogReader& log, core::Service& service,
                LogFunction log_line, std::function<void(const std::string&)> on_failure);
  ~OutcomeLoader();
  OutcomeLoader(const OutcomeLoader&) = delete;
  OutcomeLoader& operator=(const OutcomeLoader&) = delete;

  std::string_view name() const override { return "outcomes"; }
  void start() override;
  // Commands waiting for the outcomes get them if they load within a few seconds (before the
  // deadline); otherwise the recovery is abandoned (they are answered 503). Then close()s.
  asio::awaitable<void> stop(Deadline deadline, bool failed) override;
  // Stops reading (the process is stopping: what is not loaded is not needed) and joins.
  void close();
  bool done() const { return done_; }

 private:
  struct Stopped {};
  void run();
  void post_batch(std::vector<core::Outcome> batch);

  asio::io_context& io_;
  core::LogReader& reader_;
  core::Service& service_;
  LogFunction log_;
  std::function<void(const std::string&)> on_failure_;
  bool done_ = false;               // core's thread
  std::shared_ptr<Signal> loaded_;  // set with done_
  std::mutex mutex_;
  std::condition_variable cv_;
  int batches_posted_ = 0;  // not yet applied on the core's thread
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace roombus::services
