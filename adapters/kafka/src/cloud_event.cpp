// CloudEvents binary mode: the attributes travel as `ce_` headers, the data as the record value.
#include "roombus/kafka/cloud_event.hpp"

#include <variant>

#include "roombus/core/time.hpp"
#include "roombus/json/event_codec.hpp"
#include "roombus/kafka/settings.hpp"

namespace roombus::kafka {

std::string cloud_event_id(std::string_view log_id, std::int64_t position) {
  return std::string(log_id) + "-" + std::to_string(position);
}

std::string cloud_event_type(const core::Event& event) { return "roombus." + event.type() + ".v1"; }

namespace {

constexpr std::string_view kDemandType = "roombus.server.demand.v1";

std::vector<Header> headers(std::string id, const RecordContext& context, std::string_view type,
                            core::Instant time, std::string subject) {
  return {
      {"ce_specversion", "1.0"},
      {"ce_id", std::move(id)},
      {"ce_source", "/roombus/" + context.log_id},
      {"ce_type", std::string(type)},
      {"ce_time", core::format_iso_utc(time)},
      {"ce_subject", std::move(subject)},
      {"content-type", "application/json"},
  };
}

// `suffix`: the forecast's `at` (Unix seconds), or "deleted" for the one tombstone of a server.
Record demand_base(core::ServerId server, core::Instant at, std::string_view suffix,
                   const RecordContext& context) {
  Record record;
  record.topic = context.topic_prefix + std::string(kServerDemand);
  record.key = std::to_string(server);
  record.headers = headers(context.log_id + "-demand-" + record.key + "-" + std::string(suffix),
                           context, kDemandType, at, "server:" + record.key);
  return record;
}

}  // namespace

Record demand_record(const core::Demand& demand, const std::string& json,
                     const RecordContext& context) {
  Record record = demand_base(demand.server_id, demand.at,
                              std::to_string(demand.at.time_since_epoch().count()), context);
  record.value = json;
  return record;
}

Record demand_tombstone(core::ServerId server, core::Instant at, const RecordContext& context) {
  Record record = demand_base(server, at, "deleted", context);
  record.tombstone = true;
  return record;
}

Record to_record(const core::Event& event, const RecordContext& context) {
  Record record;
  if (const auto* room = std::get_if<core::RoomChanged>(&event.change)) {
    record.topic = context.topic_prefix + std::string(kRoomEvents);
    record.key = room->room.uid;
  } else {
    const auto& server = std::get<core::ServerChanged>(event.change);
    record.topic = context.topic_prefix + std::string(kServerEvents);
    record.key = std::to_string(server.server.id);
  }
  record.value = json::encode_public_event(event);
  record.headers = headers(cloud_event_id(context.log_id, event.position), context,
                           cloud_event_type(event), event.time, event.aggregate());
  return record;
}

}  // namespace roombus::kafka
