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

// starting, started and ended are lifecycle facts: decided from the schedule and the clock (see
// lifecycle.hpp), not asked for by a caller.
enum class RoomChange {
  created,
  updated,
  deleted,
  moved,
  participant_added,
  participant_removed,
  starting,
  started,
  ended
};
enum class ServerChange { registered, updated, deleted, key_rotated, state_changed, cloned };

std::string_view to_string(RoomChange change);
std::string_view to_string(ServerChange change);
std::optional<RoomChange> room_change_from_string(std::string_view text);
std::optional<ServerChange> server_change_from_string(std::string_view text);
// starting, started or ended.
bool is_lifecycle(RoomChange change);

struct RoomChanged {
  RoomChange change = RoomChange::created;
  Room room;                                // snapshot after the change
  std::optional<ServerId> previous_server;  // set when the room changed server
  std::string participant;                  // the email added or removed
  std::vector<std::string> fields;          // for `updated`: which fields changed
  // Lifecycle facts only: the instant the fact fell due, and how many seconds after it the
  // event was decided (0 when on time).
  std::optional<Instant> due;
  std::int64_t late_seconds = 0;
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
