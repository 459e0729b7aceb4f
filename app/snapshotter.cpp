// Snapshotter: applies durable events to its own state and writes snapshots off the core's thread.
#include "snapshotter.hpp"

#include <algorithm>

#include "roombus/json/snapshot_codec.hpp"

namespace roombus::app {
namespace {

constexpr std::chrono::seconds kFirstRetry{1};
constexpr std::chrono::seconds kLongestRetry{300};

}  // namespace

Snapshotter::Snapshotter(sqlite::EventStore& store, core::State start, std::int64_t every,
                         std::int64_t last_snapshot, LogFunction log)
    : store_(store),
      state_(std::move(start)),
      every_(every),
      last_written_(last_snapshot),
      applied_(state_.position()),
      log_(std::move(log)) {
  status_.last_position = last_snapshot;
  state_.disable_lifecycle();  // a copy of the Service's state: it decides nothing
}

void Snapshotter::deliver(std::span<const core::Event* const> events) {
  for (const core::Event* e : events) state_.apply(*e);
  applied_.store(state_.position());
  bool retry = false;
  {
    std::lock_guard lock(mutex_);
    retry = retry_due_ && std::chrono::steady_clock::now() >= retry_at_;
  }
  const bool due = every_ > 0 && state_.position() - last_written_ >= every_;
  if (due || retry) write();
}

void Snapshotter::finish(std::chrono::steady_clock::time_point) {
  if (state_.position() > last_written_) write();
}

void Snapshotter::write() {
  const std::int64_t position = state_.position();
  if (position <= 0) return;
  last_written_ = position;
  {
    std::lock_guard lock(mutex_);
    retry_due_ = false;
  }
  try {
    store_.write_snapshot(position, json::encode_snapshot(state_),
                          [this, position](std::error_code ec) { written(position, ec); });
  } catch (const std::exception& e) {
    failed(position, std::string("not queued: ") + e.what());
  }
}

void Snapshotter::written(std::int64_t position, std::error_code ec) {
  // A newer snapshot replacing this one, or the store closing before it was durable, is no
  // failure of the disk.
  if (ec == sqlite::StoreErrc::superseded || ec == sqlite::StoreErrc::closed) return;
  if (ec) {
    failed(position, ec.message());
    return;
  }
  std::lock_guard lock(mutex_);
  ++status_.written;
  status_.last_position = std::max(status_.last_position, position);
  status_.consecutive_failures = 0;
}

void Snapshotter::failed(std::int64_t position, const std::string& why) {
  std::string line;
  {
    std::lock_guard lock(mutex_);
    ++status_.failures;
    ++status_.consecutive_failures;
    status_.last_error = why;
    // 1 s, 2 s, 4 s, ... up to 5 minutes between attempts while it keeps failing.
    const auto delay = std::min<std::chrono::seconds>(
        kFirstRetry * (1LL << std::min<std::int64_t>(status_.consecutive_failures - 1, 20)),
        kLongestRetry);
    retry_at_ = std::chrono::steady_clock::now() + delay;
    retry_due_ = true;
    line = "snapshot at position " + std::to_string(position) + " failed (" + why + "), " +
           std::to_string(status_.consecutive_failures) + " in a row; next attempt in " +
           std::to_string(delay.count()) + " s";
  }
  if (log_) log_(line);
}

SnapshotterStatus Snapshotter::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

}  // namespace roombus::app
