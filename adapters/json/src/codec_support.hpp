// Shared by the event and snapshot codecs: RapidJSON writing, UTF-8 repair, strict typed reads.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "roombus/core/model.hpp"
#include "roombus/core/time.hpp"

namespace roombus::json::detail {

// Into a StringBuffer: RapidJSON writes to it through reserved, unchecked stores.
using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// Who reads the output: the log gets every field byte for byte; consumers get no secrets and
// valid UTF-8 only.
enum class Audience { log, consumers };

bool valid_utf8(std::string_view text);
// Each maximal invalid subpart (Unicode 3.9) becomes U+FFFD, as the PHP writer does.
std::string replace_invalid_utf8(std::string_view text);

void write_string(JsonWriter& w, std::string_view text, Audience audience = Audience::log);
void write_strings(JsonWriter& w, const std::vector<std::string>& texts, Audience audience);
void write_instant(JsonWriter& w, core::Instant t);
void write_server(JsonWriter& w, const core::Server& server, Audience audience);

// `YYYY-mm-ddTHH:MM:SSZ` exactly as core::format_iso_utc writes it (years 0000-32767, a 5-digit
// year without leading zero), naming a real date and time.
std::optional<core::Instant> parse_iso_utc(std::string_view text);

// Typed reads of one value. On failure they set `error` (if it is still empty) to a text naming
// `label` and return false, so reads chain with &&.
bool read_string(const rapidjson::Value& v, const std::string& label, std::string& out,
                 std::string& error);
bool read_integer(const rapidjson::Value& v, const std::string& label, std::int64_t& out,
                  std::string& error);
bool read_boolean(const rapidjson::Value& v, const std::string& label, bool& out,
                  std::string& error);
bool read_iso_instant(const rapidjson::Value& v, const std::string& label, core::Instant& out,
                      std::string& error);
bool read_strings(const rapidjson::Value& v, const std::string& label,
                  std::vector<std::string>& out, std::string& error);
bool fail(std::string& error, std::string text);
// "<label> must be <expected>, not <what v is>".
bool wrong_type(std::string& error, const std::string& label, const char* expected,
                const rapidjson::Value& v);
// The start of `text`, quoted, non-printable bytes as \xhh: safe to put in an error text.
std::string quote_for_error(std::string_view text);

// Reads one JSON object strictly: members by name, each at most once; finish() then refuses any
// member that was not read (unknown, or given twice — RapidJSON keeps both and finds the first).
class ObjectReader {
 public:
  // `path` names the object in error texts: "" for the document itself, "room", "servers[3]".
  ObjectReader(const rapidjson::Value& value, std::string path, std::string& error);

  // Whether the value is an object at all (the error is set when not).
  bool ok() const { return is_object_; }
  // The member, or nullptr (with the error set) when missing.
  const rapidjson::Value* require(const char* name);
  // The member, or nullptr when absent: for optional members.
  const rapidjson::Value* find(const char* name);

  bool string(const char* name, std::string& out);
  bool integer(const char* name, std::int64_t& out);
  bool boolean(const char* name, bool& out);
  bool iso_instant(const char* name, core::Instant& out);
  bool strings(const char* name, std::vector<std::string>& out);
  bool finish();

  // "room.start" for member "start" of object "room": how error texts name it.
  std::string label(std::string_view name) const;

 private:
  const rapidjson::Value& value_;
  std::string path_;
  std::string& error_;
  bool is_object_;
  std::vector<std::string_view> read_;
};

bool read_server(const rapidjson::Value& v, const std::string& path, core::Server& out,
                 std::string& error);

// A RapidJSON parse error as text: "not valid JSON at offset 17: missing a comma or '}' after an
// object member". `input_size`: the length of the text `offset` counts in.
std::string describe_parse_error(rapidjson::ParseErrorCode code, std::size_t offset,
                                 std::size_t input_size);

}  // namespace roombus::json::detail
