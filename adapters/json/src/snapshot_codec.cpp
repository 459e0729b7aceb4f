// Snapshot codec: a hand-written skeleton around records written and read one at a time.
#include "roombus/json/snapshot_codec.hpp"

#include <rapidjson/memorystream.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>
#include <vector>

#include "codec_support.hpp"

namespace roombus::json {
namespace {

using detail::Audience;
using detail::JsonWriter;

constexpr std::array<const char*, 12> kRoomFields{
    "uid", "number",    "jitsi_name",   "name",      "start",   "duration_minutes",
    "end", "moderator", "participants", "server_id", "deleted", "version"};

// The shortest room row, `["",0,"","",0,0,0,"",[],0,false,0]` plus a separator: an upper bound
// on the rooms a text of a given size can hold, so a corrupt room_count cannot make us reserve
// more than the input could ever fill.
constexpr std::size_t kMinRoomRowBytes = 36;

void write_room_row(JsonWriter& w, const core::Room& room) {
  w.StartArray();
  detail::write_string(w, room.uid);
  w.Int64(room.number);
  detail::write_string(w, room.jitsi_name);
  detail::write_string(w, room.name);
  w.Int64(room.start.time_since_epoch().count());
  w.Int64(room.duration_minutes);
  w.Int64(room.end.time_since_epoch().count());
  detail::write_string(w, room.moderator);
  detail::write_strings(w, room.participants, Audience::log);
  w.Int64(room.server_id);
  w.Bool(room.deleted);
  w.Int64(room.version);
  w.EndArray();
}

// Reads one room row; builds the texts naming a field only on failure, since a snapshot holds up
// to millions of rows.
class RowReader {
 public:
  RowReader(const rapidjson::Value& row, std::size_t index, std::string& error)
      : row_(row), index_(index), error_(error) {}

  bool read(core::Room& out) {
    if (!row_.IsArray()) return detail::wrong_type(error_, where(), "an array", row_);
    if (row_.Size() != kRoomFields.size()) {
      return detail::fail(error_, where() + " must have " + std::to_string(kRoomFields.size()) +
                                      " fields (see room_fields), not " +
                                      std::to_string(row_.Size()));
    }
    return string(0, out.uid) && integer(1, out.number) && string(2, out.jitsi_name) &&
           string(3, out.name) && instant(4, out.start) && integer(5, out.duration_minutes) &&
           instant(6, out.end) && string(7, out.moderator) && strings(8, out.participants) &&
           integer(9, out.server_id) && boolean(10, out.deleted) && integer(11, out.version);
  }

 private:
  std::string where() const { return "rooms[" + std::to_string(index_) + "]"; }
  std::string label(rapidjson::SizeType i) const {
    return where() + "." + kRoomFields[static_cast<std::size_t>(i)];
  }
  bool bad(rapidjson::SizeType i, const char* expected) {
    return detail::wrong_type(error_, label(i), expected, row_[i]);
  }
  bool string(rapidjson::SizeType i, std::string& out) {
    if (!row_[i].IsString()) return bad(i, "a string");
    out.assign(row_[i].GetString(), row_[i].GetStringLength());
    return true;
  }
  bool integer(rapidjson::SizeType i, std::int64_t& out) {
    if (!row_[i].IsInt64()) return bad(i, "an integer");
    out = row_[i].GetInt64();
    return true;
  }
  bool instant(rapidjson::SizeType i, core::Instant& out) {
    if (!row_[i].IsInt64()) return bad(i, "an integer (Unix seconds)");
    out = core::Instant{std::chrono::seconds{row_[i].GetInt64()}};
    return true;
  }
  bool boolean(rapidjson::SizeType i, bool& out) {
    if (!row_[i].IsBool()) return bad(i, "true or false");
    out = row_[i].GetBool();
    return true;
  }
  bool strings(rapidjson::SizeType i, std::vector<std::string>& out) {
    return detail::read_strings(row_[i], label(i), out, error_);
  }

  const rapidjson::Value& row_;
  std::size_t index_;
  std::string& error_;
};

// Walks the fixed skeleton of the document and parses each value in it — the scalars and every
// record — on its own with RapidJSON, reusing one small arena, so no DOM of the whole snapshot
// is ever built.
class Scanner {
 public:
  Scanner(std::string_view text, std::string& error) : text_(text), error_(error) {}

  // Skips whitespace and consumes `c`.
  bool expect(char c, std::string_view where) {
    if (accept(c)) return true;
    return detail::fail(error_, "expected '" + std::string(1, c) + "' " + std::string(where) +
                                    " at offset " + std::to_string(pos_) + found());
  }

  // Skips whitespace and consumes `c` if it is next.
  bool accept(char c) {
    skip_whitespace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  // The member name `name` and its colon.
  bool key(const char* name) {
    const std::size_t at = pos_;
    if (!value("the name of member '" + std::string(name) + "'")) return false;
    if (!doc_.IsString() || std::string_view(doc_.GetString(), doc_.GetStringLength()) != name) {
      return detail::fail(error_, "expected member '" + std::string(name) + "' at offset " +
                                      std::to_string(at) + found_at(at));
    }
    return expect(':', "after member name '" + std::string(name) + "'");
  }

  // One JSON value of any kind, left in doc(). `what` (and `index`, for an array element) name
  // it in the error text, built only on failure: this runs once per record.
  bool value(std::string_view what, std::size_t index = kNoIndex) {
    skip_whitespace();
    arena_.Clear();
    rapidjson::MemoryStream stream(text_.data() + pos_, text_.size() - pos_);
    doc_.ParseStream<rapidjson::kParseIterativeFlag | rapidjson::kParseStopWhenDoneFlag>(stream);
    if (doc_.HasParseError()) {
      return detail::fail(
          error_, detail::describe_parse_error(doc_.GetParseError(), pos_ + doc_.GetErrorOffset(),
                                               text_.size()) +
                      " (in " + name_of(what, index) + ")");
    }
    pos_ += stream.Tell();
    return true;
  }

  // An array whose elements go one by one to `each(element, index)`.
  template <class Each>
  bool array(const char* name, Each each) {
    if (!expect('[', std::string("to open ") + name)) return false;
    if (accept(']')) return true;
    for (std::size_t i = 0;; ++i) {
      if (!value(name, i) || !each(doc_, i)) return false;
      if (accept(',')) continue;
      return expect(']', "after " + name_of(name, i));
    }
  }

  bool finish() {
    skip_whitespace();
    if (pos_ == text_.size()) return true;
    return detail::fail(
        error_, "unexpected text after the snapshot at offset " + std::to_string(pos_) + found());
  }

  const rapidjson::Document& doc() const { return doc_; }
  std::size_t remaining() const { return text_.size() - pos_; }

 private:
  static constexpr std::size_t kNoIndex = SIZE_MAX;

  static std::string name_of(std::string_view what, std::size_t index) {
    std::string out(what);
    if (index != kNoIndex) out += "[" + std::to_string(index) + "]";
    return out;
  }
  void skip_whitespace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\r' || text_[pos_] == '\t'))
      ++pos_;
  }
  std::string found() const { return found_at(pos_); }
  std::string found_at(std::size_t at) const {
    if (at >= text_.size()) return " (the text ends there)";
    return ", found " + detail::quote_for_error(text_.substr(at, 16));
  }

  std::string_view text_;
  std::string& error_;
  std::size_t pos_ = 0;
  // Most records fit the inline buffer, so parsing one allocates nothing but RapidJSON's stacks.
  alignas(8) char buffer_[8192];
  rapidjson::MemoryPoolAllocator<> arena_{buffer_, sizeof buffer_};
  rapidjson::Document doc_{&arena_};
};

core::Error invalid(std::string text) {
  return core::make_error(core::Errc::invalid_argument, "snapshot: " + std::move(text));
}

}  // namespace

std::string encode_snapshot(const core::State& state) {
  std::string out;
  out.reserve(1024 + state.servers().size() * 512 + state.room_count() * 256);
  out += "{\"format\":\"";
  out += kSnapshotFormat;
  out += "\",\"position\":";
  out += std::to_string(state.position());
  out += ",\n\"servers\":[";
  // Each record is written by a fresh writer, so the separators and newlines between them are
  // ours to choose.
  rapidjson::StringBuffer record(nullptr, 1024);
  JsonWriter w(record);
  const char* separator = "\n";
  for (const auto& [id, server] : state.servers()) {
    out += separator;
    separator = ",\n";
    record.Clear();
    w.Reset(record);
    detail::write_server(w, server, Audience::log);
    out.append(record.GetString(), record.GetSize());
  }
  out += "\n],\n\"room_fields\":[";
  separator = "\"";
  for (const char* field : kRoomFields) {
    out += separator;
    out += field;
    separator = "\",\"";
  }
  out += "\"],\n\"room_count\":";
  out += std::to_string(state.room_count());
  out += ",\n\"rooms\":[";
  separator = "\n";
  for (const core::Room* room : state.rooms_in_order()) {
    out += separator;
    separator = ",\n";
    record.Clear();
    w.Reset(record);
    write_room_row(w, *room);
    out.append(record.GetString(), record.GetSize());
  }
  out += "\n],\n\"room_stages\":\"";
  for (core::Stage stage : state.stages()) out += static_cast<char>('0' + static_cast<int>(stage));
  out += "\"}\n";
  return out;
}

core::Result<core::State> decode_snapshot(std::string_view json) {
  std::string error;
  Scanner in(json, error);
  std::string format;
  std::int64_t position = 0;
  std::int64_t room_count = 0;
  if (!(in.expect('{', "to open the snapshot") && in.key("format") && in.value("format") &&
        detail::read_string(in.doc(), "format", format, error))) {
    return invalid(std::move(error));
  }
  if (format != kSnapshotFormat) {
    return invalid("format " + detail::quote_for_error(format) + " is not supported (expected " +
                   std::string(kSnapshotFormat) + ")");
  }
  if (!(in.expect(',', "after format") && in.key("position") && in.value("position") &&
        detail::read_integer(in.doc(), "position", position, error))) {
    return invalid(std::move(error));
  }

  std::vector<core::Server> servers;
  const auto read_server = [&](const rapidjson::Value& v, std::size_t i) {
    servers.emplace_back();
    return detail::read_server(v, "servers[" + std::to_string(i) + "]", servers.back(), error);
  };
  if (!(in.expect(',', "after position") && in.key("servers") &&
        in.array("servers", read_server))) {
    return invalid(std::move(error));
  }

  std::vector<std::string> fields;
  if (!(in.expect(',', "after servers") && in.key("room_fields") && in.value("room_fields") &&
        detail::read_strings(in.doc(), "room_fields", fields, error))) {
    return invalid(std::move(error));
  }
  if (!std::equal(fields.begin(), fields.end(), kRoomFields.begin(), kRoomFields.end())) {
    return invalid("room_fields do not match this format's room layout");
  }
  if (!(in.expect(',', "after room_fields") && in.key("room_count") && in.value("room_count") &&
        detail::read_integer(in.doc(), "room_count", room_count, error))) {
    return invalid(std::move(error));
  }
  if (room_count < 0) return invalid("room_count must not be negative");

  std::vector<core::Room> rooms;
  rooms.reserve(
      std::min(static_cast<std::size_t>(room_count), in.remaining() / kMinRoomRowBytes + 1));
  const auto read_room = [&](const rapidjson::Value& v, std::size_t i) {
    rooms.emplace_back();
    return RowReader(v, i, error).read(rooms.back());
  };
  if (!(in.expect(',', "after room_count") && in.key("rooms") && in.array("rooms", read_room))) {
    return invalid(std::move(error));
  }
  if (rooms.size() != static_cast<std::size_t>(room_count)) {
    return invalid("room_count is " + std::to_string(room_count) + " but " +
                   std::to_string(rooms.size()) + " rooms follow");
  }
  // Optional: snapshots written before lifecycle events existed have no stages (all none).
  std::vector<core::Stage> stages;
  if (in.accept(',')) {
    std::string digits;
    if (!(in.key("room_stages") && in.value("room_stages") &&
          detail::read_string(in.doc(), "room_stages", digits, error))) {
      return invalid(std::move(error));
    }
    if (digits.size() != rooms.size()) {
      return invalid("room_stages has " + std::to_string(digits.size()) + " stages for " +
                     std::to_string(rooms.size()) + " rooms");
    }
    stages.reserve(digits.size());
    for (std::size_t i = 0; i < digits.size(); ++i) {
      if (digits[i] < '0' || digits[i] > '3') {
        return invalid("room_stages[" + std::to_string(i) + "] must be a digit 0-3, not " +
                       detail::quote_for_error(std::string_view(digits).substr(i, 1)));
      }
      stages.push_back(static_cast<core::Stage>(digits[i] - '0'));
    }
  }
  if (!(in.expect('}', "to close the snapshot") && in.finish())) return invalid(std::move(error));

  auto state =
      core::State::restore(position, std::move(servers), std::move(rooms), std::move(stages));
  if (!state) return invalid(state.error().text);
  return state;
}

}  // namespace roombus::json
