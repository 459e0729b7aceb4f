// Stable names of enums, commands and events: they appear in logs, metrics, Kafka and the log.
#include <array>
#include <string>
#include <utility>

#include "roombus/core/commands.hpp"
#include "roombus/core/events.hpp"
#include "roombus/core/model.hpp"
#include "roombus/core/result.hpp"

namespace roombus::core {
namespace {

template <class E, std::size_t N>
std::optional<E> find_name(const std::array<std::pair<E, std::string_view>, N>& table,
                           std::string_view text) {
  for (const auto& [value, name] : table) {
    if (name == text) return value;
  }
  return std::nullopt;
}

template <class E, std::size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& table, E value) {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return "unknown";
}

constexpr std::array<std::pair<ServerState, std::string_view>, 3> kStates{{
    {ServerState::enabled, "enabled"},
    {ServerState::cordoned, "cordoned"},
    {ServerState::disabled, "disabled"},
}};

constexpr std::array<std::pair<RoomChange, std::string_view>, 9> kRoomChanges{{
    {RoomChange::created, "created"},
    {RoomChange::updated, "updated"},
    {RoomChange::deleted, "deleted"},
    {RoomChange::moved, "moved"},
    {RoomChange::participant_added, "participant_added"},
    {RoomChange::participant_removed, "participant_removed"},
    {RoomChange::starting, "starting"},
    {RoomChange::started, "started"},
    {RoomChange::ended, "ended"},
}};

constexpr std::array<std::pair<ServerChange, std::string_view>, 6> kServerChanges{{
    {ServerChange::registered, "registered"},
    {ServerChange::updated, "updated"},
    {ServerChange::deleted, "deleted"},
    {ServerChange::key_rotated, "key_rotated"},
    {ServerChange::state_changed, "state_changed"},
    {ServerChange::cloned, "cloned"},
}};

constexpr std::array<std::pair<Errc, std::string_view>, 18> kErrors{{
    {Errc::invalid_argument, "invalid_argument"},
    {Errc::invalid_email, "invalid_email"},
    {Errc::invalid_duration, "invalid_duration"},
    {Errc::invalid_start, "invalid_start"},
    {Errc::invalid_minutes, "invalid_minutes"},
    {Errc::missing_key, "missing_key"},
    {Errc::access_denied, "access_denied"},
    {Errc::not_a_member, "not_a_member"},
    {Errc::room_not_found, "room_not_found"},
    {Errc::room_deleted, "room_deleted"},
    {Errc::server_not_found, "server_not_found"},
    {Errc::target_not_found, "target_not_found"},
    {Errc::server_unavailable, "server_unavailable"},
    {Errc::not_clonable, "not_clonable"},
    {Errc::not_a_participant, "not_a_participant"},
    {Errc::conflict, "conflict"},
    {Errc::storage_failed, "storage_failed"},
    {Errc::command_id_reused, "command_id_reused"},
}};

}  // namespace

std::string_view to_string(Errc code) { return name_of(kErrors, code); }
std::string_view to_string(ServerState state) { return name_of(kStates, state); }
std::optional<ServerState> server_state_from_string(std::string_view text) {
  return find_name(kStates, text);
}
std::string_view to_string(RoomChange change) { return name_of(kRoomChanges, change); }
std::string_view to_string(ServerChange change) { return name_of(kServerChanges, change); }
std::optional<RoomChange> room_change_from_string(std::string_view text) {
  return find_name(kRoomChanges, text);
}
std::optional<ServerChange> server_change_from_string(std::string_view text) {
  return find_name(kServerChanges, text);
}
bool is_lifecycle(RoomChange change) {
  return change == RoomChange::starting || change == RoomChange::started ||
         change == RoomChange::ended;
}

std::string Event::aggregate() const {
  if (const auto* r = std::get_if<RoomChanged>(&change)) return "room:" + r->room.uid;
  return "server:" + std::to_string(std::get<ServerChanged>(change).server.id);
}

std::string Event::type() const {
  if (const auto* r = std::get_if<RoomChanged>(&change)) {
    return "room." + std::string(to_string(r->change));
  }
  return "server." + std::string(to_string(std::get<ServerChanged>(change).change));
}

}  // namespace roombus::core
