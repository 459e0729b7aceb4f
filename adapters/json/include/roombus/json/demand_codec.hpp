// Demand codec: a server's demand forecast as the JSON on the server-demand topic and the admin
// API.
#pragma once

#include <string>

#include "roombus/core/demand.hpp"

namespace roombus::json {

// {"server_id":1,"at":"2021-02-02T12:02:30Z","bucket_minutes":5,
//  "buckets":[{"start":"2021-02-02T12:00:00Z","rooms":2,"participants":7},...]}
// Times are ISO-8601 UTC to the second, buckets in time order.
std::string encode_demand(const core::Demand& demand);

}  // namespace roombus::json
