// Recovery (snapshot + later events + remembered outcomes) and the subscriptions' log reader.
#include "recovery.hpp"

#include <chrono>
#include <stdexcept>
#include <string>

#include "roombus/json/event_codec.hpp"
#include "roombus/json/outcome_codec.hpp"
#include "roombus/json/snapshot_codec.hpp"

namespace roombus::app {
namespace {

core::Event decode(const sqlite::StoredEvent& stored) {
  auto event = json::decode_event_payload(stored.payload);
  if (!event || event->position != stored.position) {
    throw std::runtime_error("event " + std::to_string(stored.position) +
                             " in the log cannot be decoded: " +
                             (event ? std::string("position mismatch") : event.error().text));
  }
  return std::move(event).value();
}

}  // namespace

Recovery recover(sqlite::EventStore& store, core::Service& service,
                 const std::function<void(std::string_view)>& log) {
  auto started = std::chrono::steady_clock::now();
  Recovery r;
  if (auto snap = store.load_latest_snapshot()) {
    auto state = json::decode_snapshot(snap->bytes);
    if (state && state->position() == snap->position) {
      service.restore(std::move(state).value());
      r.snapshot_position = snap->position;
    } else {
      log("ignoring snapshot at position " + std::to_string(snap->position) +
          ": it does not decode; replaying the whole log");
    }
  }
  store.replay(r.snapshot_position, [&](const sqlite::StoredEvent& stored) {
    service.recover(decode(stored));
    ++r.events_replayed;
  });
  store.for_each_outcome([&](const sqlite::CommandOutcome& stored) {
    auto outcome = json::decode_outcome(stored.command_id, stored.outcome);
    if (!outcome) {
      throw std::runtime_error("outcome of command " + stored.command_id +
                               " cannot be decoded: " + outcome.error().text);
    }
    service.recover(std::move(outcome).value());
    ++r.outcomes;
  });
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return r;
}

std::vector<core::Event> StoreLogReader::read(std::int64_t after, std::size_t max) {
  std::vector<core::Event> events;
  events.reserve(std::min<std::size_t>(max, 4096));
  store_.replay(
      after, [&](const sqlite::StoredEvent& stored) { events.push_back(decode(stored)); }, max);
  return events;
}

}  // namespace roombus::app
