// JSON codec of remembered command outcomes (idempotency records in the event log).
#include "roombus/json/outcome_codec.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <array>
#include <chrono>

namespace roombus::json {
namespace {

constexpr std::array kCodes{
    core::Errc::invalid_argument,   core::Errc::invalid_email,    core::Errc::invalid_duration,
    core::Errc::invalid_start,      core::Errc::invalid_minutes,  core::Errc::missing_key,
    core::Errc::access_denied,      core::Errc::not_a_member,     core::Errc::room_not_found,
    core::Errc::room_deleted,       core::Errc::server_not_found, core::Errc::target_not_found,
    core::Errc::server_unavailable, core::Errc::not_clonable,     core::Errc::not_a_participant,
    core::Errc::conflict,           core::Errc::storage_failed,   core::Errc::command_id_reused};

core::Error bad(std::string_view why) {
  return core::make_error(core::Errc::invalid_argument,
                          "undecodable command outcome: " + std::string(why));
}

}  // namespace

std::string encode_outcome(const core::Outcome& outcome) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&](std::string_view s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  };
  w.StartObject();
  if (outcome.error) {
    w.Key("error");
    w.StartObject();
    w.Key("code");
    str(core::to_string(outcome.error->code));
    w.Key("text");
    str(outcome.error->text);
    w.EndObject();
  } else {
    w.Key("reply");
    w.StartObject();
    w.Key("room_uid");
    str(outcome.reply.room_uid);
    w.Key("server_id");
    if (outcome.reply.server_id) {
      w.Int64(*outcome.reply.server_id);
    } else {
      w.Null();
    }
    w.EndObject();
  }
  if (!outcome.fingerprint.empty()) {
    w.Key("fingerprint");
    str(outcome.fingerprint);
  }
  if (outcome.at) {
    w.Key("at");
    w.Int64(outcome.at->time_since_epoch().count());
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

core::Result<core::Outcome> decode_outcome(std::string_view command_id, std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return bad("not a JSON object");
  core::Outcome out;
  out.command_id = std::string(command_id);
  for (auto m = doc.MemberBegin(); m != doc.MemberEnd(); ++m) {
    std::string_view name(m->name.GetString(), m->name.GetStringLength());
    if (name != "error" && name != "reply" && name != "fingerprint" && name != "at") {
      return bad("unknown member '" + std::string(name) + "'");
    }
  }
  if (auto f = doc.FindMember("fingerprint"); f != doc.MemberEnd()) {
    if (!f->value.IsString() || f->value.GetStringLength() == 0) {
      return bad("fingerprint is not a non-empty string");
    }
    out.fingerprint.assign(f->value.GetString(), f->value.GetStringLength());
  }
  if (auto a = doc.FindMember("at"); a != doc.MemberEnd()) {
    if (!a->value.IsInt64()) return bad("at is not an integer");
    out.at = core::Instant{std::chrono::seconds{a->value.GetInt64()}};
  }
  if (auto e = doc.FindMember("error"); e != doc.MemberEnd()) {
    if (!e->value.IsObject()) return bad("error is not an object");
    auto code = e->value.FindMember("code");
    auto text = e->value.FindMember("text");
    if (code == e->value.MemberEnd() || !code->value.IsString() || text == e->value.MemberEnd() ||
        !text->value.IsString()) {
      return bad("error needs string code and text");
    }
    std::string_view name(code->value.GetString(), code->value.GetStringLength());
    for (core::Errc c : kCodes) {
      if (core::to_string(c) == name) {
        out.error =
            core::Error{c, std::string(text->value.GetString(), text->value.GetStringLength())};
        return out;
      }
    }
    return bad("unknown error code '" + std::string(name) + "'");
  }
  auto r = doc.FindMember("reply");
  if (r == doc.MemberEnd() || !r->value.IsObject()) return bad("neither error nor reply");
  auto uid = r->value.FindMember("room_uid");
  auto sid = r->value.FindMember("server_id");
  if (uid == r->value.MemberEnd() || !uid->value.IsString() || sid == r->value.MemberEnd() ||
      !(sid->value.IsNull() || sid->value.IsInt64())) {
    return bad("reply needs room_uid (string) and server_id (integer or null)");
  }
  out.reply.room_uid.assign(uid->value.GetString(), uid->value.GetStringLength());
  if (sid->value.IsInt64()) out.reply.server_id = sid->value.GetInt64();
  return out;
}

}  // namespace roombus::json
