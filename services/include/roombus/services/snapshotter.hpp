// The snapshotter: every so many durable events, a forked child writes the Service's state as a
// snapshot file (a copy-on-write image, as Redis's BGSAVE), so the state is held only once.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "roombus/core/event_ports.hpp"
#include "roombus/core/log_ports.hpp"
#include "roombus/core/state.hpp"
#include "roombus/services/component.hpp"

namespace roombus::services {

struct SnapshotterStatus {
  std::uint64_t attempts = 0;  // children forked
  std::uint64_t written = 0;
  std::uint64_t failures = 0;
  std::int64_t last_position = 0;  // of the newest snapshot written (or recovered from)
  std::int64_t consecutive_failures = 0;
  std::string last_error;
  double last_fork_seconds = 0;             // how long the last fork() held the core's thread
  double last_child_seconds = 0;            // how long the last child took to encode and write
  std::int64_t last_child_max_rss_kib = 0;  // the last child's peak resident memory
};

// How: on the core's thread, once `every` durable events have passed since the last snapshot, it
// forks. The child holds the state as it was at that instant (the parent's pages, copied only
// when the parent writes to them), has the store encode and write it unpublished
// (SnapshotStore::write_unpublished: on this machine a binary snapshot, fsynced), and exits; it
// closes every inherited descriptor first (the data directory's lock among them) and dies with the
// parent. A thread of the snapshotter waits for the child and hands the file to the store
// (publish()), which puts it in place only once its position is durable: the state forked may
// include decided events not yet committed, and a snapshot is never ahead of the log (if their
// commit fails, the process stops and the temp file is removed at the next start).
//
// The state is held once instead of twice (the earlier snapshotter applied every event to a copy
// of its own); the price is one fork() per snapshot on the core's thread (page tables copied:
// milliseconds per GiB, `last_fork_seconds`) and the pages the parent changes while the child
// runs. A snapshot that cannot be written is logged, counted and tried again with a growing
// delay; the log stays the source of truth, so it only makes the next start slower.
//
// Threads: on_events(), check_due() and finish() on the core's thread (the Service's state is read
// there and in the child only); status() anywhere; the waiting thread and the store's snapshot
// thread report results. Ownership: `state` and `store` outlive the snapshotter.
class Snapshotter final : public core::EventListener, public Component {
 public:
  // `last_snapshot`: the position of the snapshot recovery started from (0 for none), so a start
  // that replayed many events writes a fresh snapshot soon (check_due()). `every` 0: only finish().
  Snapshotter(core::SnapshotStore& store, const core::State& state, std::int64_t every,
              std::int64_t last_snapshot, LogFunction log);
  // Waits for a child still writing.
  ~Snapshotter() override;
  Snapshotter(const Snapshotter&) = delete;
  Snapshotter& operator=(const Snapshotter&) = delete;

  // Durable events: starts a snapshot when one is due.
  void on_events(const core::EventBatch& events) override;
  // Starts a snapshot if one is due by the durable position `durable` (after recovery).
  void check_due(std::int64_t durable);
  // At shutdown, once every decided event is durable: waits for a child still writing, then
  // writes a last snapshot if anything happened since the previous one, and waits for it to be
  // written (the store publishes it at close()). Blocks the calling thread.
  void finish();

  std::string_view name() const override { return "snapshots"; }
  // Recovery made every event so far durable: a snapshot may be due already.
  void start() override;
  // Unless the log failed: finish(), blocking the io_context's thread until the last snapshot is
  // written (everything after it in the stop order has stopped by then).
  asio::awaitable<void> stop(Deadline deadline, bool failed) override;
  void metrics(std::string& out) const override;

  SnapshotterStatus status() const;

 private:
  void fork_child();
  void wait_for_child(pid_t child, int error_pipe, std::int64_t position,
                      std::chrono::steady_clock::time_point started);
  // The store's snapshot thread.
  void published(std::int64_t position, core::SnapshotResult result, const std::string& error);
  void failed(std::int64_t position, const std::string& why);  // any thread

  core::SnapshotStore& store_;
  const core::State& state_;
  std::int64_t every_;
  std::int64_t last_written_;  // last snapshot started (core's thread)
  LogFunction log_;
  std::thread waiter_;  // waits for the running child, if any
  std::atomic<bool> child_running_{false};

  mutable std::mutex mutex_;  // guards what the waiting and the store's threads report
  SnapshotterStatus status_;
  std::chrono::steady_clock::time_point retry_at_{};
  bool retry_due_ = false;
};

}  // namespace roombus::services
