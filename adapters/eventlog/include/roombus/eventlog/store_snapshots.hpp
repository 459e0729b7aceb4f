// core::SnapshotStore on the SQLite store's snapshot files: the binary snapshot codec inside.
#pragma once

#include "roombus/core/log_ports.hpp"
#include "roombus/sqlite/event_store.hpp"

namespace roombus::eventlog {

// Threads: load_latest() at start-up; write_unpublished() in the snapshotter's forked child (the
// store's part takes no lock); publish() anywhere, its completion on the store's snapshot
// thread. The store outlives this object.
class StoreSnapshots final : public core::SnapshotStore {
 public:
  explicit StoreSnapshots(sqlite::EventStore& store) : store_(store) {}
  std::optional<core::LoadedSnapshot> load_latest() override;
  void write_unpublished(std::int64_t position, const core::State& state) const override;
  void publish(std::int64_t position, Completion on_done) override;

 private:
  sqlite::EventStore& store_;
};

}  // namespace roombus::eventlog
