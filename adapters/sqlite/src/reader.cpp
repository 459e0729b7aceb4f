// The reads, on their own connection: replay, cursors, outcomes, the last position, backups.
#include <fcntl.h>

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include "posix_file.hpp"
#include "schema.hpp"
#include "store_impl.hpp"

namespace roombus::sqlite {

namespace {

using detail::Connection;
using detail::kCursorPrefix;
using detail::last_position_of;
using detail::SqliteError;
using detail::Statement;

}  // namespace

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

std::int64_t EventStore::last_position() {
  return impl_->with_reader([](Connection& db) { return last_position_of(db); });
}

std::optional<std::string> EventStore::find_outcome(std::string_view command_id) {
  return impl_->with_reader([&](Connection& db) -> std::optional<std::string> {
    // A scan (no index, see kSchema in schema.cpp); the first outcome of an id is the one that
    // counts.
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

}  // namespace roombus::sqlite
