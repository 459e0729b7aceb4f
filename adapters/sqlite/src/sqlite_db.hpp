// RAII wrappers over the sqlite3 C API: connections and prepared statements; failures throw.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace roombus::sqlite::detail {

// Carries the extended result code so the writer thread can turn it into a std::error_code.
class SqliteError : public std::runtime_error {
 public:
  SqliteError(int code, const std::string& what);
  std::error_code code() const noexcept;

 private:
  int code_;
};

class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Text and blobs are bound without a copy: they must stay alive until reset().
  void bind(int index, std::int64_t value);
  void bind_text(int index, std::string_view value);
  void bind_blob(int index, std::string_view value);
  void bind_null(int index);

  // True while a row is available; false when done. Throws SqliteError.
  bool step();
  // Steps a statement that returns no rows.
  void run();
  // Makes the statement reusable and drops its bindings; keeps the compiled plan.
  void reset() noexcept;

  std::int64_t column_int64(int index) const;
  // Valid until the next step() or reset().
  std::string_view column_text(int index) const;
  std::string_view column_blob(int index) const;

 private:
  [[noreturn]] void fail(int rc) const;

  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

// Resets a statement on scope exit, so an exception never leaves it mid-step holding a lock.
class ResetOnExit {
 public:
  explicit ResetOnExit(Statement& statement) : statement_(statement) {}
  ~ResetOnExit() { statement_.reset(); }
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;

 private:
  Statement& statement_;
};

class Connection {
 public:
  enum class Access { read_write, read_only };

  // Opens a connection: read_write creates the file if needed, read_only requires it to exist and
  // never writes the database (SQLite may still create the -wal and -shm files a WAL reader
  // needs). The caller guarantees it is used by one thread at a time, so SQLite's own
  // per-connection mutex is off.
  explicit Connection(const std::filesystem::path& file, Access access = Access::read_write);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  sqlite3* get() const noexcept { return db_; }
  void exec(const char* sql);
  Statement prepare(std::string_view sql) { return Statement(db_, sql); }
  // A single-value query, e.g. a PRAGMA that reports its new setting.
  std::string query_text(const char* sql);

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace roombus::sqlite::detail
