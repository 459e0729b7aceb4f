// The Kafka record of a durable event: CloudEvents 1.0 in binary content mode.
#pragma once

#include <string>
#include <string_view>

#include "roombus/core/demand.hpp"
#include "roombus/core/events.hpp"
#include "roombus/kafka/producer.hpp"

namespace roombus::kafka {

// Where records go and which log they come from.
struct RecordContext {
  std::string topic_prefix = "roombus.";
  // The event log's id (EventStore::log_id()): positions count per log, so ids carry it.
  std::string log_id;
};

// `<log id>-<position>`: the same for every delivery of one event, across restarts, and never
// the same for two events of two logs (a data directory made anew starts again at position 1).
std::string cloud_event_id(std::string_view log_id, std::int64_t position);

// "roombus.room.created.v1", "roombus.server.key_rotated.v1", ...
std::string cloud_event_type(const core::Event& event);

// Topic `<prefix>room-events` keyed by the room's uid, or `<prefix>server-events` keyed by the
// server's id (so each aggregate's events keep their order); headers ce_specversion, ce_id,
// ce_source (/roombus/<log id>), ce_type, ce_time, ce_subject (the aggregate) and content-type;
// the value is the public form of the event (json::encode_public_event: no secrets).
Record to_record(const core::Event& event, const RecordContext& context);

// A server's demand forecast on the compacted `<prefix>server-demand` topic: key = server id,
// ce_type roombus.server.demand.v1, ce_time = the forecast's `at`, ce_subject server:<id>, and
// ce_id `<log id>-demand-<server id>-<at as Unix seconds>` (derived data, not a log position;
// deterministic, and unique as long as a server gets at most one forecast a second). The value
// is `json` (json::encode_demand).
Record demand_record(const core::Demand& demand, const std::string& json,
                     const RecordContext& context);
// The tombstone (null value) that deletes a deleted server's forecast from the compacted topic:
// ce_id `<log id>-demand-<server id>-deleted` (a server is deleted once; a forecast may have
// been published in the same second), ce_time = `at`, the deletion.
Record demand_tombstone(core::ServerId server, core::Instant at, const RecordContext& context);

}  // namespace roombus::kafka
