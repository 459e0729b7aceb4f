// Event codec: writes events with rapidjson::Writer and reads them back strictly from a DOM.
#include "roombus/json/event_codec.hpp"

#include <rapidjson/memorystream.h>

#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "codec_support.hpp"

namespace roombus::json {
namespace {

using detail::Audience;
using detail::JsonWriter;
using detail::ObjectReader;

void write_room(JsonWriter& w, const core::Room& room, Audience audience) {
  w.StartObject();
  w.Key("uid");
  detail::write_string(w, room.uid, audience);
  w.Key("number");
  w.Int64(room.number);
  w.Key("jitsi_name");
  detail::write_string(w, room.jitsi_name, audience);
  w.Key("name");
  detail::write_string(w, room.name, audience);
  w.Key("start");
  detail::write_instant(w, room.start);
  w.Key("duration_minutes");
  w.Int64(room.duration_minutes);
  w.Key("end");
  detail::write_instant(w, room.end);
  w.Key("moderator");
  detail::write_string(w, room.moderator, audience);
  w.Key("participants");
  detail::write_strings(w, room.participants, audience);
  w.Key("server_id");
  w.Int64(room.server_id);
  w.Key("deleted");
  w.Bool(room.deleted);
  w.Key("version");
  w.Int64(room.version);
  w.EndObject();
}

std::string encode(const core::Event& event, Audience audience) {
  rapidjson::StringBuffer out(nullptr, 1024);
  JsonWriter w(out);
  w.StartObject();
  w.Key("type");
  detail::write_string(w, event.type());
  w.Key("position");
  w.Int64(event.position);
  w.Key("version");
  w.Int64(event.version);
  w.Key("command_id");
  detail::write_string(w, event.command_id, audience);
  w.Key("time");
  detail::write_instant(w, event.time);
  if (const auto* r = std::get_if<core::RoomChanged>(&event.change)) {
    w.Key("room");
    write_room(w, r->room, audience);
    if (r->previous_server) {
      w.Key("previous_server_id");
      w.Int64(*r->previous_server);
    }
    if (!r->participant.empty()) {
      w.Key("participant");
      detail::write_string(w, r->participant, audience);
    }
    if (!r->fields.empty()) {
      w.Key("fields");
      detail::write_strings(w, r->fields, audience);
    }
    if (core::is_lifecycle(r->change)) {
      w.Key("due");
      detail::write_instant(w, r->due.value_or(event.time));
      w.Key("late_seconds");
      w.Int64(r->late_seconds);
    }
  } else {
    w.Key("server");
    detail::write_server(w, std::get<core::ServerChanged>(event.change).server, audience);
  }
  w.EndObject();
  return std::string(out.GetString(), out.GetSize());
}

bool read_room(const rapidjson::Value& v, core::Room& out, std::string& error) {
  ObjectReader r(v, "room", error);
  return r.ok() && r.string("uid", out.uid) && r.integer("number", out.number) &&
         r.string("jitsi_name", out.jitsi_name) && r.string("name", out.name) &&
         r.iso_instant("start", out.start) && r.integer("duration_minutes", out.duration_minutes) &&
         r.iso_instant("end", out.end) && r.string("moderator", out.moderator) &&
         r.strings("participants", out.participants) && r.integer("server_id", out.server_id) &&
         r.boolean("deleted", out.deleted) && r.integer("version", out.version) && r.finish();
}

// The optional members exist only in the form the encoder writes them, so that a decoded event
// encodes back to the same text.
bool read_room_change(ObjectReader& top, core::RoomChanged& out, std::string& error) {
  const rapidjson::Value* room = top.require("room");
  if (room == nullptr || !read_room(*room, out.room, error)) return false;
  if (const rapidjson::Value* v = top.find("previous_server_id")) {
    std::int64_t id = 0;
    if (!detail::read_integer(*v, top.label("previous_server_id"), id, error)) return false;
    out.previous_server = id;
  }
  if (const rapidjson::Value* v = top.find("participant")) {
    if (!detail::read_string(*v, top.label("participant"), out.participant, error)) return false;
    if (out.participant.empty()) {
      return detail::fail(error, top.label("participant") + " must not be empty when present");
    }
  }
  if (const rapidjson::Value* v = top.find("fields")) {
    if (!detail::read_strings(*v, top.label("fields"), out.fields, error)) return false;
    if (out.fields.empty()) {
      return detail::fail(error, top.label("fields") + " must not be empty when present");
    }
  }
  // Lifecycle facts carry when they fell due and how late they came; other events must not
  // (finish() refuses the members nobody read).
  if (core::is_lifecycle(out.change)) {
    core::Instant due{};
    if (!(top.iso_instant("due", due) && top.integer("late_seconds", out.late_seconds))) {
      return false;
    }
    if (out.late_seconds < 0) {
      return detail::fail(error, top.label("late_seconds") + " must not be negative");
    }
    out.due = due;
  }
  return true;
}

core::Error invalid(std::string text) {
  return core::make_error(core::Errc::invalid_argument, "event payload: " + std::move(text));
}

}  // namespace

std::string encode_event_payload(const core::Event& event) { return encode(event, Audience::log); }

std::string encode_public_event(const core::Event& event) {
  return encode(event, Audience::consumers);
}

core::Result<core::Event> decode_event_payload(std::string_view json) {
  // A payload's DOM fits this buffer, so decoding allocates nothing but the strings it keeps.
  alignas(8) char buffer[4096];
  rapidjson::MemoryPoolAllocator<> arena(buffer, sizeof buffer);
  rapidjson::Document doc(&arena);
  rapidjson::MemoryStream stream(json.data(), json.size());
  // Iterative parsing: a hostile "[[[[..." cannot exhaust the call stack.
  doc.ParseStream<rapidjson::kParseIterativeFlag>(stream);
  if (doc.HasParseError()) {
    return invalid(
        detail::describe_parse_error(doc.GetParseError(), doc.GetErrorOffset(), json.size()));
  }
  // RapidJSON takes a NUL byte for the end of the input; anything after it is not ours.
  if (stream.Tell() != json.size()) {
    return invalid("not valid JSON at offset " + std::to_string(stream.Tell()) + ": a NUL byte");
  }

  std::string error;
  ObjectReader top(doc, "", error);
  std::string type;
  if (!top.string("type", type)) return invalid(std::move(error));

  core::Event event;
  const std::string_view type_view(type);
  std::optional<core::RoomChange> room_change;
  std::optional<core::ServerChange> server_change;
  if (type_view.substr(0, 5) == "room.") {
    room_change = core::room_change_from_string(type_view.substr(5));
  } else if (type_view.substr(0, 7) == "server.") {
    server_change = core::server_change_from_string(type_view.substr(7));
  }
  if (!room_change && !server_change) {
    return invalid("unknown event type " + detail::quote_for_error(type) +
                   " (expected room.<created|updated|deleted|moved|participant_added|"
                   "participant_removed|starting|started|ended> or server.<registered|updated|"
                   "deleted|key_rotated|state_changed|cloned>)");
  }
  if (!(top.integer("position", event.position) && top.integer("version", event.version) &&
        top.string("command_id", event.command_id) && top.iso_instant("time", event.time))) {
    return invalid(std::move(error));
  }
  if (room_change) {
    core::RoomChanged change;
    change.change = *room_change;
    if (!read_room_change(top, change, error)) return invalid(std::move(error));
    event.change = std::move(change);
  } else {
    core::ServerChanged change;
    change.change = *server_change;
    const rapidjson::Value* server = top.require("server");
    if (server == nullptr || !detail::read_server(*server, "server", change.server, error)) {
      return invalid(std::move(error));
    }
    event.change = std::move(change);
  }
  if (!top.finish()) return invalid(std::move(error));
  return event;
}

}  // namespace roombus::json
