// The pure decision function: (state, command, context) -> events, or a domain error.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "roombus/core/commands.hpp"
#include "roombus/core/events.hpp"
#include "roombus/core/lifecycle.hpp"
#include "roombus/core/ports.hpp"
#include "roombus/core/result.hpp"
#include "roombus/core/state.hpp"

namespace roombus::core {

// Fresh values drawn by the caller before deciding, so that decide() itself stays pure.
struct Minted {
  std::string room_uid;
  std::string jitsi_name;
  std::string api_key;       // plaintext, returned once in the Reply
  std::string api_key_hash;  // what the state keeps
};

struct Context {
  Instant now{};
  std::string command_id;
  // Hash of the presented API key; nullopt when no (or an empty) key was presented, which
  // never matches anything.
  std::optional<std::string> presented_key_hash;
  // Hash of RegisterServer's imported key, when one was given.
  std::optional<std::string> imported_key_hash;
  Minted minted;
  const TimeZone* zone = nullptr;  // must be set; interprets wall-clock starts
  // room.starting falls due this long before a room's start (--starting-soon-minutes). Must be
  // the lead the state's due index was built with (State::enable_lifecycle); Service keeps both.
  std::chrono::minutes starting_soon = kDefaultStartingSoon;
};

// What the caller answers besides "ok": ids it created, and a new API key (shown once).
struct Reply {
  std::string room_uid;
  std::optional<ServerId> server_id;
  std::optional<std::string> api_key;
};

struct Decision {
  std::vector<Event> events;  // enveloped, positioned after state.position()
  Reply reply;
};

// Pure: reads state, never changes it. Apply the events with evolve() to make them true.
Result<Decision> decide(const State& state, const Command& command, const Context& context);

// Which fresh values a command needs, so callers draw from the CSPRNG only when necessary.
struct MintNeeds {
  bool room = false;
  bool api_key = false;
};
MintNeeds mint_needs(const Command& command);

// Compares two key hashes without an early exit on the first differing byte.
bool same_key_hash(std::string_view a, std::string_view b);

}  // namespace roombus::core
