// Error codes: StoreErrc's and SQLite's categories, and the code a caught exception becomes.
#include <exception>
#include <new>
#include <string>
#include <system_error>

#include "roombus/sqlite/event_store.hpp"
#include "sqlite_db.hpp"
#include "store_impl.hpp"

namespace roombus::sqlite {

namespace {

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

class SqliteCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "sqlite"; }
  std::string message(int code) const override { return sqlite3_errstr(code); }
};

}  // namespace

const std::error_category& store_category() noexcept {
  static const StoreCategory category;
  return category;
}

const std::error_category& sqlite_category() noexcept {
  static const SqliteCategory category;
  return category;
}

std::error_code make_error_code(StoreErrc e) noexcept {
  return {static_cast<int>(e), store_category()};
}

namespace detail {

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

}  // namespace detail

}  // namespace roombus::sqlite
