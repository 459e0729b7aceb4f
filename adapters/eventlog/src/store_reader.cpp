// core::LogReader on the SQLite store's read connection: records decoded on the caller's thread.
#include "roombus/eventlog/store_reader.hpp"

#include "roombus/eventlog/records.hpp"

namespace roombus::eventlog {

void StoreReader::replay(std::int64_t after, const std::function<void(core::Event&&)>& on_event,
                         std::size_t limit) {
  store_.replay(
      after, [&](const sqlite::StoredEvent& stored) { on_event(decode(stored)); }, limit);
}

void StoreReader::for_each_outcome(const std::function<void(core::Outcome&&)>& on_outcome) {
  store_.for_each_outcome(
      [&](const sqlite::CommandOutcome& stored) { on_outcome(decode(stored)); });
}

}  // namespace roombus::eventlog
