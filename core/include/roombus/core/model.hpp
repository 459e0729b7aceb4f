// Domain model: Jitsi servers and the rooms scheduled on them, as plain value types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "roombus/core/time.hpp"

namespace roombus::core {

using ServerId = std::int64_t;

// enabled: takes rooms. cordoned: keeps its rooms, takes no new or moved-in ones (draining).
// disabled: out of service; takes nothing and cannot be cloned.
enum class ServerState { enabled, cordoned, disabled };

std::string_view to_string(ServerState state);
std::optional<ServerState> server_state_from_string(std::string_view text);

struct Server {
  ServerId id = 0;
  std::string url;  // host name as clients name it, e.g. "meet.example.com"
  std::string name;
  std::string app_id;
  std::string app_secret;
  std::string api_key_hash;          // never the key itself
  std::vector<std::string> members;  // lowercase emails, or "@domain" rules
  bool allow_clone = false;
  ServerState state = ServerState::enabled;
  std::optional<ServerId> prototype_id;  // set on clones
  bool deleted = false;
  std::int64_t version = 0;

  friend bool operator==(const Server&, const Server&) = default;
};

struct Room {
  std::string uid;          // public id: 32 lowercase hex
  std::int64_t number = 0;  // small numeric id in creation order (jitsi-admin's join links)
  std::string jitsi_name;   // the conference name on the Jitsi server
  std::string name;
  Instant start{};
  std::int64_t duration_minutes = 0;
  Instant end{};
  std::string moderator;                  // organiser's email as given
  std::vector<std::string> participants;  // emails as given, unique case-insensitively
  ServerId server_id = 0;
  bool deleted = false;
  std::int64_t version = 0;

  friend bool operator==(const Room&, const Room&) = default;
};

}  // namespace roombus::core
