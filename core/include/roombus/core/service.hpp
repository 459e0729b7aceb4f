// Application service: runs a command through decide/evolve, the event log and the listeners.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "roombus/core/commands.hpp"
#include "roombus/core/decide.hpp"
#include "roombus/core/event_ports.hpp"
#include "roombus/core/ports.hpp"
#include "roombus/core/result.hpp"
#include "roombus/core/state.hpp"

namespace roombus::core {

// Owns the state. Single-threaded: every call, and every callback it makes, happens on the
// thread that owns the service (the io_context thread).
class Service {
 public:
  // Called once the outcome is final: for a success only after the events are durable.
  using Done = std::function<void(const Result<Decision>&)>;

  struct Ports {
    const Clock* clock = nullptr;
    IdSource* ids = nullptr;
    const KeyHasher* hasher = nullptr;
    const TimeZone* zone = nullptr;
    EventLog* log = nullptr;
    std::vector<EventListener*> listeners;  // told of events once durable, in position order
  };

  explicit Service(Ports ports);

  // Whether the caller chose the command id (and may repeat it) or it was generated for a
  // single use. Only chosen ids are remembered, with their outcome, rejections included.
  enum class Id { chosen, generated };

  // Decide, apply to memory, append to the log; `done` runs once durable. A rejection with a
  // generated id answers at once; with a chosen id it answers once its outcome is durable, unless
  // the caller presented no valid key (then it is not remembered). A chosen id seen before
  // returns the first outcome and changes nothing. Callers scope chosen ids to the caller.
  void submit(const std::string& command_id, const Command& command, Done done,
              Id id = Id::generated);

  // Start-up: listeners that can only be built once the state is recovered.
  void add_listener(EventListener* listener) { ports_.listeners.push_back(listener); }
  // Start-up: begin from a snapshot's state, before the events after it are recovered.
  void restore(State state) {
    state_ = std::move(state);
    state_.enable_lifecycle(starting_soon_);
  }
  // Lifecycle: room.starting falls due `lead` before a room's start (default 10 minutes). Sets
  // the decisions' lead and rebuilds the state's due index with it.
  void set_starting_soon(std::chrono::minutes lead) {
    if (lead == starting_soon_ && state_.lifecycle_enabled()) return;  // built with it already
    starting_soon_ = lead;
    state_.enable_lifecycle(lead);
  }
  std::chrono::minutes starting_soon() const { return starting_soon_; }
  // Start-up: apply an event read back from the log (no log append, no listeners).
  void recover(const Event& event);
  // Start-up: remember an outcome read back from the log, in log order. The first outcome of a
  // command id is the one it answered with, so a later one for the same id is ignored.
  void recover(Outcome outcome);
  std::size_t remembered_outcomes() const { return outcomes_.size(); }

  const State& state() const { return state_; }
  const TimeZone& zone() const { return *ports_.zone; }
  Instant now() const { return ports_.clock->now(); }
  // Hash of a presented key; nullopt for a missing or empty key, which matches nothing.
  std::optional<std::string> hash_key(const Text& key) const;

  std::size_t in_flight() const { return in_flight_; }

 private:
  void finish(const std::string& command_id, const Result<Decision>& outcome);
  void write(const std::string& command_id, std::optional<Outcome> outcome,
             Result<Decision> result);

  Ports ports_;
  State state_;
  std::chrono::minutes starting_soon_ = kDefaultStartingSoon;
  std::size_t in_flight_ = 0;
  // Durable outcomes of chosen command ids (rebuilt from the log).
  std::unordered_map<std::string, Outcome> outcomes_;
  // Duplicates that arrived while the first copy was still waiting for durability.
  std::unordered_map<std::string, std::vector<Done>> waiting_;
};

}  // namespace roombus::core
