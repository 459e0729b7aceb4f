// Binary snapshot codec: length-prefixed texts and varints, read with bounds checks and no parser.
#include "roombus/json/snapshot_binary.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <thread>
#include <utility>
#include <vector>

#include "roombus/json/snapshot_codec.hpp"
#include "roombus/posix/huge_pages.hpp"

namespace roombus::json {
namespace {

constexpr std::size_t kHeaderBytes = kBinarySnapshotMagic.size() + 4 + 8;
// The fewest bytes a record can take (every text empty, every number one byte): an upper bound on
// the records a payload of a given size can hold, so a damaged count is refused before anything is
// reserved for it.
constexpr std::size_t kMinServerBytes = 10;
constexpr std::size_t kMinRoomBytes = 11;

// Threads besides the caller's that decode room chunks at most.
constexpr std::size_t kMostDecodeHelpers = 3;

constexpr std::uint8_t kServerAllowClone = 1;
constexpr std::uint8_t kServerDeleted = 2;
constexpr std::uint8_t kServerHasPrototype = 4;
constexpr std::uint8_t kRoomDeleted = 1;
constexpr int kRoomStageShift = 1;
constexpr std::uint8_t kRoomStageMask = 3;
constexpr std::uint8_t kRoomFlags = kRoomDeleted | (kRoomStageMask << kRoomStageShift);

std::uint64_t zigzag(std::int64_t n) {
  return (static_cast<std::uint64_t>(n) << 1) ^ static_cast<std::uint64_t>(n >> 63);
}

std::int64_t unzigzag(std::uint64_t v) {
  return static_cast<std::int64_t>((v >> 1) ^ (~(v & 1) + 1));
}

class Writer {
 public:
  explicit Writer(std::size_t reserve) { out_.reserve(reserve); }

  void fixed(std::uint64_t value, int bytes) {
    char buffer[8];
    for (int i = 0; i < bytes; ++i) buffer[i] = static_cast<char>((value >> (8 * i)) & 0xffU);
    out_.append(buffer, static_cast<std::size_t>(bytes));
  }
  void varint(std::uint64_t value) {
    char buffer[10];
    std::size_t n = 0;
    while (value >= 0x80) {
      buffer[n++] = static_cast<char>((value & 0x7fU) | 0x80U);
      value >>= 7;
    }
    buffer[n++] = static_cast<char>(value);
    out_.append(buffer, n);
  }
  void signed_varint(std::int64_t value) { varint(zigzag(value)); }
  void byte(std::uint8_t value) { out_.push_back(static_cast<char>(value)); }
  void raw(std::string_view bytes) { out_.append(bytes); }
  void text(std::string_view value) {
    varint(value.size());
    out_.append(value);
  }
  void texts(const std::vector<std::string>& values) {
    varint(values.size());
    for (const std::string& value : values) text(value);
  }
  void instant(core::Instant t) { signed_varint(t.time_since_epoch().count()); }

  std::size_t size() const { return out_.size(); }
  std::string_view view() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

void write_server(Writer& w, const core::Server& s) {
  w.signed_varint(s.id);
  w.text(s.url);
  w.text(s.name);
  w.text(s.app_id);
  w.text(s.app_secret);
  w.text(s.api_key_hash);
  w.texts(s.members);
  std::uint8_t flags = 0;
  if (s.allow_clone) flags |= kServerAllowClone;
  if (s.deleted) flags |= kServerDeleted;
  if (s.prototype_id) flags |= kServerHasPrototype;
  w.byte(flags);
  w.byte(static_cast<std::uint8_t>(s.state));
  if (s.prototype_id) w.signed_varint(*s.prototype_id);
  w.signed_varint(s.version);
}

void write_room(Writer& w, const core::Room& r, core::Stage stage) {
  w.text(r.uid);
  w.text(r.jitsi_name);
  w.text(r.name);
  w.text(r.moderator);
  w.instant(r.start);
  w.signed_varint(r.duration_minutes);
  // Usually start + duration: a one- or two-byte delta instead of a second five-byte time.
  // Unsigned arithmetic, so any pair of times round-trips without overflow.
  w.varint(zigzag(
      static_cast<std::int64_t>(static_cast<std::uint64_t>(r.end.time_since_epoch().count()) -
                                static_cast<std::uint64_t>(r.start.time_since_epoch().count()))));
  w.texts(r.participants);
  w.signed_varint(r.server_id);
  w.byte(static_cast<std::uint8_t>((r.deleted ? kRoomDeleted : 0) |
                                   (static_cast<std::uint8_t>(stage) << kRoomStageShift)));
  w.signed_varint(r.version);
}

// Reads the payload front to back. A failed read records what went wrong and where (a static
// text and an offset); the caller adds which record and field, so no text is built while a
// million rooms decode fine.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : Reader(bytes, 0, bytes.size()) {}
  // Reads bytes [from, to) of `whole`; offsets still count from the start of `whole`.
  Reader(std::string_view whole, std::size_t from, std::size_t to)
      : begin_(whole.data()), p_(whole.data() + from), end_(whole.data() + to) {}

  std::size_t offset() const { return static_cast<std::size_t>(p_ - begin_); }
  std::size_t remaining() const { return static_cast<std::size_t>(end_ - p_); }
  const char* field() const { return field_; }
  const char* problem() const { return problem_; }
  std::size_t failed_at() const { return failed_at_; }

  bool fixed(const char* field, std::uint64_t& out, int bytes) {
    if (remaining() < static_cast<std::size_t>(bytes)) return fail(field, "truncated");
    out = 0;
    for (int i = 0; i < bytes; ++i) {
      out |= static_cast<std::uint64_t>(static_cast<unsigned char>(p_[i])) << (8 * i);
    }
    p_ += bytes;
    return true;
  }

  bool varint(const char* field, std::uint64_t& out) {
    // Most values (lengths, counts, flags, versions) fit one byte.
    if (p_ != end_ && static_cast<unsigned char>(*p_) < 0x80) {
      out = static_cast<unsigned char>(*p_++);
      return true;
    }
    const char* const start = p_;
    std::uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return fail(field, "truncated", start);
      const auto b = static_cast<unsigned char>(*p_++);
      value |= static_cast<std::uint64_t>(b & 0x7fU) << shift;
      if (b < 0x80) {
        if (shift == 63 && b > 1) return fail(field, "a number beyond 64 bits", start);
        out = value;
        return true;
      }
    }
    return fail(field, "a number longer than 10 bytes", start);
  }

  bool signed_varint(const char* field, std::int64_t& out) {
    std::uint64_t v = 0;
    if (!varint(field, v)) return false;
    out = unzigzag(v);
    return true;
  }

  bool instant(const char* field, core::Instant& out) {
    std::int64_t seconds = 0;
    if (!signed_varint(field, seconds)) return false;
    out = core::Instant{std::chrono::seconds{seconds}};
    return true;
  }

  // One byte whose bits outside `allowed` must be clear.
  bool flags(const char* field, std::uint8_t allowed, std::uint8_t& out) {
    if (p_ == end_) return fail(field, "truncated");
    out = static_cast<std::uint8_t>(*p_);
    if ((out & ~allowed) != 0) return fail(field, "unknown flag bits");
    ++p_;
    return true;
  }

  // One byte, at most `max`.
  bool small(const char* field, std::uint8_t max, const char* expected, std::uint8_t& out) {
    if (p_ == end_) return fail(field, "truncated");
    out = static_cast<std::uint8_t>(*p_);
    if (out > max) return fail(field, expected);
    ++p_;
    return true;
  }

  bool text(const char* field, std::string& out) {
    const char* const start = p_;
    std::uint64_t size = 0;
    if (!varint(field, size)) return false;
    if (size > remaining()) return fail(field, "truncated: its length runs past the end", start);
    out.assign(p_, static_cast<std::size_t>(size));
    p_ += size;
    return true;
  }

  // A count of records that take at least `min_bytes` each: more than the rest of the payload
  // could hold is refused here, so nothing is reserved for it.
  bool count(const char* field, std::size_t min_bytes, std::size_t& out) {
    const char* const start = p_;
    std::uint64_t n = 0;
    if (!varint(field, n)) return false;
    if (n > remaining() / min_bytes) {
      return fail(field, "a count larger than the rest of the payload can hold", start);
    }
    out = static_cast<std::size_t>(n);
    return true;
  }

  bool texts(const char* field, std::vector<std::string>& out) {
    std::size_t n = 0;
    if (!count(field, 1, n)) return false;
    out.resize(n);
    for (std::string& text : out) {
      if (!this->text(field, text)) return false;
    }
    return true;
  }

  bool fail(const char* field, const char* problem, const char* at = nullptr) {
    field_ = field;
    problem_ = problem;
    failed_at_ = static_cast<std::size_t>((at != nullptr ? at : p_) - begin_);
    return false;
  }

 private:
  const char* begin_;
  const char* p_;
  const char* end_;
  const char* field_ = "";
  const char* problem_ = "";
  std::size_t failed_at_ = 0;
};

bool read_server(Reader& in, core::Server& s) {
  std::uint8_t flags = 0;
  std::uint8_t state = 0;
  if (!(in.signed_varint("id", s.id) && in.text("url", s.url) && in.text("name", s.name) &&
        in.text("app_id", s.app_id) && in.text("app_secret", s.app_secret) &&
        in.text("api_key_hash", s.api_key_hash) && in.texts("members", s.members) &&
        in.flags("flags", kServerAllowClone | kServerDeleted | kServerHasPrototype, flags) &&
        in.small("state", static_cast<std::uint8_t>(core::ServerState::disabled),
                 "not 0 (enabled), 1 (cordoned) or 2 (disabled)", state))) {
    return false;
  }
  s.allow_clone = (flags & kServerAllowClone) != 0;
  s.deleted = (flags & kServerDeleted) != 0;
  s.state = static_cast<core::ServerState>(state);
  if ((flags & kServerHasPrototype) != 0) {
    std::int64_t prototype = 0;
    if (!in.signed_varint("prototype_id", prototype)) return false;
    s.prototype_id = prototype;
  }
  return in.signed_varint("version", s.version);
}

bool read_room(Reader& in, core::Room& r, core::Stage& stage) {
  std::uint64_t end_delta = 0;
  std::uint8_t flags = 0;
  if (!(in.text("uid", r.uid) && in.text("jitsi_name", r.jitsi_name) && in.text("name", r.name) &&
        in.text("moderator", r.moderator) && in.instant("start", r.start) &&
        in.signed_varint("duration_minutes", r.duration_minutes) && in.varint("end", end_delta) &&
        in.texts("participants", r.participants) && in.signed_varint("server_id", r.server_id) &&
        in.flags("flags", kRoomFlags, flags) && in.signed_varint("version", r.version))) {
    return false;
  }
  r.end = core::Instant{std::chrono::seconds{
      static_cast<std::int64_t>(static_cast<std::uint64_t>(r.start.time_since_epoch().count()) +
                                static_cast<std::uint64_t>(unzigzag(end_delta)))}};
  r.deleted = (flags & kRoomDeleted) != 0;
  stage = static_cast<core::Stage>((flags >> kRoomStageShift) & kRoomStageMask);
  return true;
}

core::Error invalid(std::string text) {
  return core::make_error(core::Errc::invalid_argument, "snapshot: " + std::move(text));
}

// "rooms[17].name: truncated at offset 1234".
core::Error invalid_record(const Reader& in, std::string_view record) {
  std::string where(record);
  if (*in.field() != '\0') {
    if (!where.empty()) where += '.';
    where += in.field();
  }
  return invalid(where + ": " + in.problem() + " at offset " + std::to_string(in.failed_at()));
}

std::string indexed(const char* name, std::size_t i) {
  return std::string(name) + "[" + std::to_string(i) + "]";
}

}  // namespace

std::string encode_binary_snapshot(const core::State& state, std::size_t rooms_per_chunk) {
  rooms_per_chunk = std::max<std::size_t>(rooms_per_chunk, 1);
  const std::size_t rooms = state.room_count();
  // The rooms first, on their own, so that the header can say how long each chunk is.
  Writer body(state.servers().size() * 256 + rooms * 128);
  for (const auto& [id, server] : state.servers()) write_server(body, server);
  std::vector<std::size_t> chunk_bytes;
  const std::vector<core::Stage>& stages = state.stages();
  for (std::size_t i = 0; i < rooms; ++i) {
    if (i % rooms_per_chunk == 0) chunk_bytes.push_back(body.size());
    const core::Room* room = state.room_by_number(static_cast<std::int64_t>(i) + 1);
    write_room(body, *room, i < stages.size() ? stages[i] : core::Stage::none);
  }
  // Chunk starts to chunk sizes.
  chunk_bytes.push_back(body.size());
  for (std::size_t c = 0; c + 1 < chunk_bytes.size(); ++c) {
    chunk_bytes[c] = chunk_bytes[c + 1] - chunk_bytes[c];
  }
  chunk_bytes.pop_back();

  Writer w(64 + chunk_bytes.size() * 4 + body.size());
  w.raw(kBinarySnapshotMagic);
  w.fixed(kBinarySnapshotVersion, 4);
  w.fixed(static_cast<std::uint64_t>(state.position()), 8);
  w.varint(state.servers().size());
  w.varint(rooms);
  w.varint(rooms_per_chunk);
  for (std::size_t size : chunk_bytes) w.varint(size);
  w.raw(body.view());
  return w.take();
}

bool is_binary_snapshot(std::string_view bytes) { return bytes.starts_with(kBinarySnapshotMagic); }

namespace {

// Has the kernel back [data, data + size) with memory now, as writing it would (cleared pages),
// so that another thread can take that cost. Advice only: on a kernel without
// MADV_POPULATE_WRITE the pages are filled in when first written, as before.
void populate_pages(void* data, std::size_t size) {
#ifdef MADV_POPULATE_WRITE
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto from = (reinterpret_cast<std::uintptr_t>(data) + page - 1) / page * page;
  const auto to = (reinterpret_cast<std::uintptr_t>(data) + size) / page * page;
  if (to > from) ::madvise(reinterpret_cast<void*>(from), to - from, MADV_POPULATE_WRITE);
#else
  (void)data;
  (void)size;
#endif
}

// Decodes the rooms of chunk `chunk` (bytes [from, to)) into their places in `rooms` and
// `stages`; on failure returns the error text.
std::string decode_chunk(std::string_view bytes, std::size_t from, std::size_t to,
                         std::size_t first, std::size_t count, std::vector<core::Room>& rooms,
                         std::vector<core::Stage>& stages) {
  Reader in(bytes, from, to);
  for (std::size_t i = first; i < first + count; ++i) {
    rooms[i].number = static_cast<std::int64_t>(i) + 1;
    if (!read_room(in, rooms[i], stages[i])) {
      return invalid_record(in, indexed("rooms", i)).text;
    }
  }
  if (in.remaining() != 0) {
    return invalid("rooms[" + std::to_string(first) + "] to [" + std::to_string(first + count - 1) +
                   "] end at offset " + std::to_string(in.offset()) + ", " +
                   std::to_string(in.remaining()) + " bytes before the end of their chunk")
        .text;
  }
  return {};
}

}  // namespace

core::Result<core::State> decode_binary_snapshot(std::string_view bytes) {
  if (!is_binary_snapshot(bytes)) {
    return invalid("not a binary snapshot: it does not start with the magic \"RBSTATE\\0\"");
  }
  if (bytes.size() < kHeaderBytes) {
    return invalid("truncated: " + std::to_string(bytes.size()) + " bytes, shorter than the " +
                   std::to_string(kHeaderBytes) + "-byte header");
  }
  // Offsets in error texts count from the start of the payload, magic included.
  Reader in(bytes);
  std::uint64_t magic = 0;
  std::uint64_t version = 0;
  std::uint64_t position = 0;
  in.fixed("magic", magic, 8);  // checked above; fixed() cannot fail within the header
  in.fixed("format version", version, 4);
  in.fixed("position", position, 8);
  if (version != kBinarySnapshotVersion) {
    return invalid("binary format version " + std::to_string(version) +
                   " is not supported (expected " + std::to_string(kBinarySnapshotVersion) + ")");
  }

  std::size_t server_count = 0;
  std::size_t room_count = 0;
  std::uint64_t rooms_per_chunk = 0;
  if (!(in.count("server count", kMinServerBytes, server_count) &&
        in.count("room count", kMinRoomBytes, room_count) &&
        in.varint("rooms per chunk", rooms_per_chunk))) {
    return invalid_record(in, "");
  }
  if (rooms_per_chunk == 0) return invalid("rooms per chunk must not be 0");
  // Each count alone fits (count() checked it), so this sum cannot overflow.
  if (server_count * kMinServerBytes + room_count * kMinRoomBytes > in.remaining()) {
    return invalid("server count " + std::to_string(server_count) + " and room count " +
                   std::to_string(room_count) + " are more than the rest of the payload can hold");
  }
  const std::size_t chunks = static_cast<std::size_t>(
      (room_count + rooms_per_chunk - 1) / rooms_per_chunk);  // room_count < 2^60: no overflow
  std::vector<std::size_t> chunk_from(chunks + 1);
  std::size_t chunk_total = 0;
  for (std::size_t c = 0; c < chunks; ++c) {
    std::uint64_t size = 0;
    if (!in.varint("chunk size", size)) return invalid_record(in, indexed("chunks", c));
    if (size > bytes.size()) return invalid(indexed("chunks", c) + " is larger than the payload");
    chunk_from[c] = chunk_total;
    chunk_total += static_cast<std::size_t>(size);  // each <= the payload: no overflow
  }
  chunk_from[chunks] = chunk_total;

  std::vector<core::Server> servers(server_count);
  for (std::size_t i = 0; i < server_count; ++i) {
    if (!read_server(in, servers[i])) return invalid_record(in, indexed("servers", i));
  }
  if (chunk_total != in.remaining()) {
    return invalid(std::to_string(in.remaining()) + " bytes follow the servers at offset " +
                   std::to_string(in.offset()) + ", but the room chunks take " +
                   std::to_string(chunk_total));
  }

  // The rooms' vector becomes the State's own (State::restore keeps it), so the rooms are
  // decoded in their final place.
  std::vector<core::Room> rooms;
  rooms.reserve(room_count);
  posix::advise_huge_pages(rooms.data(), room_count * sizeof(core::Room));
  std::vector<core::Stage> stages(room_count);
  std::vector<std::string> errors(chunks);
  const std::size_t rooms_start = in.offset();
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  // Set once the rooms exist (or their construction failed): helpers wait for it to decode.
  std::atomic<bool> constructed{false};
  // Chunks go to whichever thread is free: the caller's and up to three more, as the machine has
  // CPUs. Fresh memory for a million rooms is most of the work (the kernel clears each page), and
  // it goes as fast on each CPU.
  const auto work = [&] {
    for (std::size_t c = next++; c < chunks && !failed.load(); c = next++) {
      const std::size_t first = c * static_cast<std::size_t>(rooms_per_chunk);
      errors[c] =
          decode_chunk(bytes, rooms_start + chunk_from[c], rooms_start + chunk_from[c + 1], first,
                       std::min<std::size_t>(rooms_per_chunk, room_count - first), rooms, stages);
      if (!errors[c].empty()) failed.store(true);
    }
  };
  const std::size_t helpers =
      std::min<std::size_t>({chunks > 0 ? chunks - 1 : 0, kMostDecodeHelpers,
                             std::max<unsigned>(std::thread::hardware_concurrency(), 1) - 1});
  // The rooms' pages, 200 B a room, are cleared by the kernel as they are first written, and
  // default-constructing the rooms writes them all on this thread: a first helper has the kernel
  // fill in the first part meanwhile (104 MB for 500k rooms, 20 to 190 ms on the benchmark
  // machine), so that each CPU clears its share.
  const std::size_t room_bytes = room_count * sizeof(core::Room);
  const std::size_t helper_share = helpers == 0 ? 0 : room_bytes / (helpers + 1);
  std::vector<std::thread> threads;
  std::vector<std::exception_ptr> thrown(helpers);
  for (std::size_t t = 0; t < helpers; ++t) {
    threads.emplace_back([&, t] {
      try {
        if (t == 0) populate_pages(rooms.data(), helper_share);
        constructed.wait(false);
        work();
      } catch (...) {
        thrown[t] = std::current_exception();
        failed.store(true);
      }
    });
  }
  std::exception_ptr mine;
  try {
    populate_pages(reinterpret_cast<char*>(rooms.data()) + helper_share, room_bytes - helper_share);
    rooms.resize(room_count);
  } catch (...) {
    mine = std::current_exception();
    failed.store(true);
  }
  constructed.store(true);
  constructed.notify_all();
  try {
    if (!mine) work();
  } catch (...) {
    mine = std::current_exception();
    failed.store(true);
  }
  for (std::thread& thread : threads) thread.join();
  if (mine) std::rethrow_exception(mine);
  for (const std::exception_ptr& e : thrown) {
    if (e) std::rethrow_exception(e);
  }
  for (const std::string& error : errors) {
    if (!error.empty()) return core::make_error(core::Errc::invalid_argument, error);
  }

  auto state = core::State::restore(static_cast<std::int64_t>(position), std::move(servers),
                                    std::move(rooms), std::move(stages));
  if (!state) return invalid(state.error().text);
  return state;
}

core::Result<core::State> decode_stored_snapshot(std::string_view bytes) {
  if (is_binary_snapshot(bytes)) return decode_binary_snapshot(bytes);
  if (bytes.starts_with('{')) return decode_snapshot(bytes);
  return invalid("unknown format: it starts with neither the binary magic nor '{' (JSON)");
}

}  // namespace roombus::json
