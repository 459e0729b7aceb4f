// RAII wrappers over the sqlite3 C API: connections and prepared statements; failures throw.
#include "sqlite_db.hpp"

#include <climits>
#include <utility>

#include "roombus/sqlite/event_store.hpp"

namespace roombus::sqlite::detail {

namespace {

int checked_size(std::string_view value) {
  if (value.size() > static_cast<std::size_t>(INT_MAX)) {
    throw SqliteError(SQLITE_TOOBIG,
                      "value of " + std::to_string(value.size()) + " bytes is too big for SQLite");
  }
  return static_cast<int>(value.size());
}

}  // namespace

SqliteError::SqliteError(int code, const std::string& what)
    : std::runtime_error(what), code_(code) {}

std::error_code SqliteError::code() const noexcept { return {code_, sqlite_category()}; }

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db) {
  const int rc = sqlite3_prepare_v3(db, sql.data(), checked_size(sql), SQLITE_PREPARE_PERSISTENT,
                                    &stmt_, nullptr);
  if (rc != SQLITE_OK) {
    throw SqliteError(sqlite3_extended_errcode(db),
                      "cannot prepare \"" + std::string(sql) + "\": " + sqlite3_errmsg(db));
  }
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement::Statement(Statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = std::exchange(other.db_, nullptr);
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

void Statement::fail(int rc) const {
  const char* sql = sqlite3_sql(stmt_);
  // With extended result codes on, rc is already the precise code.
  throw SqliteError(rc, std::string(sqlite3_errmsg(db_)) + " (in \"" + (sql ? sql : "?") + "\")");
}

void Statement::bind(int index, std::int64_t value) {
  if (const int rc = sqlite3_bind_int64(stmt_, index, value); rc != SQLITE_OK) fail(rc);
}

void Statement::bind_text(int index, std::string_view value) {
  // A null destructor means SQLITE_STATIC: no copy, the caller keeps the bytes alive.
  if (const int rc = sqlite3_bind_text(stmt_, index, value.data(), checked_size(value), nullptr);
      rc != SQLITE_OK) {
    fail(rc);
  }
}

void Statement::bind_blob(int index, std::string_view value) {
  // sqlite3_bind_blob binds NULL for a null pointer, which NOT NULL columns reject.
  const char* data = value.data() != nullptr ? value.data() : "";
  if (const int rc = sqlite3_bind_blob(stmt_, index, data, checked_size(value), nullptr);
      rc != SQLITE_OK) {
    fail(rc);
  }
}

void Statement::bind_null(int index) {
  if (const int rc = sqlite3_bind_null(stmt_, index); rc != SQLITE_OK) fail(rc);
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(rc);
}

void Statement::run() {
  while (step()) {
  }
}

void Statement::reset() noexcept {
  if (stmt_ == nullptr) return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::int64_t Statement::column_int64(int index) const { return sqlite3_column_int64(stmt_, index); }

std::string_view Statement::column_text(int index) const {
  const unsigned char* text = sqlite3_column_text(stmt_, index);
  const int size = sqlite3_column_bytes(stmt_, index);
  if (text == nullptr || size <= 0) return {};
  return {reinterpret_cast<const char*>(text), static_cast<std::size_t>(size)};
}

std::string_view Statement::column_blob(int index) const {
  const void* blob = sqlite3_column_blob(stmt_, index);
  const int size = sqlite3_column_bytes(stmt_, index);
  if (blob == nullptr || size <= 0) return {};
  return {static_cast<const char*>(blob), static_cast<std::size_t>(size)};
}

Connection::Connection(const std::filesystem::path& file, Access access) {
  const int flags = access == Access::read_only ? SQLITE_OPEN_READONLY
                                                : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  const int rc = sqlite3_open_v2(file.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string what = "cannot open database " + file.string() + ": " +
                       (db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
    const int code = db_ != nullptr ? sqlite3_extended_errcode(db_) : rc;
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw SqliteError(code, what);
  }
  sqlite3_extended_result_codes(db_, 1);
}

Connection::~Connection() { sqlite3_close_v2(db_); }

void Connection::exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string what =
        std::string(message ? message : sqlite3_errmsg(db_)) + " (in \"" + sql + "\")";
    sqlite3_free(message);
    throw SqliteError(sqlite3_extended_errcode(db_), what);
  }
}

std::string Connection::query_text(const char* sql) {
  Statement statement(db_, sql);
  std::string value;
  if (statement.step()) value = statement.column_text(0);
  statement.run();
  return value;
}

}  // namespace roombus::sqlite::detail
