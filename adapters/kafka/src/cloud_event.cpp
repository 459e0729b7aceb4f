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
  record.headers = {
      {"ce_specversion", "1.0"},
      {"ce_id", cloud_event_id(context.log_id, event.position)},
      {"ce_source", "/roombus/" + context.log_id},
      {"ce_type", cloud_event_type(event)},
      {"ce_time", core::format_iso_utc(event.time)},
      {"ce_subject", event.aggregate()},
      {"content-type", "application/json"},
  };
  return record;
}

}  // namespace roombus::kafka
