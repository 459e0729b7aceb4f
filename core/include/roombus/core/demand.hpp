// Demand forecasts: a server's expected load over the coming minutes, read from the schedule.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "roombus/core/model.hpp"
#include "roombus/core/state.hpp"
#include "roombus/core/time.hpp"

namespace roombus::core {

inline constexpr std::chrono::minutes kDemandBucket{5};
inline constexpr std::chrono::minutes kDefaultDemandHorizon{120};

struct DemandBucket {
  Instant start{};
  std::int64_t rooms = 0;         // live rooms running at some moment of the bucket
  std::int64_t participants = 0;  // their expected participants (expected_participants)
  friend bool operator==(const DemandBucket&, const DemandBucket&) = default;
};

struct Demand {
  ServerId server_id = 0;
  Instant at{};  // when it was computed
  std::chrono::minutes bucket = kDemandBucket;
  std::vector<DemandBucket> buckets;
  // The same load whenever it was computed (ignores `at`): what a consumer would see change.
  bool same_load(const Demand& other) const {
    return server_id == other.server_id && bucket == other.bucket && buckets == other.buckets;
  }
};

// The people a room expects: its participants, which include the moderator (the organiser is
// the first participant), plus the moderator if they were removed from the list; the moderator
// counts once, emails compared case-insensitively.
std::int64_t expected_participants(const Room& room);

// The forecast of `server` at `at`: ceil(horizon / 5 min) buckets of 5 minutes aligned to the
// clock (:00, :05, ...), the first being the one `at` lies in. A room runs in [start, end) (a room
// of 0 minutes in its start's second) and counts in every bucket it overlaps. Deleted rooms
// count nowhere; a deleted or unknown server has empty buckets. Pure; O(rooms in the window).
Demand forecast_demand(const State& state, ServerId server, Instant at,
                       std::chrono::minutes horizon);

}  // namespace roombus::core
