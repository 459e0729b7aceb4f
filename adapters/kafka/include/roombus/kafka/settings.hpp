// Kafka settings of `roombus serve`: brokers, topic names, and properties passed to librdkafka.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "roombus/kafka/handles.hpp"

namespace roombus::kafka {

using Property = std::pair<std::string, std::string>;

struct Settings {
  std::string brokers;                    // bootstrap.servers; empty: Kafka off
  std::string topic_prefix = "roombus.";  // every topic name starts with it
  std::vector<Property> properties;       // --kafka-config, for real clusters (TLS, SASL, ...)
  int partitions = 3;                     // of topics roombus creates
  int replication_factor = -1;            // of topics roombus creates; -1: the broker's default

  bool enabled() const { return !brokers.empty(); }
  std::string topic(std::string_view name) const { return topic_prefix + std::string(name); }
};

// Topic names, after the prefix.
inline constexpr std::string_view kRoomEvents = "room-events";
inline constexpr std::string_view kServerEvents = "server-events";
inline constexpr std::string_view kServerDemand = "server-demand";  // compacted; derived data

// "key=value" (the key non-empty, the value may be empty); throws std::invalid_argument.
Property parse_property(std::string_view text);

// A librdkafka configuration: bootstrap.servers, then `defaults` (the client's own choices), then
// the operator's properties. Properties that roombus's guarantees rest on (idempotence, acks,
// offsets committed by hand) cannot be overridden. Throws std::invalid_argument with a one-line
// message naming the property that librdkafka or roombus refused. Does not connect.
ConfPtr make_conf(const Settings& settings, std::initializer_list<Property> defaults,
                  std::initializer_list<std::string_view> locked);

// A bootstrap list: comma-separated `[protocol://]host[:port]` entries, the host a name, an IPv4
// address or a bracketed IPv6 one, the port 1-65535. Throws std::invalid_argument.
void validate_brokers(std::string_view brokers);

// Kafka's rules for topic names, applied to the prefix; throws std::invalid_argument.
void validate_topic_prefix(const std::string& prefix);

}  // namespace roombus::kafka
