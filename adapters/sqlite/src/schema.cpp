// The log's schema and its migrations, and opening the database: connections, pragmas, log_id.
#include "schema.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "store_impl.hpp"

namespace roombus::sqlite {

namespace {

using detail::Connection;
using detail::last_position_of;
using detail::Statement;

constexpr std::string_view kSchemaVersion = "3";

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

std::string unknown_version(const std::filesystem::path& db_path, const std::string& version) {
  return "event log " + db_path.string() + " has schema version " + version +
         "; this roombus writes version " + std::string(kSchemaVersion) +
         " and reads (and upgrades) versions 1 and 2: run the roombus release that wrote it";
}

void configure(Connection& db, std::chrono::milliseconds busy_timeout) {
  const auto ms = std::clamp<std::chrono::milliseconds::rep>(busy_timeout.count(), 0,
                                                             std::numeric_limits<int>::max());
  sqlite3_busy_timeout(db.get(), static_cast<int>(ms));
}

}  // namespace

namespace detail {

std::int64_t last_position_of(Connection& db) {
  Statement statement = db.prepare("SELECT coalesce(max(position), 0) FROM events");
  statement.step();
  return statement.column_int64(0);
}

}  // namespace detail

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
  set_checkpoint_pages(std::stoll(writer_db->query_text("PRAGMA page_size")));

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

const std::string& EventStore::log_id() const { return impl_->log_id; }

}  // namespace roombus::sqlite
