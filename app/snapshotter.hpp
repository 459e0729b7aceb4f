// The snapshotter: a durable-event subscriber that keeps its own copy of the state and writes it
// to a snapshot file every so many events, so that start-up replays little.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include "roombus/core/state.hpp"
#include "roombus/core/subscriber.hpp"
#include "roombus/sqlite/event_store.hpp"
#include "subscription.hpp"

namespace roombus::app {

struct SnapshotterStatus {
  std::uint64_t written = 0;
  std::uint64_t failures = 0;
  std::int64_t last_position = 0;  // of the newest snapshot written (or recovered from)
  std::int64_t consecutive_failures = 0;
  std::string last_error;
};

// Its copy of the state lives on the subscription's thread, so encoding a large state never
// holds up the core's thread (the price is the state held twice). A snapshot that cannot be
// written is logged, counted and tried again with a growing delay; the log stays the source of
// truth, so it only makes the next start slower. Threads: EventSubscriber members on the
// subscription's thread; status() anywhere; the store's snapshot thread reports results.
class Snapshotter final : public core::EventSubscriber {
 public:
  // `last_snapshot`: the position of the snapshot recovery started from (0 for none), so a start
  // that replayed many events writes a fresh snapshot soon.
  Snapshotter(sqlite::EventStore& store, core::State start, std::int64_t every,
              std::int64_t last_snapshot, LogFunction log);

  std::string_view name() const override { return "snapshot"; }
  std::int64_t resume_position() override { return state_.position(); }
  void deliver(std::span<const core::Event* const> events) override;
  std::int64_t handled_position() const override { return applied_.load(); }
  // Writes a last snapshot if anything happened since the previous one.
  void finish(std::chrono::steady_clock::time_point deadline) override;

  SnapshotterStatus status() const;

 private:
  void write();
  void written(std::int64_t position, std::error_code ec);     // the store's snapshot thread
  void failed(std::int64_t position, const std::string& why);  // any thread

  sqlite::EventStore& store_;
  core::State state_;  // owned by the subscription's thread
  std::int64_t every_;
  std::int64_t last_written_;  // last snapshot asked for (subscription's thread)
  std::atomic<std::int64_t> applied_;
  LogFunction log_;

  mutable std::mutex mutex_;  // guards what the store's thread reports
  SnapshotterStatus status_;
  std::chrono::steady_clock::time_point retry_at_{};
  bool retry_due_ = false;
};

}  // namespace roombus::app
