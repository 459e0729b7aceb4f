// Service: the write path decide -> evolve -> log -> (durable) listeners and reply.
#include "roombus/core/service.hpp"

#include <cassert>
#include <type_traits>
#include <utility>

namespace roombus::core {

Service::Service(Ports ports) : ports_(std::move(ports)) {
  assert(ports_.clock && ports_.ids && ports_.hasher && ports_.zone && ports_.log);
}

std::optional<std::string> Service::hash_key(const Text& key) const {
  if (!key || key->empty()) return std::nullopt;
  return ports_.hasher->hash(*key);
}

void Service::remember(const Event& event) {
  Reply& reply = completed_[event.command_id];
  if (const auto* r = std::get_if<RoomChanged>(&event.change)) {
    reply.room_uid = r->room.uid;
    if (!reply.server_id) reply.server_id = r->room.server_id;
  } else if (!reply.server_id) {
    reply.server_id = std::get<ServerChanged>(event.change).server.id;
  }
}

void Service::recover(const Event& event) {
  state_.apply(event);
  remember(event);
}

void Service::finish(const std::string& command_id, const Result<Decision>& outcome) {
  auto waiting = waiting_.find(command_id);
  if (waiting == waiting_.end()) return;
  auto callbacks = std::move(waiting->second);
  waiting_.erase(waiting);
  for (auto& done : callbacks) done(outcome);
}

void Service::submit(const std::string& command_id, const Command& command, Done done) {
  if (auto seen = completed_.find(command_id); seen != completed_.end()) {
    done(Decision{{}, seen->second});
    return;
  }
  if (auto pending = waiting_.find(command_id); pending != waiting_.end()) {
    pending->second.push_back(std::move(done));
    return;
  }

  Context ctx;
  ctx.now = ports_.clock->now();
  ctx.command_id = command_id;
  ctx.zone = ports_.zone;
  ctx.presented_key_hash = std::visit(
      [this](const auto& c) -> std::optional<std::string> {
        if constexpr (requires { c.api_key; }) {
          if constexpr (std::is_same_v<std::decay_t<decltype(c)>, RegisterServer>) {
            return std::nullopt;  // RegisterServer's key is an import, not a credential
          } else {
            return hash_key(c.api_key);
          }
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
  if (!decided || decided->events.empty()) {
    // Rejections and no-ops touch nothing durable, so they answer at once.
    done(decided);
    return;
  }
  for (const auto& event : decided->events) state_.apply(event);

  waiting_[command_id].push_back(std::move(done));
  ++in_flight_;
  auto events = decided->events;
  auto on_durable = [this, command_id, decision = std::move(decided).value()](
                        const std::optional<std::string>& error) {
    --in_flight_;
    if (error) {
      finish(command_id, make_error(Errc::storage_failed, "the event log failed: " + *error));
      return;
    }
    for (const auto& event : decision.events) remember(event);
    for (EventListener* listener : ports_.listeners) listener->on_events(decision.events);
    finish(command_id, decision);
  };
  ports_.log->append(events, std::move(on_durable));
}

}  // namespace roombus::core
