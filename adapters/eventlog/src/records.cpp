// The mapping between the core's events and outcomes and the store's opaque records (JSON).
#include "roombus/eventlog/records.hpp"

#include <stdexcept>
#include <string>
#include <utility>

#include "roombus/json/event_codec.hpp"
#include "roombus/json/outcome_codec.hpp"

namespace roombus::eventlog {

sqlite::StoredEvent to_stored(const core::Event& event) {
  sqlite::StoredEvent s;
  s.position = event.position;
  s.aggregate = event.aggregate();
  s.version = event.version;
  s.command_id = event.command_id;
  s.time_unix = event.time.time_since_epoch().count();
  s.type = event.type();
  s.payload = json::encode_event_payload(event);
  return s;
}

sqlite::CommandOutcome to_stored(const core::Outcome& outcome) {
  const auto at = outcome.at.value_or(core::Instant{});
  return {outcome.command_id, json::encode_outcome(outcome), at.time_since_epoch().count()};
}

core::Event decode(const sqlite::StoredEvent& stored) {
  auto event = json::decode_event_payload(stored.payload);
  if (!event || event->position != stored.position) {
    throw std::runtime_error("event " + std::to_string(stored.position) +
                             " in the log cannot be decoded: " +
                             (event ? std::string("position mismatch") : event.error().text));
  }
  return std::move(event).value();
}

core::Outcome decode(const sqlite::CommandOutcome& stored) {
  auto outcome = json::decode_outcome(stored.command_id, stored.outcome);
  if (!outcome) {
    throw std::runtime_error("outcome of command " + stored.command_id +
                             " cannot be decoded: " + outcome.error().text);
  }
  return std::move(outcome).value();
}

}  // namespace roombus::eventlog
