// Start-up recovery from the event log, and reading the log back for subscriptions.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "roombus/core/service.hpp"
#include "roombus/sqlite/event_store.hpp"
#include "subscription.hpp"

namespace roombus::app {

struct Recovery {
  std::int64_t snapshot_position = 0;
  std::int64_t events_replayed = 0;
  std::int64_t outcomes = 0;
  double seconds = 0;
};

// Rebuilds the service's state from the newest valid snapshot plus the events after it, and its
// remembered outcomes. Throws std::runtime_error when the log itself cannot be decoded.
Recovery recover(sqlite::EventStore& store, core::Service& service,
                 const std::function<void(std::string_view)>& log);

// LogReader on the store's read connection, decoding each payload (JSON) on the caller's thread.
class StoreLogReader final : public LogReader {
 public:
  explicit StoreLogReader(sqlite::EventStore& store) : store_(store) {}
  std::vector<core::Event> read(std::int64_t after, std::size_t max) override;

 private:
  sqlite::EventStore& store_;
};

}  // namespace roombus::app
