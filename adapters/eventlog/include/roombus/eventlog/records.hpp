// The mapping between the core's events and outcomes and the store's opaque records (JSON): the
// adapter's, and tests' that write a log directly.
#pragma once

#include "roombus/core/event_ports.hpp"
#include "roombus/core/events.hpp"
#include "roombus/sqlite/event_store.hpp"

namespace roombus::eventlog {

sqlite::StoredEvent to_stored(const core::Event& event);
sqlite::CommandOutcome to_stored(const core::Outcome& outcome);

// Throw std::runtime_error naming the record when it does not decode (or an event's payload
// says another position than its row): a log that cannot be read back must stop recovery.
core::Event decode(const sqlite::StoredEvent& stored);
core::Outcome decode(const sqlite::CommandOutcome& stored);

}  // namespace roombus::eventlog
