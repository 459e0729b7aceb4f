// Read-side use cases: answered from the in-memory state, never from storage.
#include "roombus/core/queries.hpp"

#include <algorithm>

#include "roombus/core/decide.hpp"
#include "roombus/core/rules.hpp"

namespace roombus::core {

Result<RoomInfo> room_info(const State& state, std::string_view uid) {
  const Room* room = state.room(uid);
  if (room == nullptr) {
    return make_error(Errc::room_not_found, "no room with uid '" + std::string(uid) + "'");
  }
  return RoomInfo{room, state.server(room->server_id)};
}

Result<UpcomingWindow> upcoming_window(const State& state,
                                       const std::optional<std::string>& key_hash, Instant now,
                                       std::string_view minutes, bool include_running) {
  if (!key_hash || key_hash->empty()) {
    return make_error(Errc::missing_key, "no API key was presented");
  }
  auto servers = state.live_servers_by_key_hash(*key_hash);
  if (servers.empty()) return make_error(Errc::server_not_found, "no server answers to this key");
  auto window = parse_minutes(minutes);
  if (!window) return window.error();
  return UpcomingWindow{servers.front()->id, now, now + std::chrono::minutes{*window},
                        include_running};
}

std::vector<const Room*> order_upcoming(std::vector<const Room*> candidates,
                                        const UpcomingWindow& window) {
  std::erase_if(candidates, [&](const Room* r) {
    return !in_window(*r, window.from, window.to, window.include_running);
  });
  std::sort(candidates.begin(), candidates.end(), [](const Room* a, const Room* b) {
    return a->start != b->start ? a->start < b->start : a->number < b->number;
  });
  return candidates;
}

Result<UpcomingRooms> upcoming_rooms(const State& state, const std::optional<std::string>& key_hash,
                                     Instant now, std::string_view minutes, bool include_running) {
  auto window = upcoming_window(state, key_hash, now, minutes, include_running);
  if (!window) return window.error();
  return UpcomingRooms{window->server_id, state.rooms_starting(window->server_id, window->from,
                                                               window->to, include_running)};
}

std::vector<const Room*> rooms_in_window(const State& state, ServerId server, Instant from,
                                         Instant to, bool include_running) {
  return state.rooms_starting(server, from, to, include_running);
}

Result<std::vector<const Server*>> servers_for_email(const State& state, std::string_view email) {
  if (!is_valid_email(email)) {
    return make_error(Errc::invalid_email, "'" + std::string(email) + "' is not a valid email");
  }
  std::vector<const Server*> out;
  for (const auto& [id, server] : state.servers()) {
    if (!server.deleted && server.state == ServerState::enabled && is_member(server, email)) {
      out.push_back(&server);
    }
  }
  return out;
}

}  // namespace roombus::core
