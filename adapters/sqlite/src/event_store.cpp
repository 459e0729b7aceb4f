// The event store: directory lock, schema, group-commit writer thread, snapshot thread, reads.
#include "roombus/sqlite/event_store.hpp"

#include <fcntl.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <limits>
#include <mutex>
#include <new>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>

#include "posix_file.hpp"
#include "snapshot_file.hpp"
#include "sqlite_db.hpp"

namespace roombus::sqlite {

namespace {

using detail::Connection;
using detail::ResetOnExit;
using detail::SqliteError;
using detail::Statement;

constexpr std::string_view kSchemaVersion = "3";

// Expired outcome rows deleted per transaction at most: a backlog (after downtime) is worked off
// over several commits instead of making one slow.
constexpr std::int64_t kExpireBatch = 1024;

// WAL size at which the checkpointer thread copies the WAL into roombus.db. Checkpointing on the
// writer, as SQLite does by default, stalls every commit queued behind it: moving it off took
// the p99 of HTTP creates from ~20 to ~15 ms. In bytes, because the page size of a log depends
// on the version that created it (4 KiB before 16 KiB pages).
constexpr std::int64_t kCheckpointBytes = 16 << 20;
// If the checkpointer cannot keep up (it never catches a moment without new frames), the writer
// checkpoints itself at this size, which bounds the WAL like journal_size_limit.
constexpr std::int64_t kWriterCheckpointBytes = 64 << 20;

// The events table is the source of truth, so the schema itself refuses edits and deletions.
// Every index costs one random B-tree page per insert in every commit, so there is none beyond
// the rowids: events by position, outcomes in commit order. Commits then only ever dirty the
// right edge of two tables. (aggregate, version) is unique by the core's decide; nothing reads
// the log by aggregate. Outcomes are looked up in memory (the caller loads them at start-up), so
// an index on command_id was all cost: with it, each create dirtied a random page of its own,
// most of a commit's WAL bytes.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events(
  position INTEGER PRIMARY KEY,
  aggregate TEXT NOT NULL,
  version INTEGER NOT NULL,
  command_id TEXT NOT NULL,
  time INTEGER NOT NULL,
  type TEXT NOT NULL,
  payload BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS commands(
  seq INTEGER PRIMARY KEY,
  command_id TEXT NOT NULL,
  position INTEGER,
  outcome BLOB NOT NULL,
  time INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
INSERT OR IGNORE INTO meta(key, value) VALUES('schema_version', '3');
INSERT OR IGNORE INTO meta(key, value) VALUES('log_id', lower(hex(randomblob(16))));
)sql";

// Subscribers' cursors live in `meta` under this prefix: an additive use of the version-2 schema,
// so a log stays readable by the release before.
constexpr std::string_view kCursorPrefix = "cursor:";

// Version 1 had `command_id TEXT PRIMARY KEY` on commands. Its implicit index cannot be dropped,
// so the table is rebuilt, the commit order (v1's rowids) kept as `seq`: an explicit INTEGER
// PRIMARY KEY, the rowid under a name, which VACUUM never renumbers (queries say `rowid`, which
// reads v1 logs too). Runs inside the opening transaction: a crash half-way leaves version 1.
constexpr const char* kMigrateFrom1 = R"sql(
CREATE TABLE commands_v2(
  seq INTEGER PRIMARY KEY,
  command_id TEXT NOT NULL,
  position INTEGER,
  outcome BLOB NOT NULL);
INSERT INTO commands_v2(seq, command_id, position, outcome)
  SELECT rowid, command_id, position, outcome FROM commands ORDER BY rowid;
DROP TABLE commands;
ALTER TABLE commands_v2 RENAME TO commands;
UPDATE meta SET value = '2' WHERE key = 'schema_version';
)sql";

// Version 3 adds the time of each outcome, by which outcomes expire. Rows from before get the
// time of the upgrade (their own is unknown), so they expire one outcome_ttl after it. ADD
// COLUMN only rewrites the schema; the UPDATE touches each row once.
std::string migrate_from_2(std::int64_t now_unix) {
  return "ALTER TABLE commands ADD COLUMN time INTEGER NOT NULL DEFAULT 0;"
         "UPDATE commands SET time = " +
         std::to_string(now_unix) +
         ";"
         "UPDATE meta SET value = '3' WHERE key = 'schema_version';";
}

class StoreCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "roombus.event_store"; }
  std::string message(int code) const override {
    switch (static_cast<StoreErrc>(code)) {
      case StoreErrc::stopped:
        return "the event store stopped accepting writes after a failed commit";
      case StoreErrc::closed:
        return "the event store was closed first";
      case StoreErrc::superseded:
        return "a newer snapshot replaced this one";
    }
    return "unknown event store error";
  }
};

struct Pending {
  Batch batch;
  EventStore::DurableCallback on_durable;
};

struct SnapshotJob {
  std::int64_t position = 0;
  std::string bytes;
  EventStore::DurableCallback on_done;
  bool adopted = false;  // the temp file is written (write_snapshot_temp): only publish it
};

std::string unknown_version(const std::filesystem::path& db_path, const std::string& version) {
  return "event log " + db_path.string() + " has schema version " + version +
         "; this roombus writes version " + std::string(kSchemaVersion) +
         " and reads (and upgrades) versions 1 and 2: run the roombus release that wrote it";
}

std::int64_t last_position_of(Connection& db) {
  Statement statement = db.prepare("SELECT coalesce(max(position), 0) FROM events");
  statement.step();
  return statement.column_int64(0);
}

void configure(Connection& db, std::chrono::milliseconds busy_timeout) {
  const auto ms = std::clamp<std::chrono::milliseconds::rep>(busy_timeout.count(), 0,
                                                             std::numeric_limits<int>::max());
  sqlite3_busy_timeout(db.get(), static_cast<int>(ms));
}

std::error_code error_of(const std::exception& e) {
  if (const auto* sqlite_error = dynamic_cast<const SqliteError*>(&e)) return sqlite_error->code();
  if (const auto* system_error = dynamic_cast<const std::system_error*>(&e)) {
    return system_error->code();
  }
  if (dynamic_cast<const std::bad_alloc*>(&e) != nullptr) {
    return std::make_error_code(std::errc::not_enough_memory);
  }
  return std::make_error_code(std::errc::io_error);
}

}  // namespace

const std::error_category& store_category() noexcept {
  static const StoreCategory category;
  return category;
}

std::error_code make_error_code(StoreErrc e) noexcept {
  return {static_cast<int>(e), store_category()};
}

struct EventStore::Impl {
  Impl(const std::filesystem::path& data_dir, Options opts, Mode mode);

  void log(const std::string& message) const noexcept;
  void open_database();
  void open_read_only_database();
  void start_threads();
  void close();

  void writer_loop();
  // Runs the batches' `complete` hooks; checks they kept the positions. Throws like a commit.
  static void complete_batches(std::vector<Pending>& work);
  // True if anything was written; throws on failure (caught in writer_loop).
  bool commit_group(const std::vector<Pending>& work);
  void roll_back() noexcept;
  // Deletes outcome rows decided at or before `cutoff` from the oldest end, kExpireBatch at most.
  void expire_outcomes(std::int64_t cutoff);

  void snapshot_loop();
  void queue_snapshot(SnapshotJob job);  // write_snapshot(), adopt_snapshot()
  std::error_code write_snapshot_now(const SnapshotJob& job) noexcept;
  void prune_snapshots();

  // Called by SQLite on the writer thread after each commit, with the WAL's size in pages.
  static int on_wal_commit(void* self, sqlite3* db, const char* schema, int pages);
  void checkpoint_loop();
  // Tells every thread to finish what is queued and joins them.
  void stop_threads();

  template <typename F>
  auto with_reader(F&& f);

  const std::filesystem::path dir;
  const std::filesystem::path snapshot_dir;
  const std::filesystem::path db_path;
  Options options;
  const bool read_only;

  std::optional<detail::DirectoryLock> dir_lock;

  // Used by the opening thread, then only by the writer thread, then by close() after the join.
  std::unique_ptr<Connection> writer_db;
  Statement begin;
  Statement commit;
  Statement rollback;
  Statement insert_event;
  Statement insert_outcome;
  Statement upsert_meta;
  std::string log_id;
  Statement oldest_outcomes;
  Statement delete_outcomes;
  // The newest time (of an event or an outcome) appended, the clock outcomes expire by; and the
  // time of the oldest outcome row kept, once known, so that most commits need no query at all.
  std::int64_t newest_time = std::numeric_limits<std::int64_t>::min();
  std::optional<std::int64_t> oldest_outcome_time;
  std::uint64_t expired_in_group = 0;  // rows deleted by the transaction in progress
  // Read-only stores of logs before version 3 have no time column.
  bool outcomes_have_time = true;
  // WAL sizes that trigger a checkpoint, in this log's pages (see kCheckpointBytes).
  int checkpoint_pages = 0;
  int writer_checkpoint_pages = 0;

  // A second connection, so start-up reads and backups never wait for (or stall) the writer.
  std::mutex read_mutex;
  std::unique_ptr<Connection> reader_db;

  // A third, used only by the checkpointer thread.
  std::unique_ptr<Connection> checkpoint_db;

  mutable std::mutex mutex;  // guards everything below
  std::condition_variable work_cv;
  std::condition_variable snapshot_cv;
  std::vector<Pending> queue;
  std::deque<SnapshotJob> snapshot_jobs;
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

EventStore::Impl::Impl(const std::filesystem::path& data_dir, Options opts, Mode mode)
    : dir(data_dir),
      snapshot_dir(data_dir / "snapshots"),
      db_path(data_dir / "roombus.db"),
      options(std::move(opts)),
      read_only(mode == Mode::read_only) {
  options.snapshots_to_keep = std::max<std::size_t>(options.snapshots_to_keep, 1);

  std::error_code ec;
  if (read_only) {
    // Creating anything here would turn a mistyped path into a fresh, empty log.
    const auto status = std::filesystem::status(dir, ec);
    if (status.type() == std::filesystem::file_type::not_found) {
      throw std::runtime_error("data directory " + dir.string() + " does not exist");
    }
    if (!std::filesystem::is_directory(status)) {
      throw std::runtime_error("data directory " + dir.string() + " is not a directory" +
                               (ec ? ": " + ec.message() : ""));
    }
    if (!std::filesystem::is_regular_file(db_path, ec)) {
      throw std::runtime_error("no event log in data directory " + dir.string() + " (" +
                               db_path.filename().string() + " is missing)");
    }
    try {
      open_read_only_database();
    } catch (const SqliteError& e) {
      throw std::runtime_error("event log " + db_path.string() + ": " + e.what());
    }
    return;
  }

  std::filesystem::create_directories(dir, ec);
  if (ec) {
    throw std::runtime_error("cannot create data directory " + dir.string() + ": " + ec.message());
  }
  if (!std::filesystem::is_directory(dir, ec)) {
    throw std::runtime_error("data directory " + dir.string() + " is not a directory");
  }
  dir_lock.emplace(dir);

  std::filesystem::create_directories(snapshot_dir, ec);
  if (ec) {
    throw std::runtime_error("cannot create snapshot directory " + snapshot_dir.string() + ": " +
                             ec.message());
  }
  detail::remove_snapshot_temp_files(snapshot_dir);

  try {
    open_database();
  } catch (const SqliteError& e) {
    throw std::runtime_error("event log " + db_path.string() + ": " + e.what());
  }
}

void EventStore::Impl::log(const std::string& message) const noexcept {
  try {
    if (options.log) {
      options.log(message);
      return;
    }
  } catch (...) {
    // A broken log sink must not take the writer thread down; stderr still gets the line.
  }
  std::fprintf(stderr, "roombus: %s\n", message.c_str());
}

void EventStore::Impl::open_database() {
  // Two connections on two threads need a thread-safe build (the mutexes we turn off per
  // connection are not the ones that protect SQLite's shared state).
  if (sqlite3_threadsafe() == 0) {
    throw std::runtime_error("the SQLite library was built without thread support");
  }
  writer_db = std::make_unique<Connection>(db_path);
  // 16 KiB pages: a group commit of ~50 creates writes a quarter of the WAL frames (each its
  // own pwrite) that 4 KiB pages take; store-level creates/s +10% (docs/performance.md, "Store
  // alone"). Only a new database takes it; an existing log keeps the page size it was made with.
  writer_db->exec("PRAGMA page_size=16384");
  configure(*writer_db, options.busy_timeout);
  if (const std::string mode = writer_db->query_text("PRAGMA journal_mode=WAL"); mode != "wal") {
    throw std::runtime_error("event log " + db_path.string() +
                             ": cannot switch to WAL mode (journal_mode is " + mode + ")");
  }
  writer_db->exec("PRAGMA synchronous=FULL");
  // Checkpoints leave the WAL file at its high-water mark; cap what stays on disk.
  writer_db->query_text("PRAGMA journal_size_limit=67108864");

  writer_db->exec("BEGIN IMMEDIATE");
  try {
    writer_db->exec(kSchema);
    std::string version =
        writer_db->query_text("SELECT value FROM meta WHERE key = 'schema_version'");
    const std::string original = version;
    if (version == "1") {
      writer_db->exec(kMigrateFrom1);
      version = writer_db->query_text("SELECT value FROM meta WHERE key = 'schema_version'");
    }
    if (version == "2") {
      const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
      writer_db->exec(migrate_from_2(now.time_since_epoch().count()).c_str());
      version = writer_db->query_text("SELECT value FROM meta WHERE key = 'schema_version'");
    }
    if (version != original) {
      log("event log " + db_path.string() + " upgraded from schema version " + original + " to " +
          version);
    }
    if (version != kSchemaVersion) {
      throw std::runtime_error(unknown_version(db_path, version));
    }
    writer_db->exec("COMMIT");
  } catch (...) {
    sqlite3_exec(writer_db->get(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }

  begin = writer_db->prepare("BEGIN IMMEDIATE");
  commit = writer_db->prepare("COMMIT");
  rollback = writer_db->prepare("ROLLBACK");
  insert_event = writer_db->prepare(
      "INSERT INTO events(position, aggregate, version, command_id, time, type, payload) "
      "VALUES(?, ?, ?, ?, ?, ?, ?)");
  insert_outcome = writer_db->prepare(
      "INSERT INTO commands(command_id, position, outcome, time) VALUES(?, ?, ?, ?)");
  oldest_outcomes = writer_db->prepare("SELECT rowid, time FROM commands ORDER BY rowid LIMIT ?");
  delete_outcomes = writer_db->prepare("DELETE FROM commands WHERE rowid <= ?");
  upsert_meta = writer_db->prepare(
      "INSERT INTO meta(key, value) VALUES(?, ?) "
      "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  log_id = writer_db->query_text("SELECT value FROM meta WHERE key = 'log_id'");

  durable_position = last_position_of(*writer_db);
  next_position = durable_position + 1;
  const std::int64_t page_size = std::stoll(writer_db->query_text("PRAGMA page_size"));
  checkpoint_pages = static_cast<int>(kCheckpointBytes / page_size);
  writer_checkpoint_pages = static_cast<int>(kWriterCheckpointBytes / page_size);

  reader_db = std::make_unique<Connection>(db_path);
  configure(*reader_db, options.busy_timeout);
  reader_db->exec("PRAGMA query_only=ON");

  checkpoint_db = std::make_unique<Connection>(db_path);
  configure(*checkpoint_db, options.busy_timeout);
  checkpoint_db->exec("PRAGMA synchronous=FULL");
  // Replaces SQLite's automatic checkpoint on the writer (which is itself a WAL hook).
  sqlite3_wal_hook(writer_db->get(), &Impl::on_wal_commit, this);
}

void EventStore::Impl::open_read_only_database() {
  if (sqlite3_threadsafe() == 0) {
    throw std::runtime_error("the SQLite library was built without thread support");
  }
  reader_db = std::make_unique<Connection>(db_path, Connection::Access::read_only);
  configure(*reader_db, options.busy_timeout);
  // A file that merely has the right name must not replay as an empty log.
  Statement has_meta = reader_db->prepare(
      "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'meta'");
  has_meta.step();
  if (has_meta.column_int64(0) == 0) {
    throw std::runtime_error("event log " + db_path.string() + " is not a roombus event log");
  }
  has_meta.reset();
  const std::string version =
      reader_db->query_text("SELECT value FROM meta WHERE key = 'schema_version'");
  // Versions 1 and 2 differ only in an index readers do not use and the outcomes' time; a
  // reader must never migrate.
  if (version != kSchemaVersion && version != "1" && version != "2") {
    throw std::runtime_error(unknown_version(db_path, version));
  }
  // A log no writer of this release has opened yet has none; readers never add one.
  Statement id = reader_db->prepare("SELECT value FROM meta WHERE key = 'log_id'");
  if (id.step()) log_id.assign(id.column_text(0));
  outcomes_have_time = version == kSchemaVersion;
}

void EventStore::Impl::start_threads() {
  try {
    writer = std::thread([this] { writer_loop(); });
    writer_id = writer.get_id();
    snapshotter = std::thread([this] { snapshot_loop(); });
    snapshotter_id = snapshotter.get_id();
    // Last: it ends once the writer is done, so the cleanup below never has to stop it.
    checkpointer = std::thread([this] { checkpoint_loop(); });
    checkpointer_id = checkpointer.get_id();
  } catch (...) {
    stop_threads();
    throw;
  }
}

void EventStore::Impl::stop_threads() {
  {
    std::lock_guard lock(mutex);
    closing = true;
  }
  work_cv.notify_all();
  snapshot_cv.notify_all();
  if (writer.joinable()) writer.join();
  if (snapshotter.joinable()) snapshotter.join();
  if (checkpointer.joinable()) checkpointer.join();
}

void EventStore::Impl::writer_loop() {
  std::vector<Pending> work;
  for (;;) {
    bool already_failed = false;
    {
      std::unique_lock lock(mutex);
      work_cv.wait(lock, [this] { return !queue.empty() || closing; });
      if (queue.empty()) break;
      // Everything that arrived during the previous commit becomes one transaction.
      work.swap(queue);
      already_failed = static_cast<bool>(failure);
    }

    std::error_code result;
    bool wrote = false;
    if (already_failed) {
      result = make_error_code(StoreErrc::stopped);
    } else {
      try {
        complete_batches(work);
        wrote = commit_group(work);
      } catch (const std::exception& e) {
        roll_back();
        result = error_of(e);
        log(std::string("event log commit failed, refusing further writes: ") + e.what());
      } catch (...) {
        // Only a caller's complete hook can throw something else; it fails the same way.
        roll_back();
        result = std::make_error_code(std::errc::io_error);
        log("event log commit failed, refusing further writes: a batch's complete hook threw");
      }
    }

    {
      std::lock_guard lock(mutex);
      if (!already_failed) {
        if (result) {
          failure = result;
        } else {
          for (const Pending& pending : work) {
            const auto& events = pending.batch.events;
            if (!events.empty()) durable_position = events.back().position;
            totals.events += events.size();
          }
          totals.batches += work.size();
          totals.outcomes_expired += expired_in_group;
          if (wrote) ++totals.transactions;
        }
      }
    }
    snapshot_cv.notify_all();

    for (Pending& pending : work) {
      if (!pending.on_durable) continue;
      try {
        pending.on_durable(result);
      } catch (const std::exception& e) {
        log(std::string("event store: an on_durable callback threw: ") + e.what());
      } catch (...) {
        log("event store: an on_durable callback threw");
      }
    }
    work.clear();
  }
  {
    std::lock_guard lock(mutex);
    writer_done = true;
  }
  snapshot_cv.notify_all();
  checkpoint_cv.notify_all();
}

int EventStore::Impl::on_wal_commit(void* self, sqlite3* db, const char* schema, int pages) {
  auto& impl = *static_cast<Impl*>(self);
  if (pages >= impl.writer_checkpoint_pages) {
    // What SQLite's automatic checkpoint would have done; a failure leaves the WAL intact.
    sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  } else if (pages >= impl.checkpoint_pages) {
    {
      std::lock_guard lock(impl.mutex);
      impl.checkpoint_wanted = true;
    }
    impl.checkpoint_cv.notify_one();
  }
  return SQLITE_OK;
}

void EventStore::Impl::checkpoint_loop() {
  for (;;) {
    {
      std::unique_lock lock(mutex);
      checkpoint_cv.wait(lock, [this] { return checkpoint_wanted || writer_done; });
      if (writer_done) return;  // close() checkpoints when the writer's connection closes
      checkpoint_wanted = false;
    }
    // PASSIVE never waits for the writer: commits keep appending to the WAL meanwhile, and the
    // writer restarts the WAL from its start once a checkpoint has caught up.
    const int rc = sqlite3_wal_checkpoint_v2(checkpoint_db->get(), "main",
                                             SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    if (rc == SQLITE_OK) {
      std::lock_guard lock(mutex);
      ++totals.checkpoints;
    } else if (rc != SQLITE_BUSY) {
      // Not fatal: every commit is in the WAL; the writer's own checkpoint bounds its size.
      log(std::string("background checkpoint failed: ") + sqlite3_errmsg(checkpoint_db->get()));
    }
  }
}

void EventStore::Impl::complete_batches(std::vector<Pending>& work) {
  for (Pending& pending : work) {
    if (!pending.batch.complete) continue;
    std::vector<std::int64_t> positions;
    positions.reserve(pending.batch.events.size());
    for (const StoredEvent& event : pending.batch.events) positions.push_back(event.position);
    auto complete = std::move(pending.batch.complete);
    pending.batch.complete = nullptr;
    complete(pending.batch);
    const auto& events = pending.batch.events;
    if (!std::equal(positions.begin(), positions.end(), events.begin(), events.end(),
                    [](std::int64_t p, const StoredEvent& e) { return p == e.position; })) {
      throw std::logic_error("event store: a batch's complete hook changed its positions");
    }
  }
}

bool EventStore::Impl::commit_group(const std::vector<Pending>& work) {
  expired_in_group = 0;
  const bool anything = std::any_of(work.begin(), work.end(), [](const Pending& p) {
    return !p.batch.events.empty() || !p.batch.outcomes.empty() || !p.batch.cursors.empty();
  });
  if (!anything) return false;

  {
    ResetOnExit reset(begin);
    begin.run();
  }
  for (const Pending& pending : work) {
    const auto& events = pending.batch.events;
    for (const StoredEvent& event : events) {
      newest_time = std::max(newest_time, event.time_unix);
      ResetOnExit reset(insert_event);
      insert_event.bind(1, event.position);
      insert_event.bind_text(2, event.aggregate);
      insert_event.bind(3, event.version);
      insert_event.bind_text(4, event.command_id);
      insert_event.bind(5, event.time_unix);
      insert_event.bind_text(6, event.type);
      insert_event.bind_blob(7, event.payload);
      insert_event.run();
    }
    for (const CommandOutcome& outcome : pending.batch.outcomes) {
      ResetOnExit reset(insert_outcome);
      insert_outcome.bind_text(1, outcome.command_id);
      if (events.empty()) {
        insert_outcome.bind_null(2);
      } else {
        insert_outcome.bind(2, events.back().position);
      }
      insert_outcome.bind_blob(3, outcome.outcome);
      insert_outcome.bind(4, outcome.time_unix);
      insert_outcome.run();
      newest_time = std::max(newest_time, outcome.time_unix);
    }
    for (const auto& [name, position] : pending.batch.cursors) {
      // Named: bind_text() does not copy, the strings must outlive run().
      const std::string key = std::string(kCursorPrefix) + name;
      const std::string value = std::to_string(position);
      ResetOnExit reset(upsert_meta);
      upsert_meta.bind_text(1, key);
      upsert_meta.bind_text(2, value);
      upsert_meta.run();
    }
  }
  if (options.outcome_ttl.count() > 0 &&
      newest_time > std::numeric_limits<std::int64_t>::min() + options.outcome_ttl.count()) {
    expire_outcomes(newest_time - options.outcome_ttl.count());
  }
  ResetOnExit reset(commit);
  commit.run();  // the fsync of the WAL happens here
  return true;
}

void EventStore::Impl::expire_outcomes(std::int64_t cutoff) {
  if (oldest_outcome_time && *oldest_outcome_time > cutoff) return;  // the usual case
  std::optional<std::int64_t> last_expired;
  std::optional<std::int64_t> oldest_kept;
  std::int64_t rows = 0;
  {
    ResetOnExit reset(oldest_outcomes);
    oldest_outcomes.bind(1, kExpireBatch);
    // Rows are in commit order, and so (up to a wall clock stepping back) in time order: the
    // expired ones are at the front; stop at the first that is not.
    while (oldest_outcomes.step()) {
      ++rows;
      const std::int64_t time = oldest_outcomes.column_int64(1);
      if (time > cutoff) {
        oldest_kept = time;
        break;
      }
      last_expired = oldest_outcomes.column_int64(0);
    }
  }
  // Unknown if a full batch expired (check again next commit); an empty table has nothing older
  // than what comes next.
  oldest_outcome_time = rows == 0 ? std::optional<std::int64_t>(cutoff) : oldest_kept;
  if (!last_expired) return;
  ResetOnExit reset(delete_outcomes);
  delete_outcomes.bind(1, *last_expired);
  delete_outcomes.run();
  expired_in_group = static_cast<std::uint64_t>(sqlite3_changes(writer_db->get()));
}

void EventStore::Impl::roll_back() noexcept {
  if (writer_db == nullptr || sqlite3_get_autocommit(writer_db->get()) != 0) return;
  try {
    ResetOnExit reset(rollback);
    rollback.run();
  } catch (const std::exception& e) {
    log(std::string("event log rollback failed: ") + e.what());
  }
}

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

template <typename F>
auto EventStore::Impl::with_reader(F&& f) {
  std::lock_guard lock(read_mutex);
  if (reader_db == nullptr) throw std::logic_error("event store: used after close()");
  try {
    return f(*reader_db);
  } catch (const SqliteError& e) {
    throw std::runtime_error("event log " + db_path.string() + ": " + e.what());
  }
}

void EventStore::Impl::close() {
  const auto self = std::this_thread::get_id();
  if (self == writer_id || self == snapshotter_id || self == checkpointer_id) {
    throw std::logic_error("event store: close() called from one of its own threads");
  }
  std::lock_guard close_lock(close_mutex);
  if (closed) return;
  stop_threads();

  // Statements before their connection, so the connection really closes (and checkpoints).
  begin = {};
  commit = {};
  rollback = {};
  insert_event = {};
  insert_outcome = {};
  upsert_meta = {};
  oldest_outcomes = {};
  delete_outcomes = {};
  {
    std::lock_guard lock(read_mutex);
    reader_db.reset();
  }
  checkpoint_db.reset();
  // The last connection: it checkpoints everything and removes the WAL.
  writer_db.reset();
  dir_lock.reset();
  closed = true;
}

std::unique_ptr<EventStore> EventStore::open(const std::filesystem::path& data_dir,
                                             Options options) {
  return std::unique_ptr<EventStore>(
      new EventStore(data_dir, std::move(options), Mode::read_write));
}

std::unique_ptr<EventStore> EventStore::open_read_only(const std::filesystem::path& data_dir,
                                                       Options options) {
  return std::unique_ptr<EventStore>(new EventStore(data_dir, std::move(options), Mode::read_only));
}

EventStore::EventStore(const std::filesystem::path& data_dir, Options options, Mode mode)
    : impl_(std::make_unique<Impl>(data_dir, std::move(options), mode)) {
  if (mode == Mode::read_write) impl_->start_threads();
}

EventStore::~EventStore() {
  try {
    impl_->close();
  } catch (...) {
    // Nothing sensible is left to do with an error while being destroyed.
  }
}

void EventStore::append(Batch batch, DurableCallback on_durable) {
  Impl& s = *impl_;
  if (s.read_only) throw std::logic_error("event store: append() on a read-only store");
  {
    std::lock_guard lock(s.mutex);
    if (s.closing) throw std::logic_error("event store: append() after close()");
    std::int64_t expected = s.next_position;
    for (const StoredEvent& event : batch.events) {
      if (event.position != expected) {
        throw std::logic_error("event store: non-contiguous position " +
                               std::to_string(event.position) + " appended, expected " +
                               std::to_string(expected));
      }
      ++expected;
    }
    s.next_position = expected;
    s.queue.push_back({std::move(batch), std::move(on_durable)});
  }
  s.work_cv.notify_one();
}

void EventStore::write_snapshot(std::int64_t position, std::string bytes, DurableCallback on_done) {
  impl_->queue_snapshot({position, std::move(bytes), std::move(on_done), false});
}

void EventStore::write_snapshot_temp(std::int64_t position, std::string_view payload) const {
  detail::write_snapshot_temp_file(impl_->snapshot_dir, position, payload);
}

void EventStore::adopt_snapshot(std::int64_t position, DurableCallback on_done) {
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

void EventStore::replay(std::int64_t after_position,
                        const std::function<void(const StoredEvent&)>& on_event,
                        std::size_t limit) {
  impl_->with_reader([&](Connection& db) {
    Statement statement = db.prepare(
        "SELECT position, aggregate, version, command_id, time, type, payload FROM events "
        "WHERE position > ? ORDER BY position LIMIT ?");
    statement.bind(1, after_position);
    statement.bind(2,
                   static_cast<std::int64_t>(std::min<std::size_t>(
                       limit, static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max()))));
    StoredEvent event;
    std::int64_t expected = std::max<std::int64_t>(after_position, 0) + 1;
    while (statement.step()) {
      event.position = statement.column_int64(0);
      if (event.position != expected) {
        throw std::runtime_error("event log " + impl_->db_path.string() +
                                 " is damaged: expected position " + std::to_string(expected) +
                                 ", found " + std::to_string(event.position));
      }
      event.aggregate.assign(statement.column_text(1));
      event.version = statement.column_int64(2);
      event.command_id.assign(statement.column_text(3));
      event.time_unix = statement.column_int64(4);
      event.type.assign(statement.column_text(5));
      event.payload.assign(statement.column_blob(6));
      on_event(event);
      ++expected;
    }
  });
}

std::int64_t EventStore::cursor(std::string_view name) {
  return impl_->with_reader([&](Connection& db) -> std::int64_t {
    const std::string key = std::string(kCursorPrefix) + std::string(name);
    Statement statement = db.prepare("SELECT value FROM meta WHERE key = ?");
    statement.bind_text(1, key);
    if (!statement.step()) return 0;
    const std::string text(statement.column_text(0));
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < 0) {
      throw std::runtime_error("event log " + impl_->db_path.string() + ": cursor " +
                               std::string(name) + " is damaged ('" + text + "')");
    }
    return value;
  });
}

const std::string& EventStore::log_id() const { return impl_->log_id; }

std::int64_t EventStore::last_position() {
  return impl_->with_reader([](Connection& db) { return last_position_of(db); });
}

std::optional<std::string> EventStore::find_outcome(std::string_view command_id) {
  return impl_->with_reader([&](Connection& db) -> std::optional<std::string> {
    // A scan (no index, see kSchema); the first outcome of an id is the one that counts.
    Statement statement =
        db.prepare("SELECT outcome FROM commands WHERE command_id = ? ORDER BY rowid LIMIT 1");
    statement.bind_text(1, command_id);
    if (!statement.step()) return std::nullopt;
    return std::string(statement.column_blob(0));
  });
}

void EventStore::for_each_outcome(const std::function<void(const CommandOutcome&)>& on_outcome,
                                  std::size_t limit) {
  impl_->with_reader([&](Connection& db) {
    // rowids grow with every insert (only the oldest rows are ever deleted), so they give the
    // commit order. An id appended twice comes twice; the caller keeps the first (see the header).
    // Without a limit, a plain scan in rowid order: the newest-first subquery would make SQLite
    // sort every row (outcome included) in a temporary B-tree to turn the order around.
    const bool all = limit >= static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
    const char* time = impl_->outcomes_have_time ? "time" : "0";
    const std::string sql =
        all ? std::string("SELECT command_id, outcome, ") + time + " FROM commands ORDER BY rowid"
            : std::string("SELECT command_id, outcome, ") + time +
                  " FROM (SELECT rowid AS r, command_id, outcome, " + time +
                  " FROM commands ORDER BY rowid DESC LIMIT ?) ORDER BY r";
    Statement statement = db.prepare(sql);
    if (!all) statement.bind(1, static_cast<std::int64_t>(limit));
    CommandOutcome outcome;
    while (statement.step()) {
      outcome.command_id.assign(statement.column_text(0));
      outcome.outcome.assign(statement.column_blob(1));
      outcome.time_unix = statement.column_int64(2);
      on_outcome(outcome);
    }
  });
}

void EventStore::backup_to(const std::filesystem::path& file) {
  std::filesystem::path temp = file;
  temp += ".tmp";
  std::error_code ignored;
  std::filesystem::remove(temp, ignored);
  try {
    impl_->with_reader([&](Connection& source) {
      Connection target(temp);
      sqlite3_backup* backup = sqlite3_backup_init(target.get(), "main", source.get(), "main");
      if (backup == nullptr) {
        throw SqliteError(sqlite3_extended_errcode(target.get()), sqlite3_errmsg(target.get()));
      }
      // One step copies every page inside one read transaction: a consistent copy.
      const int rc = sqlite3_backup_step(backup, -1);
      sqlite3_backup_finish(backup);
      if (rc != SQLITE_DONE) {
        throw SqliteError(rc, std::string("backup failed: ") + sqlite3_errstr(rc));
      }
      // A backup should be one self-contained file, not a database expecting a WAL beside it.
      target.query_text("PRAGMA journal_mode=DELETE");
    });
    detail::sync_file(detail::open_file(temp, O_RDONLY), temp);
    std::filesystem::rename(temp, file);
    const std::filesystem::path parent = file.parent_path();
    detail::sync_directory(parent.empty() ? std::filesystem::path(".") : parent);
  } catch (const std::logic_error&) {
    throw;
  } catch (const std::exception& e) {
    std::filesystem::remove(temp, ignored);
    throw std::runtime_error("cannot back up the event log to " + file.string() + ": " + e.what());
  }
}

Counters EventStore::counters() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->totals;
}

std::error_code EventStore::failure() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->failure;
}

void EventStore::close() { impl_->close(); }

}  // namespace roombus::sqlite
