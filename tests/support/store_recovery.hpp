// Recovery from a real SQLite store, as `roombus serve` wires it: the services over the eventlog
// adapter's reader and snapshots.
#pragma once

#include <cstdint>
#include <string_view>

#include "roombus/core/service.hpp"
#include "roombus/eventlog/store_reader.hpp"
#include "roombus/eventlog/store_snapshots.hpp"
#include "roombus/services/recovery.hpp"
#include "roombus/sqlite/event_store.hpp"

namespace roombus::testing {

inline services::Recovery recover_from(sqlite::EventStore& store, core::Service& service,
                                       const services::LogFunction& log = {}) {
  eventlog::StoreReader reader(store);
  eventlog::StoreSnapshots snapshots(store);
  return services::recover(reader, snapshots, service,
                           log ? log : services::LogFunction([](std::string_view) {}));
}

inline std::int64_t recover_outcomes_from(sqlite::EventStore& store, core::Service& service) {
  eventlog::StoreReader reader(store);
  return services::recover_outcomes(reader, service);
}

}  // namespace roombus::testing
