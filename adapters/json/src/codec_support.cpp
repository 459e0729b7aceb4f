// Shared codec pieces: string/UTF-8 handling, ISO times, typed strict reads, the server object.
#include "codec_support.hpp"

#include <rapidjson/error/en.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

namespace roombus::json::detail {
namespace {

constexpr std::size_t kShownChars = 40;

// Length of the well-formed UTF-8 character at text[pos], or 0 when none starts there; `bad`
// then receives the length of the maximal invalid subpart to replace.
std::size_t utf8_char(std::string_view text, std::size_t pos, std::size_t& bad) {
  const auto lead = static_cast<unsigned char>(text[pos]);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // overlong
    if (lead == 0xED) high = 0x9F;  // UTF-16 surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;   // overlong
    if (lead == 0xF4) high = 0x8F;  // beyond U+10FFFF
  } else {
    bad = 1;
    return 0;
  }
  for (std::size_t i = 1; i < length; ++i) {
    if (pos + i >= text.size()) {
      bad = i;
      return 0;
    }
    const auto c = static_cast<unsigned char>(text[pos + i]);
    if (c < (i == 1 ? low : 0x80) || c > (i == 1 ? high : 0xBF)) {
      bad = i;
      return 0;
    }
  }
  return length;
}

rapidjson::SizeType json_size(std::size_t size) {
  // RapidJSON counts in 32 bits; the core caps names far below that, so this is a bug guard.
  return static_cast<rapidjson::SizeType>(std::min<std::size_t>(size, UINT32_MAX));
}

std::string kind_of(const rapidjson::Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      return "a boolean";
    case rapidjson::kObjectType:
      return "an object";
    case rapidjson::kArrayType:
      return "an array";
    case rapidjson::kStringType:
      return "a string";
    case rapidjson::kNumberType:
      if (v.IsInt64()) return "an integer";
      return v.IsDouble() ? "a floating-point number" : "an integer beyond int64";
  }
  return "an unknown value";
}

bool digits(std::string_view text, std::size_t pos, std::size_t n, unsigned& out) {
  if (pos + n > text.size()) return false;
  unsigned value = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    value = value * 10 + static_cast<unsigned>(text[i] - '0');
  }
  out = value;
  return true;
}

}  // namespace

// The start of a string for an error text, escaped so that the text stays printable.
std::string quote_for_error(std::string_view text) {
  std::string out = "\"";
  for (char c : text.substr(0, kShownChars)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7F || c == '"' || c == '\\') {
      constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xF]);
    } else {
      out.push_back(c);
    }
  }
  if (text.size() > kShownChars) out += "...";
  return out + "\"";
}

bool wrong_type(std::string& error, const std::string& label, const char* expected,
                const rapidjson::Value& v) {
  return fail(error, label + " must be " + expected + ", not " + kind_of(v));
}

bool valid_utf8(std::string_view text) {
  std::size_t bad = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t n = utf8_char(text, pos, bad);
    if (n == 0) return false;
    pos += n;
  }
  return true;
}

std::string replace_invalid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t bad = 0;
    const std::size_t n = utf8_char(text, pos, bad);
    if (n > 0) {
      out.append(text.substr(pos, n));
      pos += n;
    } else {
      out += "\xEF\xBF\xBD";
      pos += bad;
    }
  }
  return out;
}

void write_string(JsonWriter& w, std::string_view text, Audience audience) {
  if (audience == Audience::consumers && !valid_utf8(text)) {
    const std::string clean = replace_invalid_utf8(text);
    w.String(clean.data(), json_size(clean.size()), true);
    return;
  }
  w.String(text.data(), json_size(text.size()), true);
}

void write_strings(JsonWriter& w, const std::vector<std::string>& texts, Audience audience) {
  w.StartArray();
  for (const auto& text : texts) write_string(w, text, audience);
  w.EndArray();
}

void write_instant(JsonWriter& w, core::Instant t) { write_string(w, core::format_iso_utc(t)); }

void write_server(JsonWriter& w, const core::Server& server, Audience audience) {
  const bool secrets = audience == Audience::log;
  w.StartObject();
  w.Key("id");
  w.Int64(server.id);
  w.Key("url");
  write_string(w, server.url, audience);
  w.Key("name");
  write_string(w, server.name, audience);
  w.Key("app_id");
  write_string(w, server.app_id, audience);
  if (secrets) {
    w.Key("app_secret");
    write_string(w, server.app_secret, audience);
    w.Key("api_key_hash");
    write_string(w, server.api_key_hash, audience);
  }
  w.Key("members");
  write_strings(w, server.members, audience);
  w.Key("allow_clone");
  w.Bool(server.allow_clone);
  w.Key("state");
  write_string(w, core::to_string(server.state));
  w.Key("prototype_id");
  if (server.prototype_id) {
    w.Int64(*server.prototype_id);
  } else {
    w.Null();
  }
  w.Key("deleted");
  w.Bool(server.deleted);
  w.Key("version");
  w.Int64(server.version);
  w.EndObject();
}

std::optional<core::Instant> parse_iso_utc(std::string_view text) {
  // A 5-digit year has no leading zero, so every instant has exactly one accepted spelling.
  const std::size_t year_digits = text.size() == 21 && text[0] != '0' ? 5 : 4;
  if (text.size() != year_digits + 16) return std::nullopt;
  unsigned year = 0;
  core::LocalDateTime f;
  const std::string_view rest = text.substr(year_digits);
  if (!digits(text, 0, year_digits, year) || rest[0] != '-' || !digits(rest, 1, 2, f.month) ||
      rest[3] != '-' || !digits(rest, 4, 2, f.day) || rest[6] != 'T' ||
      !digits(rest, 7, 2, f.hour) || rest[9] != ':' || !digits(rest, 10, 2, f.minute) ||
      rest[12] != ':' || !digits(rest, 13, 2, f.second) || rest[15] != 'Z') {
    return std::nullopt;
  }
  f.year = static_cast<int>(year);
  const std::chrono::year_month_day ymd{std::chrono::year{f.year}, std::chrono::month{f.month},
                                        std::chrono::day{f.day}};
  if (year > 32767 || !ymd.ok() || f.hour > 23 || f.minute > 59 || f.second > 59)
    return std::nullopt;
  return core::instant_from_utc_fields(f);
}

bool fail(std::string& error, std::string text) {
  if (error.empty()) error = std::move(text);
  return false;
}

bool read_string(const rapidjson::Value& v, const std::string& label, std::string& out,
                 std::string& error) {
  if (!v.IsString()) return wrong_type(error, label, "a string", v);
  out.assign(v.GetString(), v.GetStringLength());
  return true;
}

bool read_integer(const rapidjson::Value& v, const std::string& label, std::int64_t& out,
                  std::string& error) {
  if (!v.IsInt64()) return wrong_type(error, label, "an integer", v);
  out = v.GetInt64();
  return true;
}

bool read_boolean(const rapidjson::Value& v, const std::string& label, bool& out,
                  std::string& error) {
  if (!v.IsBool()) return wrong_type(error, label, "true or false", v);
  out = v.GetBool();
  return true;
}

bool read_iso_instant(const rapidjson::Value& v, const std::string& label, core::Instant& out,
                      std::string& error) {
  if (!v.IsString()) return wrong_type(error, label, "an ISO-8601 UTC time string", v);
  const std::string_view text(v.GetString(), v.GetStringLength());
  const auto t = parse_iso_utc(text);
  if (!t) {
    return fail(error, label + " must be an ISO-8601 UTC time like 2021-02-02T12:00:00Z, not " +
                           quote_for_error(text));
  }
  out = *t;
  return true;
}

bool read_strings(const rapidjson::Value& v, const std::string& label,
                  std::vector<std::string>& out, std::string& error) {
  if (!v.IsArray()) return wrong_type(error, label, "an array of strings", v);
  out.clear();
  out.reserve(v.Size());
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    const rapidjson::Value& item = v[i];
    if (!item.IsString()) {
      return wrong_type(error, label + "[" + std::to_string(i) + "]", "a string", item);
    }
    out.emplace_back(item.GetString(), item.GetStringLength());
  }
  return true;
}

ObjectReader::ObjectReader(const rapidjson::Value& value, std::string path, std::string& error)
    : value_(value), path_(std::move(path)), error_(error), is_object_(value.IsObject()) {
  if (!is_object_) wrong_type(error_, path_.empty() ? "the document" : path_, "an object", value);
}

std::string ObjectReader::label(std::string_view name) const {
  std::string out = path_.empty() ? std::string() : path_ + ".";
  out.append(name);
  return out;
}

const rapidjson::Value* ObjectReader::find(const char* name) {
  if (!is_object_) return nullptr;
  auto it = value_.FindMember(name);
  if (it == value_.MemberEnd()) return nullptr;
  read_.push_back(name);
  return &it->value;
}

const rapidjson::Value* ObjectReader::require(const char* name) {
  if (!is_object_) return nullptr;
  const rapidjson::Value* v = find(name);
  if (v == nullptr) fail(error_, "missing member '" + label(name) + "'");
  return v;
}

bool ObjectReader::string(const char* name, std::string& out) {
  const rapidjson::Value* v = require(name);
  return v != nullptr && read_string(*v, label(name), out, error_);
}

bool ObjectReader::integer(const char* name, std::int64_t& out) {
  const rapidjson::Value* v = require(name);
  return v != nullptr && read_integer(*v, label(name), out, error_);
}

bool ObjectReader::boolean(const char* name, bool& out) {
  const rapidjson::Value* v = require(name);
  return v != nullptr && read_boolean(*v, label(name), out, error_);
}

bool ObjectReader::iso_instant(const char* name, core::Instant& out) {
  const rapidjson::Value* v = require(name);
  return v != nullptr && read_iso_instant(*v, label(name), out, error_);
}

bool ObjectReader::strings(const char* name, std::vector<std::string>& out) {
  const rapidjson::Value* v = require(name);
  return v != nullptr && read_strings(*v, label(name), out, error_);
}

bool ObjectReader::finish() {
  if (!is_object_) return false;
  if (value_.MemberCount() == read_.size()) return true;
  std::vector<std::string_view> seen;
  for (auto it = value_.MemberBegin(); it != value_.MemberEnd(); ++it) {
    const std::string_view name(it->name.GetString(), it->name.GetStringLength());
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
      return fail(error_, "repeated member '" + label(name) + "'");
    }
    if (std::find(read_.begin(), read_.end(), name) == read_.end()) {
      return fail(error_, "unexpected member '" + label(name) + "'");
    }
    seen.push_back(name);
  }
  return true;
}

bool read_server(const rapidjson::Value& v, const std::string& path, core::Server& out,
                 std::string& error) {
  ObjectReader r(v, path, error);
  std::string state;
  if (!(r.ok() && r.integer("id", out.id) && r.string("url", out.url) &&
        r.string("name", out.name) && r.string("app_id", out.app_id) &&
        r.string("app_secret", out.app_secret) && r.string("api_key_hash", out.api_key_hash) &&
        r.strings("members", out.members) && r.boolean("allow_clone", out.allow_clone) &&
        r.string("state", state))) {
    return false;
  }
  const auto parsed = core::server_state_from_string(state);
  if (!parsed) {
    return fail(error, r.label("state") +
                           " must be \"enabled\", \"cordoned\" or \"disabled\", not " +
                           quote_for_error(state));
  }
  out.state = *parsed;
  const rapidjson::Value* proto = r.require("prototype_id");
  if (proto == nullptr) return false;
  if (proto->IsNull()) {
    out.prototype_id.reset();
  } else if (proto->IsInt64()) {
    out.prototype_id = proto->GetInt64();
  } else {
    return wrong_type(error, r.label("prototype_id"), "null or an integer", *proto);
  }
  return r.boolean("deleted", out.deleted) && r.integer("version", out.version) && r.finish();
}

std::string describe_parse_error(rapidjson::ParseErrorCode code, std::size_t offset,
                                 std::size_t input_size) {
  // The iterative parser calls a stray ',' or ']' at the start an empty document.
  if (code == rapidjson::kParseErrorDocumentEmpty && offset < input_size) {
    code = rapidjson::kParseErrorValueInvalid;
  }
  std::string what = rapidjson::GetParseError_En(code);
  if (!what.empty() && what.back() == '.') what.pop_back();
  if (!what.empty() && what[0] >= 'A' && what[0] <= 'Z') what[0] = static_cast<char>(what[0] + 32);
  return "not valid JSON at offset " + std::to_string(offset) + ": " + what;
}

}  // namespace roombus::json::detail
