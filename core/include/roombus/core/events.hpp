// Events: state-carried records of what changed, each with the full aggregate snapshot.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "roombus/core/model.hpp"
#include "roombus/core/time.hpp"

namespace roombus::core {

enum class RoomChange { created, updated, deleted, moved, participant_added, participant_removed };
enum class ServerChange { registered, updated, deleted, key_rotated, state_changed, cloned };

std::string_view to_string(RoomChange change);
std::string_view to_string(ServerChange change);
std::optional<RoomChange> room_change_from_string(std::string_view text);
std::optional<ServerChange> server_change_from_string(std::string_view text);

struct RoomChanged {
  RoomChange change = RoomChange::created;
  Room room;                                // snapshot after the change
  std::optional<ServerId> previous_server;  // set when the room changed server
  std::string participant;                  // the email added or removed
  std::vector<std::string> fields;          // for `updated`: which fields changed
  friend bool operator==(const RoomChanged&, const RoomChanged&) = default;
};

struct ServerChanged {
  ServerChange change = ServerChange::registered;
  Server server;  // snapshot after the change
  friend bool operator==(const ServerChanged&, const ServerChanged&) = default;
};

struct Event {
  std::int64_t position = 0;  // global, contiguous, from 1
  std::int64_t version = 0;   // of the aggregate, from 1
  std::string command_id;
  Instant time{};
  std::variant<RoomChanged, ServerChanged> change;

  // "room:<uid>" or "server:<id>": the aggregate this event belongs to.
  std::string aggregate() const;
  // "room.created", "server.key_rotated", ...
  std::string type() const;
  friend bool operator==(const Event&, const Event&) = default;
};

}  // namespace roombus::core
