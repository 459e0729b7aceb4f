// Application service: runs a command through decide/evolve, the event log and the listeners.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "roombus/core/commands.hpp"
#include "roombus/core/decide.hpp"
#include "roombus/core/event_ports.hpp"
#include "roombus/core/ports.hpp"
#include "roombus/core/result.hpp"
#include "roombus/core/state.hpp"
#include "roombus/core/text_index.hpp"

namespace roombus::core {

struct ServiceOptions {
  // How long the outcome of a chosen command id is remembered, counted from its decision; a
  // repeat after that runs as a new command. (The log forgets it on its own schedule.)
  std::chrono::seconds outcome_ttl = std::chrono::hours(24);
};

// Owns the state. Single-threaded: every call, and every callback it makes, happens on the
// thread that owns the service (the io_context thread).
class Service {
 public:
  // Called once the outcome is final: for a success only after the events are durable.
  using Completion = std::function<void(const Result<Decision>&)>;

  struct Ports {
    const Clock* clock = nullptr;
    IdSource* ids = nullptr;
    const KeyHasher* hasher = nullptr;
    const TimeZone* zone = nullptr;
    EventLog* log = nullptr;
    std::vector<EventListener*> listeners;  // told of events once durable, in position order
  };

  using Options = ServiceOptions;

  explicit Service(Ports ports, Options options = {});

  // Whether the caller chose the command id (and may repeat it) or it was generated for a
  // single use. Only chosen ids are remembered, with their outcome, rejections included.
  enum class Id { chosen, generated };

  // Decide, apply to memory, append to the log; `done` runs once durable. A rejection with a
  // generated id answers at once; with a chosen id it answers once its outcome is durable, unless
  // the caller presented no valid key (then it is not remembered). A chosen id seen before
  // (within outcome_ttl) returns the first outcome and changes nothing; so does one that arrives
  // while the first copy is still in flight, once that is durable. Only the first copy is told a
  // new API key. Callers scope chosen ids to the caller.
  //
  // `fingerprint`: optional, the caller's hash of everything that makes two requests the same
  // (over HTTP: method, path, credential and canonical_text(command)). A chosen id that comes
  // again with a different fingerprint is refused with Errc::command_id_reused instead of getting
  // the first outcome; an empty fingerprint on either side is not compared.
  void submit(const std::string& command_id, const Command& command, Completion done,
              Id id = Id::generated, std::string_view fingerprint = {});

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
  // Start-up: remember an outcome read back from the log, in log order, unless it has expired
  // (one without a time counts as decided now). The first outcome of a command id is the one it
  // answered with, so a later one for the same id is ignored.
  void recover(Outcome outcome);
  std::size_t remembered_outcomes() const { return outcomes_.size(); }
  // Outcomes recovered after start-up, so that readiness need not wait for them (they were
  // most of a restart's time). Between begin_outcome_recovery() and end_outcome_recovery() the
  // outcomes arrive through recover(Outcome) in log order, and every submission with a chosen id
  // waits, in arrival order, until the end: its id may have been used before the restart.
  // Generated ids run at once. abandon_outcome_recovery() answers the waiting ones with
  // Errc::storage_failed instead (the outcomes could not be read: the process stops). All on the
  // core's thread.
  void begin_outcome_recovery() { recovering_outcomes_ = true; }
  void end_outcome_recovery();
  void abandon_outcome_recovery(const std::string& why);
  bool recovering_outcomes() const { return recovering_outcomes_; }
  std::size_t deferred_submissions() const { return deferred_.size(); }

  const State& state() const { return state_; }
  const TimeZone& zone() const { return *ports_.zone; }
  Instant now() const { return ports_.clock->now(); }
  // Hash of a presented key; nullopt for a missing or empty key, which matches nothing.
  std::optional<std::string> hash_key(const Text& key) const;

  std::size_t in_flight() const { return in_flight_; }
  // Runs `then` once nothing is in flight: every command decided so far is durable (or failed)
  // and answered. At once if nothing is. On the service's thread.
  void when_settled(std::function<void()> then);

 private:
  // An outcome as kept in memory until it expires: only what replaying it needs, compactly. One
  // is kept per command with an idempotency key (a day by default): as an Outcome it was half of
  // a created room's memory.
  struct Remembered {
    std::unique_ptr<Error> error;  // a rejection; otherwise the reply below
    std::int64_t room_number = 0;  // the reply's room by number (rooms never leave the state)
    std::string room_uid;          // only when the reply names a room the state does not hold
    std::optional<ServerId> server_id;
    std::string fingerprint;  // packed (service.cpp): a SHA-256 hex digest as its 32 bytes
  };
  struct RememberedEntry {
    std::string command_id;
    Instant expires;
    Remembered outcome;
  };

  struct Deferred {
    std::string command_id;
    Command command;
    Completion done;
    std::string fingerprint;
  };

  struct Waiting {
    std::string fingerprint;            // of the first copy
    std::vector<Completion> callbacks;  // the first copy's, then its duplicates'
  };

  // `remembered`: the outcome duplicates in flight are answered from; null if none is kept.
  void finish(const std::string& command_id, const Result<Decision>& result,
              const Outcome* remembered);
  void write(const std::string& command_id, SharedOutcome outcome, Result<Decision> result);
  // `events`: the decision's (may name the reply's room, saving a lookup), or none.
  void remember(const Outcome& outcome, const std::vector<Event>& events);
  Result<Decision> replay(const Remembered& remembered) const;
  // The remembered outcome of a chosen id, or null.
  const Remembered* remembered(std::string_view command_id) const;
  void forget_expired(Instant now);

  Ports ports_;
  Options options_;
  State state_;
  std::chrono::minutes starting_soon_ = kDefaultStartingSoon;
  std::size_t in_flight_ = 0;
  std::vector<std::function<void()>> when_settled_;
  // Durable outcomes of chosen command ids (rebuilt from the log) in the order they were
  // remembered, which is the order they expire in: expiry pops from the front, so it costs no
  // scan. outcomes_[i] has the sequence number first_outcome_ + i; the index maps an id to it.
  std::deque<RememberedEntry> outcomes_;
  std::int64_t first_outcome_ = 1;
  TextIndex outcome_index_;
  bool recovering_outcomes_ = false;
  std::vector<Deferred> deferred_;  // chosen ids that came while outcomes were recovered
  // Duplicates that arrived while the first copy was still waiting for durability.
  std::unordered_map<std::string, Waiting> waiting_;
};

}  // namespace roombus::core
