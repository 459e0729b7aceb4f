// Reading librdkafka's statistics JSON (statistics.interval.ms): what /readyz and /metrics need.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>

namespace roombus::kafka::detail {

// Brokers the client holds an open connection to (state "UP"), bootstrap entries left out: they
// say nothing about the brokers that lead partitions.
int brokers_up(const rapidjson::Document& stats);

// Per topic partition (no internal "-1" partition): consumer_lag as librdkafka reports it (-1
// while unknown).
std::map<std::pair<std::string, std::int32_t>, std::int64_t> consumer_lag(
    const rapidjson::Document& stats);

}  // namespace roombus::kafka::detail
