// Read-side use cases over the in-memory state: room info, upcoming rooms, a user's servers.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "roombus/core/model.hpp"
#include "roombus/core/result.hpp"
#include "roombus/core/state.hpp"

namespace roombus::core {

struct RoomInfo {
  const Room* room = nullptr;      // may be deleted: callers show that
  const Server* server = nullptr;  // the room's server (possibly a deleted one)
};

// Readable by uid (a 128-bit capability). room_not_found for an unknown uid.
Result<RoomInfo> room_info(const State& state, std::string_view uid);

struct UpcomingRooms {
  ServerId server_id = 0;
  std::vector<const Room*> rooms;
};

// The question getRooms asks: which server, and which window of starts.
struct UpcomingWindow {
  ServerId server_id = 0;
  Instant from{};
  Instant to{};
  bool include_running = false;
};

// v1 getRooms without the answer: the first live server (lowest id) answering to the key and the
// window [now, now + minutes]. The errors of upcoming_rooms().
Result<UpcomingWindow> upcoming_window(const State& state,
                                       const std::optional<std::string>& key_hash, Instant now,
                                       std::string_view minutes, bool include_running);

// The rooms of `window` from candidates another index found (the Redis index, which keeps starts
// only): those in_window() keeps, in rooms_starting()'s order (start, then room number), so an
// answer built from them is the in-memory answer whenever the candidates are complete.
std::vector<const Room*> order_upcoming(std::vector<const Room*> candidates,
                                        const UpcomingWindow& window);

// v1 getRooms: the first live server (lowest id) answering to the key, and its live rooms
// starting in [now, now + minutes]; with include_running also those already under way.
Result<UpcomingRooms> upcoming_rooms(const State& state, const std::optional<std::string>& key_hash,
                                     Instant now, std::string_view minutes, bool include_running);

// The same window for a known server (admin API, Redis rebuild).
std::vector<const Room*> rooms_in_window(const State& state, ServerId server, Instant from,
                                         Instant to, bool include_running);

// v1 serverInfo: live, enabled servers that admit this email (directly or by @domain), by id.
Result<std::vector<const Server*>> servers_for_email(const State& state, std::string_view email);

}  // namespace roombus::core
