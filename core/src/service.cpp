// Service: the write path decide -> evolve -> log -> (durable) listeners and reply.
#include "roombus/core/service.hpp"

#include <cassert>
#include <type_traits>
#include <utility>

namespace roombus::core {
namespace {

Result<Decision> replay_outcome(const Outcome& outcome) {
  if (outcome.error) return *outcome.error;
  return Decision{{}, outcome.reply};
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// A fingerprint as remembered: a 64-character lowercase hex digest (what callers hash requests
// to) as a marker byte and its 32 bytes (48 bytes of heap instead of 80); anything else as is.
std::string pack_fingerprint(std::string_view fingerprint) {
  constexpr std::size_t kHexDigits = 64;
  if (fingerprint.size() != kHexDigits) return std::string(fingerprint);
  std::string packed(1 + kHexDigits / 2, '\x01');
  for (std::size_t i = 0; i < kHexDigits; i += 2) {
    const int high = hex_value(fingerprint[i]);
    const int low = hex_value(fingerprint[i + 1]);
    if (high < 0 || low < 0) return std::string(fingerprint);
    packed[1 + i / 2] = static_cast<char>(high * 16 + low);
  }
  return packed;
}

// Fingerprints are compared only when both sides have one (older logs and callers without one).
bool different_request(const std::string& remembered, std::string_view presented) {
  return !remembered.empty() && !presented.empty() && remembered != presented;
}

Error reused() {
  return make_error(Errc::command_id_reused,
                    "this command id was already used for a different request; use a new one");
}

}  // namespace

Service::Service(Ports ports, Options options) : ports_(std::move(ports)), options_(options) {
  assert(ports_.clock && ports_.ids && ports_.hasher && ports_.zone && ports_.log);
  state_.enable_lifecycle(starting_soon_);  // lifecycle
}

std::optional<std::string> Service::hash_key(const Text& key) const {
  if (!key || key->empty()) return std::nullopt;
  return ports_.hasher->hash(*key);
}

void Service::recover(const Event& event) { state_.apply(event); }

void Service::recover(Outcome outcome) {
  const Instant now = ports_.clock->now();
  if (!outcome.at) outcome.at = now;
  if (*outcome.at + options_.outcome_ttl <= now) return;
  remember(outcome, {});
}

void Service::remember(const Outcome& outcome, const std::vector<Event>& events) {
  if (remembered(outcome.command_id) != nullptr) return;  // the first outcome counts
  const Instant expires = outcome.at.value_or(ports_.clock->now()) + options_.outcome_ttl;
  // By reference: the completion still answers duplicates from `outcome`, and copying it whole
  // (id, fingerprint, reply) for the few fields kept below showed in profiles of creates.
  Remembered r;
  if (outcome.error) {
    r.error = std::make_unique<Error>(*outcome.error);
  } else {
    const std::string& uid = outcome.reply.room_uid;
    if (!uid.empty()) {
      // The decision's own events usually carry the room (a create's new number): no lookup.
      const Room* room = nullptr;
      for (const Event& e : events) {
        const auto* changed = std::get_if<RoomChanged>(&e.change);
        if (changed != nullptr && changed->room.uid == uid) room = &changed->room;
      }
      if (room == nullptr) room = state_.room(uid);
      if (room != nullptr) {
        r.room_number = room->number;
      } else {
        r.room_uid = uid;
      }
    }
    r.server_id = outcome.reply.server_id;
  }
  r.fingerprint = pack_fingerprint(outcome.fingerprint);
  outcomes_.push_back({outcome.command_id, expires, std::move(r)});
  outcome_index_.insert(outcomes_.back().command_id,
                        first_outcome_ + static_cast<std::int64_t>(outcomes_.size()) - 1);
}

const Service::Remembered* Service::remembered(std::string_view command_id) const {
  const std::int64_t number =
      outcome_index_.find(command_id, [this](std::int64_t n) -> std::string_view {
        return outcomes_[static_cast<std::size_t>(n - first_outcome_)].command_id;
      });
  return number == 0 ? nullptr
                     : &outcomes_[static_cast<std::size_t>(number - first_outcome_)].outcome;
}

Result<Decision> Service::replay(const Remembered& remembered) const {
  if (remembered.error) return *remembered.error;
  Reply reply;
  if (remembered.room_number != 0) {
    reply.room_uid = state_.room_by_number(remembered.room_number)->uid;
  } else {
    reply.room_uid = remembered.room_uid;
  }
  reply.server_id = remembered.server_id;
  return Decision{{}, std::move(reply)};
}

void Service::end_outcome_recovery() {
  recovering_outcomes_ = false;
  for (Deferred& d : std::exchange(deferred_, {})) {
    submit(d.command_id, d.command, std::move(d.done), Id::chosen, d.fingerprint);
  }
}

void Service::abandon_outcome_recovery(const std::string& why) {
  recovering_outcomes_ = false;
  for (Deferred& d : std::exchange(deferred_, {})) {
    d.done(make_error(Errc::storage_failed, "the remembered outcomes could not be read: " + why));
  }
}

void Service::forget_expired(Instant now) {
  // Outcomes are remembered in the order they were decided, so the expired ones are in front
  // (a wall clock stepping back only delays a few).
  while (!outcomes_.empty() && outcomes_.front().expires <= now) {
    outcome_index_.erase(outcomes_.front().command_id, first_outcome_);
    outcomes_.pop_front();
    ++first_outcome_;
  }
}

void Service::finish(const std::string& command_id, const Result<Decision>& result,
                     const Outcome* remembered) {
  auto waiting = waiting_.find(command_id);
  if (waiting == waiting_.end()) return;
  auto callbacks = std::move(waiting->second.callbacks);
  waiting_.erase(waiting);
  // Only the first copy gets the result itself (a new API key is shown once); duplicates that
  // came while it was in flight get what a later repeat gets.
  for (std::size_t i = 0; i < callbacks.size(); ++i) {
    if (i == 0 || !remembered) {
      callbacks[i](result);
    } else {
      callbacks[i](replay_outcome(*remembered));
    }
  }
}

void Service::submit(const std::string& command_id, const Command& command, Completion done, Id id,
                     std::string_view fingerprint) {
  if (id == Id::chosen && recovering_outcomes_) {
    deferred_.push_back({command_id, command, std::move(done), std::string(fingerprint)});
    return;
  }
  const Instant now = ports_.clock->now();
  forget_expired(now);
  if (id == Id::chosen) {
    if (const Remembered* seen = remembered(command_id)) {
      if (different_request(seen->fingerprint, pack_fingerprint(fingerprint))) {
        done(reused());
      } else {
        done(replay(*seen));
      }
      return;
    }
  }
  if (auto pending = waiting_.find(command_id); pending != waiting_.end()) {
    if (different_request(pending->second.fingerprint, fingerprint)) {
      done(reused());
    } else {
      pending->second.callbacks.push_back(std::move(done));
    }
    return;
  }

  Context ctx;
  ctx.now = now;
  ctx.command_id = command_id;
  ctx.zone = ports_.zone;
  ctx.starting_soon = starting_soon_;  // lifecycle
  ctx.presented_key_hash = std::visit(
      [this](const auto& c) -> std::optional<std::string> {
        // RegisterServer's key is an import, not a credential.
        if constexpr (requires { c.api_key; } &&
                      !std::is_same_v<std::decay_t<decltype(c)>, RegisterServer>) {
          return hash_key(c.api_key);
        } else {
          return std::nullopt;
        }
      },
      command);
  if (const auto* reg = std::get_if<RegisterServer>(&command); reg && reg->api_key) {
    ctx.imported_key_hash = ports_.hasher->hash(*reg->api_key);
  }
  MintNeeds needs = mint_needs(command);
  if (needs.room) {
    ctx.minted.room_uid = ports_.ids->room_uid();
    ctx.minted.jitsi_name = ports_.ids->jitsi_name();
  }
  if (needs.api_key) {
    ctx.minted.api_key = ports_.ids->api_key();
    ctx.minted.api_key_hash = ports_.hasher->hash(ctx.minted.api_key);
  }

  Result<Decision> decided = decide(state_, command, ctx);
  // Only callers who proved a key get their rejections remembered: anyone else could make the
  // service store (and fsync) one outcome per made-up idempotency key.
  bool has_key_field = std::visit(
      [](const auto& c) {
        return requires { c.api_key; }
        &&!std::is_same_v<std::decay_t<decltype(c)>, RegisterServer>;
      },
      command);
  bool authenticated =
      !has_key_field ||
      (ctx.presented_key_hash && !state_.live_servers_by_key_hash(*ctx.presented_key_hash).empty());
  std::shared_ptr<Outcome> outcome;
  if (id == Id::chosen && (decided || authenticated)) {
    outcome = std::make_shared<Outcome>(
        Outcome{command_id, std::nullopt, {}, std::string(fingerprint), now});
    if (decided) {
      outcome->reply = decided->reply;
      outcome->reply.api_key.reset();
    } else {
      outcome->error = decided.error();
    }
  }
  bool has_events = decided && !decided->events.empty();
  if (!has_events && !outcome) {
    // Nothing to make durable: rejections and no-ops of single-use ids answer at once.
    done(decided);
    return;
  }
  if (has_events) {
    for (const auto& event : decided->events) state_.apply(event);
  }
  Waiting& waiting = waiting_[command_id];
  waiting.fingerprint = fingerprint;
  waiting.callbacks.push_back(std::move(done));
  write(command_id, std::move(outcome), std::move(decided));
}

void Service::when_settled(std::function<void()> then) {
  if (in_flight_ == 0) {
    then();
    return;
  }
  when_settled_.push_back(std::move(then));
}

void Service::write(const std::string& command_id, SharedOutcome outcome,
                    Result<Decision> decided) {
  ++in_flight_;
  // Shared, so the log, the listeners and the completion all read the events where they are (a
  // room event carries the whole room: a copy is a dozen allocations).
  auto result = std::make_shared<const Result<Decision>>(std::move(decided));
  static const std::vector<Event> no_events;
  EventBatch events(result, *result ? &(*result)->events : &no_events);
  auto on_durable = [this, command_id, outcome, result,
                     events](const std::optional<std::string>& error) {
    --in_flight_;
    if (error) {
      finish(command_id, make_error(Errc::storage_failed, "the event log failed: " + *error),
             nullptr);
    } else {
      if (outcome) remember(*outcome, *events);  // the first outcome counts
      if (!events->empty()) {
        for (EventListener* listener : ports_.listeners) listener->on_events(events);
      }
      finish(command_id, *result, outcome.get());
    }
    if (in_flight_ == 0 && !when_settled_.empty()) {
      std::vector<std::function<void()>> settled;
      settled.swap(when_settled_);
      for (auto& then : settled) then();
    }
  };
  ports_.log->append(std::move(events), std::move(outcome), std::move(on_durable));
}

}  // namespace roombus::core
