// Snapshots: the snapshot thread that writes and prunes them, adopting a child's, loading one.
#include <cstdint>
#include <exception>
#include <filesystem>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "snapshot_file.hpp"
#include "store_impl.hpp"

namespace roombus::sqlite {

namespace {

using detail::error_of;
using detail::SnapshotJob;

}  // namespace

void EventStore::Impl::snapshot_loop() {
  for (;;) {
    std::vector<SnapshotJob> superseded;
    SnapshotJob job;
    std::error_code not_written;
    {
      std::unique_lock lock(mutex);
      snapshot_cv.wait(lock, [this] {
        return writer_done || (!snapshot_jobs.empty() &&
                               (snapshot_jobs.front().position <= durable_position || failure));
      });
      if (snapshot_jobs.empty()) break;  // the writer is done and nothing is left
      // Writing a snapshot that a newer, already writable one replaces would only cost time.
      while (snapshot_jobs.size() > 1 && snapshot_jobs[1].position <= durable_position &&
             snapshot_jobs[1].position >= snapshot_jobs.front().position) {
        superseded.push_back(std::move(snapshot_jobs.front()));
        snapshot_jobs.pop_front();
      }
      job = std::move(snapshot_jobs.front());
      snapshot_jobs.pop_front();
      if (job.position > durable_position) {
        not_written =
            failure ? make_error_code(StoreErrc::stopped) : make_error_code(StoreErrc::closed);
      }
    }
    for (SnapshotJob& old : superseded) {
      if (old.adopted) detail::remove_snapshot_temp_file(snapshot_dir, old.position);
      if (old.on_done) old.on_done(make_error_code(StoreErrc::superseded));
    }
    if (not_written && job.adopted) detail::remove_snapshot_temp_file(snapshot_dir, job.position);
    const std::error_code result = not_written ? not_written : write_snapshot_now(job);
    if (job.on_done) {
      try {
        job.on_done(result);
      } catch (const std::exception& e) {
        log(std::string("event store: a snapshot callback threw: ") + e.what());
      } catch (...) {
        log("event store: a snapshot callback threw");
      }
    }
  }
}

std::error_code EventStore::Impl::write_snapshot_now(const SnapshotJob& job) noexcept {
  try {
    if (job.adopted) {
      detail::publish_snapshot_temp_file(snapshot_dir, job.position);
    } else {
      detail::write_snapshot_file(snapshot_dir, job.position, job.bytes);
    }
    {
      std::lock_guard lock(mutex);
      ++totals.snapshots;
    }
    prune_snapshots();
    return {};
  } catch (const std::exception& e) {
    log("cannot write snapshot at position " + std::to_string(job.position) + ": " + e.what());
    return error_of(e);
  }
}

void EventStore::Impl::prune_snapshots() {
  const auto files = detail::list_snapshot_files(snapshot_dir);
  for (std::size_t i = options.snapshots_to_keep; i < files.size(); ++i) {
    std::error_code ec;
    if (!std::filesystem::remove(files[i].path, ec) && ec) {
      log("cannot remove old snapshot " + files[i].path.string() + ": " + ec.message());
    }
  }
}

void EventStore::write_snapshot(std::int64_t position, std::string bytes, Completion on_done) {
  impl_->queue_snapshot({position, std::move(bytes), std::move(on_done), false});
}

void EventStore::write_snapshot_temp(std::int64_t position, std::string_view payload) const {
  detail::write_snapshot_temp_file(impl_->snapshot_dir, position, payload);
}

void EventStore::adopt_snapshot(std::int64_t position, Completion on_done) {
  try {
    impl_->queue_snapshot({position, {}, std::move(on_done), true});
  } catch (...) {
    detail::remove_snapshot_temp_file(impl_->snapshot_dir, position);
    throw;
  }
}

void EventStore::Impl::queue_snapshot(SnapshotJob job) {
  Impl& s = *this;
  if (s.read_only) throw std::logic_error("event store: write_snapshot() on a read-only store");
  {
    std::lock_guard lock(s.mutex);
    if (s.closing) throw std::logic_error("event store: write_snapshot() after close()");
    if (job.position < 0 || job.position >= s.next_position) {
      throw std::logic_error("event store: snapshot at position " + std::to_string(job.position) +
                             " but the last appended position is " +
                             std::to_string(s.next_position - 1));
    }
    s.snapshot_jobs.push_back(std::move(job));
  }
  s.snapshot_cv.notify_all();
}

std::optional<Snapshot> EventStore::load_latest_snapshot() {
  std::vector<detail::SnapshotFile> files;
  try {
    std::error_code ec;
    // A read-only store may look at a directory whose first writer never made it this far.
    if (!std::filesystem::exists(impl_->snapshot_dir, ec) && !ec) return std::nullopt;
    files = detail::list_snapshot_files(impl_->snapshot_dir);
  } catch (const std::exception& e) {
    impl_->log(std::string("cannot list snapshots, replaying the whole log: ") + e.what());
    return std::nullopt;
  }
  // Read after listing: a live writer writes a snapshot only once its position is durable, so
  // every listed file is at or before this position, never wrongly "beyond the log".
  const std::int64_t last = last_position();
  for (const auto& file : files) {
    try {
      if (file.position > last) {
        throw std::runtime_error("its position " + std::to_string(file.position) +
                                 " is beyond the log's last position " + std::to_string(last));
      }
      return Snapshot{file.position, detail::read_snapshot_file(file)};
    } catch (const std::exception& e) {
      impl_->log("ignoring snapshot " + file.path.string() + ": " + e.what());
    }
  }
  return std::nullopt;
}

}  // namespace roombus::sqlite
