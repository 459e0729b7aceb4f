// Commands: what callers ask of the core, as plain structs carrying raw caller input.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "roombus/core/model.hpp"

namespace roombus::core {

// Inputs arrive as text from every adapter (HTTP query/form/JSON, Kafka JSON), so the core, not
// each adapter, decides what is a valid start, duration or email. `std::nullopt` means "not
// given", which some commands treat differently from an empty value.
using Text = std::optional<std::string>;

// --- jitsi-admin v1 room commands, authorised by the presented server API key -------------

struct CreateRoom {
  Text api_key;
  std::string server_url;  // the server as clients name it (its URL), not its id
  std::string email;       // the organiser; must be a member of that server
  Text name;
  Text start;  // missing or empty: now
  Text duration;
};

// Only the given fields change; the end is recomputed from start and duration.
struct UpdateRoom {
  Text api_key;
  std::string uid;
  Text server_url;  // given and different from the current server: the room moves there
  Text name;
  Text start;  // missing or empty: unchanged
  Text duration;
};

struct DeleteRoom {
  Text api_key;
  std::string uid;
};

struct MoveRoom {
  Text api_key;
  std::string uid;
  std::optional<ServerId> target;  // nullopt when the caller gave none or a non-number
};

struct AddParticipant {
  Text api_key;
  std::string uid;
  std::string email;
};

struct RemoveParticipant {
  Text api_key;
  std::string uid;
  std::string email;
};

// v1 server/create: clone the clone-allowed server that answers to the key.
struct CloneServer {
  Text api_key;
  Text url;
  Text name;
  std::string app_id;
  std::string app_secret;
};

// --- operator commands (admin API; authenticated by the adapter with the admin token) -------

struct RegisterServer {
  std::string url;
  std::string name;
  std::string app_id;
  std::string app_secret;
  std::vector<std::string> members;
  bool allow_clone = false;
  Text api_key;  // import an existing jitsi-admin key; otherwise a fresh one is minted
};

struct UpdateServer {
  ServerId id = 0;
  Text url;
  Text name;
  Text app_id;
  Text app_secret;
  std::optional<std::vector<std::string>> members;  // replaces the whole list
  std::optional<bool> allow_clone;
};

struct AddServerMember {
  ServerId id = 0;
  std::string member;
};

struct RemoveServerMember {
  ServerId id = 0;
  std::string member;
};

struct SetServerState {
  ServerId id = 0;
  ServerState state = ServerState::enabled;
};

// Rotates the key of the server and of its live clones that still share it; the new key is
// returned once and only its hash is kept.
struct RotateServerKey {
  ServerId id = 0;
};

// Soft delete; refused while rooms that have not ended are still scheduled on the server.
struct DeleteServer {
  ServerId id = 0;
};

// --- time (the lifecycle scheduler, never a caller) ---------------------------------------

// Emits the lifecycle facts (room.starting, room.started, room.ended) that have fallen due at the
// context's `now`, earliest first, at most `max_events` of them: a backlog (a restart after a long
// stop) is worked off by several Ticks, so no single decision holds the core's thread for long.
struct Tick {
  std::size_t max_events = 2000;
};

using Command =
    std::variant<CreateRoom, UpdateRoom, DeleteRoom, MoveRoom, AddParticipant, RemoveParticipant,
                 CloneServer, RegisterServer, UpdateServer, AddServerMember, RemoveServerMember,
                 SetServerState, RotateServerKey, DeleteServer, Tick>;

// Every input of the command as one text, equal for two commands exactly when they ask the same
// thing (absent and empty differ). It holds the presented API key: callers hash it, together with
// whatever else identifies their request, into the fingerprint Service::submit compares.
std::string canonical_text(const Command& command);

}  // namespace roombus::core
