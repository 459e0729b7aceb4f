// flat_fields: JSON members as form values.
#include "roombus/json/flat_fields.hpp"

#include <charconv>

namespace roombus::json {

FlatFields flat_fields(const rapidjson::Value& object) {
  FlatFields fields;
  for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
    std::string name(it->name.GetString(), it->name.GetStringLength());
    const auto& v = it->value;
    if (v.IsString()) {
      fields.emplace_back(std::move(name), std::string(v.GetString(), v.GetStringLength()));
    } else if (v.IsInt64()) {
      fields.emplace_back(std::move(name), std::to_string(v.GetInt64()));
    } else if (v.IsUint64()) {
      fields.emplace_back(std::move(name), std::to_string(v.GetUint64()));
    } else if (v.IsNumber()) {
      char buf[32];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.GetDouble());
      fields.emplace_back(std::move(name), ec == std::errc() ? std::string(buf, end) : "");
    } else if (v.IsBool()) {
      fields.emplace_back(std::move(name), v.GetBool() ? "1" : "0");
    } else if (v.IsNull()) {
      continue;  // null is "not given"
    } else {
      fields.emplace_back(std::move(name), std::nullopt);
    }
  }
  return fields;
}

std::optional<std::optional<std::string>> find_field(const FlatFields& fields,
                                                     std::string_view name) {
  for (auto it = fields.rbegin(); it != fields.rend(); ++it) {
    if (it->first == name) return it->second;
  }
  return std::nullopt;
}

}  // namespace roombus::json
