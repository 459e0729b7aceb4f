// core::LogReader on the SQLite store's read connection: records decoded on the caller's thread.
#pragma once

#include "roombus/core/log_ports.hpp"
#include "roombus/sqlite/event_store.hpp"

namespace roombus::eventlog {

// Threads: any but the core's once it serves; the store is thread-safe and outlives the reader.
// Reads share the store's one read connection (its lock serialises them).
class StoreReader final : public core::LogReader {
 public:
  explicit StoreReader(sqlite::EventStore& store) : store_(store) {}
  void replay(std::int64_t after, const std::function<void(core::Event&&)>& on_event,
              std::size_t limit = SIZE_MAX) override;
  void for_each_outcome(const std::function<void(core::Outcome&&)>& on_outcome) override;

 private:
  sqlite::EventStore& store_;
};

}  // namespace roombus::eventlog
