// EventStore::Impl, the store's private state, and the small types its source files share.
#pragma once

#include <sqlite3.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <filesystem>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "posix_file.hpp"
#include "roombus/sqlite/event_store.hpp"
#include "sqlite_db.hpp"

namespace roombus::sqlite {

namespace detail {

struct Pending {
  Batch batch;
  EventStore::Completion on_durable;
};

struct SnapshotJob {
  std::int64_t position = 0;
  std::string bytes;
  EventStore::Completion on_done;
  bool adopted = false;  // the temp file is written (write_snapshot_temp): only publish it
};

// The error code a callback gets for what a commit or a snapshot write threw (errors.cpp).
std::error_code error_of(const std::exception& e);

}  // namespace detail

struct EventStore::Impl {
  // Lifecycle: the directory lock, the threads, close() (event_store.cpp).
  Impl(const std::filesystem::path& data_dir, Options opts, Mode mode);
  void log(const std::string& message) const noexcept;
  void start_threads();
  // Tells every thread to finish what is queued and joins them.
  void stop_threads();
  void close();

  // Schema, migrations and the connections (schema.cpp).
  void open_database();
  void open_read_only_database();

  // The writer thread (writer.cpp).
  void writer_loop();
  // Runs the batches' `complete` hooks; checks they kept the positions. Throws like a commit.
  static void complete_batches(std::vector<detail::Pending>& work);
  // True if anything was written; throws on failure (caught in writer_loop).
  bool commit_group(const std::vector<detail::Pending>& work);
  void roll_back() noexcept;
  // Deletes outcome rows decided at or before `cutoff` from the oldest end, kExpireBatch at most.
  void expire_outcomes(std::int64_t cutoff);

  // The checkpointer thread (checkpointer.cpp).
  // Called by open_database() once the log's page size is known.
  void set_checkpoint_pages(std::int64_t page_size);
  // Called by SQLite on the writer thread after each commit, with the WAL's size in pages.
  static int on_wal_commit(void* self, sqlite3* db, const char* schema, int pages);
  void checkpoint_loop();

  // The snapshot thread (snapshots.cpp).
  void snapshot_loop();
  void queue_snapshot(detail::SnapshotJob job);  // write_snapshot(), adopt_snapshot()
  std::error_code write_snapshot_now(const detail::SnapshotJob& job) noexcept;
  void prune_snapshots();

  // Defined in reader.cpp, its only user.
  template <typename F>
  auto with_reader(F&& f);

  const std::filesystem::path dir;
  const std::filesystem::path snapshot_dir;
  const std::filesystem::path db_path;
  Options options;
  const bool read_only;

  std::optional<detail::DirectoryLock> dir_lock;

  // Used by the opening thread, then only by the writer thread, then by close() after the join.
  std::unique_ptr<detail::Connection> writer_db;
  detail::Statement begin;
  detail::Statement commit;
  detail::Statement rollback;
  detail::Statement insert_event;
  detail::Statement insert_outcome;
  detail::Statement upsert_meta;
  std::string log_id;
  detail::Statement oldest_outcomes;
  detail::Statement delete_outcomes;
  // The newest time (of an event or an outcome) appended, the clock outcomes expire by; and the
  // time of the oldest outcome row kept, once known, so that most commits need no query at all.
  std::int64_t newest_time = std::numeric_limits<std::int64_t>::min();
  std::optional<std::int64_t> oldest_outcome_time;
  std::uint64_t expired_in_group = 0;  // rows deleted by the transaction in progress
  // Read-only stores of logs before version 3 have no time column.
  bool outcomes_have_time = true;
  // WAL sizes that trigger a checkpoint, in this log's pages (see kCheckpointBytes in
  // checkpointer.cpp).
  int checkpoint_pages = 0;
  int writer_checkpoint_pages = 0;

  // A second connection, so start-up reads and backups never wait for (or stall) the writer.
  std::mutex read_mutex;
  std::unique_ptr<detail::Connection> reader_db;

  // A third, used only by the checkpointer thread.
  std::unique_ptr<detail::Connection> checkpoint_db;

  mutable std::mutex mutex;  // guards everything below
  std::condition_variable work_cv;
  std::condition_variable snapshot_cv;
  std::vector<detail::Pending> queue;
  std::deque<detail::SnapshotJob> snapshot_jobs;
  std::int64_t next_position = 1;     // position the next appended event must carry
  std::int64_t durable_position = 0;  // last committed position
  std::error_code failure;
  bool closing = false;
  bool writer_done = false;
  bool checkpoint_wanted = false;
  std::condition_variable checkpoint_cv;
  Counters totals;

  std::thread writer;
  std::thread snapshotter;
  std::thread checkpointer;
  // Copies of the threads' ids, readable without racing with join().
  std::thread::id writer_id;
  std::thread::id snapshotter_id;
  std::thread::id checkpointer_id;

  std::mutex close_mutex;
  bool closed = false;
};

}  // namespace roombus::sqlite
