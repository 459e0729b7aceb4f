// Demand forecasts from the per-server schedule index.
#include "roombus/core/demand.hpp"

#include <algorithm>

#include "roombus/core/rules.hpp"

namespace roombus::core {

std::int64_t expected_participants(const Room& room) {
  const std::string moderator = lowercase(room.moderator);
  const bool listed = std::any_of(room.participants.begin(), room.participants.end(),
                                  [&](const std::string& p) { return lowercase(p) == moderator; });
  return static_cast<std::int64_t>(room.participants.size()) + (listed ? 0 : 1);
}

Demand forecast_demand(const State& state, ServerId server, Instant at,
                       std::chrono::minutes horizon) {
  using std::chrono::seconds;
  Demand demand;
  demand.server_id = server;
  demand.at = at;
  const seconds width = kDemandBucket;
  const auto since_epoch = at.time_since_epoch();
  // Floor to the bucket, also for instants before 1970.
  auto offset = since_epoch % width;
  if (offset < seconds::zero()) offset += width;
  const Instant first = at - offset;
  const auto count =
      static_cast<std::size_t>((horizon + kDemandBucket - std::chrono::minutes{1}) / kDemandBucket);
  demand.buckets.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    demand.buckets[i].start = first + width * static_cast<std::int64_t>(i);
  }
  if (count == 0) return demand;
  const Instant last_moment = first + width * static_cast<std::int64_t>(count) - seconds{1};
  for (const Room* room : state.rooms_starting(server, first, last_moment, true)) {
    // [start, end), at least one second long.
    const Instant stop = std::max(room->end, room->start + seconds{1});
    if (stop <= first) continue;
    const auto from = room->start <= first ? 0 : (room->start - first) / width;
    const auto to = std::min<std::int64_t>((stop - seconds{1} - first) / width,
                                           static_cast<std::int64_t>(count) - 1);
    const std::int64_t people = expected_participants(*room);
    for (auto i = from; i <= to; ++i) {
      DemandBucket& b = demand.buckets[static_cast<std::size_t>(i)];
      ++b.rooms;
      b.participants += people;
    }
  }
  return demand;
}

}  // namespace roombus::core
