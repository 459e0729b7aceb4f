// decode_command: a Kafka record to a command, or the reason it is a dead letter.
#include "roombus/consumers/command_record.hpp"

#include <rapidjson/document.h>

#include <algorithm>

#include "roombus/v1/writes.hpp"

namespace roombus::consumers {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

Decoded refuse(Refusal refusal, std::string detail) {
  Decoded d;
  d.refusal = refusal;
  d.detail = std::move(detail);
  return d;
}

}  // namespace

std::string_view to_string(Refusal refusal) {
  switch (refusal) {
    case Refusal::undecodable:
      return "undecodable";
    case Refusal::bad_id:
      return "bad-id";
    case Refusal::unknown_type:
      return "unknown-type";
    case Refusal::bad_data:
      return "bad-data";
    case Refusal::missing_key:
      return "missing-key";
    case Refusal::wrong_key:
      return "wrong-key";
    case Refusal::failed:
      return "failed";
  }
  return "undecodable";
}

Decoded decode_command(std::string_view value, const std::vector<kafka::Header>& headers) {
  rapidjson::Document doc;
  // Iterative: a deeply nested value must not exhaust the stack.
  doc.Parse<rapidjson::kParseIterativeFlag>(value.data(), value.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return refuse(Refusal::undecodable, "the value is not a JSON object");
  }
  CommandRecord record;
  bool has_data = false;
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    const std::string_view name(it->name.GetString(), it->name.GetStringLength());
    const auto& v = it->value;
    if (name == "id" || name == "type") {
      if (!v.IsString())
        return refuse(Refusal::undecodable, std::string(name) + " must be a string");
      (name == "id" ? record.id : record.type).assign(v.GetString(), v.GetStringLength());
    } else if (name == "data") {
      if (!v.IsObject()) return refuse(Refusal::bad_data, "data must be a JSON object");
      record.data = json::flat_fields(v);
      has_data = true;
    } else {
      return refuse(Refusal::undecodable, "unknown member " + std::string(name));
    }
  }
  if (record.id.empty() || record.id.size() > 200 ||
      !std::all_of(record.id.begin(), record.id.end(),
                   [](char c) { return c >= 0x21 && c <= 0x7e; })) {
    return refuse(Refusal::bad_id, "id must be 1 to 200 visible ASCII characters");
  }
  if (std::find(kCommandTypes.begin(), kCommandTypes.end(), record.type) == kCommandTypes.end()) {
    return refuse(Refusal::unknown_type, "unknown type '" + record.type.substr(0, 100) + "'");
  }
  if (!has_data) return refuse(Refusal::bad_data, "data is missing");
  std::optional<std::string> key;
  int authorizations = 0;
  for (const auto& h : headers) {
    if (!iequals(h.name, "authorization")) continue;
    ++authorizations;
    key = v1::parse_bearer(h.value);
  }
  if (authorizations != 1 || !key) {
    return refuse(Refusal::missing_key, authorizations == 0 ? "no authorization header"
                                        : authorizations > 1
                                            ? "more than one authorization header"
                                            : "authorization must be 'Bearer <server API key>'");
  }
  record.key = std::move(*key);
  Decoded d;
  d.record = std::move(record);
  return d;
}

}  // namespace roombus::consumers
