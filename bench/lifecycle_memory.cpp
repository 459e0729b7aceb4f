// What the lifecycle scheduler costs in the core, in one process: memory per scheduled room
// (VmRSS with and without the due index), the index under churn, replay with the index on and
// off, and the time of a Tick that emits 2,000 facts.
//   lifecycle_memory [ROOMS=1000000] [DUE_AT_ONCE=10000]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "roombus/core/decide.hpp"
#include "roombus/core/state.hpp"

namespace {

using namespace roombus::core;
using Steady = std::chrono::steady_clock;

// "VmRSS" or "VmHWM" of this process, in KiB.
long status_kib(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::atol(line.c_str() + field.size() + 1);
  }
  return -1;
}

double ms_since(Steady::time_point t) {
  return std::chrono::duration<double, std::milli>(Steady::now() - t).count();
}

class UtcZone final : public TimeZone {
 public:
  std::string name() const override { return "UTC"; }
  Instant to_utc(const LocalDateTime& local) const override {
    return instant_from_utc_fields(local);
  }
  LocalDateTime to_local(Instant t) const override { return utc_fields(t); }
  std::string abbreviation(Instant) const override { return "UTC"; }
};

const Instant kNow = instant_from_utc_fields({2030, 1, 1, 0, 0, 0});

// Realistic sizes: 32-hex uid, 26-character Jitsi name, a name, moderator and one participant.
Room room(std::int64_t n, Instant start) {
  char uid[33];
  std::snprintf(uid, sizeof uid, "%032llx", static_cast<unsigned long long>(n));
  Room r;
  r.uid = uid;
  r.number = n;
  r.jitsi_name = "jitsiname" + std::string(uid).substr(15);
  r.name = "Weekly planning " + std::to_string(n);
  r.start = start;
  r.duration_minutes = 45;
  r.end = start + std::chrono::minutes{45};
  r.moderator = "alice@example.com";
  r.participants = {"alice@example.com"};
  r.server_id = 1;
  r.version = 1;
  return r;
}

Server server() {
  Server s;
  s.id = 1;
  s.url = "meet.example.com";
  s.name = "Meet";
  s.api_key_hash = "hash";
  s.version = 1;
  return s;
}

// Spread over the year after kNow, one a minute apart per 1,000 rooms.
Instant start_of(std::int64_t n) { return kNow + std::chrono::minutes{60 + n / 1000}; }

Event event(std::int64_t position, RoomChange change, Room r) {
  Event e;
  e.position = position;
  e.version = r.version;
  e.command_id = "bench";
  e.time = kNow;
  e.change = RoomChanged{change, std::move(r), std::nullopt, {}, {}, std::nullopt, 0};
  return e;
}

Event server_event() {
  Event e;
  e.position = 1;
  e.version = 1;
  e.command_id = "bench";
  e.time = kNow;
  e.change = ServerChanged{ServerChange::registered, server()};
  return e;
}

// Replays `rooms` creates into a fresh state, with the due index on or off; milliseconds.
double replay_ms(std::int64_t rooms, bool index) {
  State state;
  if (index) state.enable_lifecycle(std::chrono::minutes{10});
  state.apply(server_event());
  std::vector<Event> events;
  events.reserve(10'000);
  double total = 0;
  for (std::int64_t n = 1; n <= rooms; n += 10'000) {
    events.clear();
    for (std::int64_t k = n; k < std::min(rooms + 1, n + 10'000); ++k) {
      events.push_back(event(k + 1, RoomChange::created, room(k, start_of(k))));
    }
    const auto t = Steady::now();
    for (const Event& e : events) state.apply(e);
    total += ms_since(t);
  }
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  const std::int64_t rooms = argc > 1 ? std::atoll(argv[1]) : 1'000'000;
  const std::int64_t at_once = argc > 2 ? std::atoll(argv[2]) : 10'000;
  if (rooms < at_once || at_once < 1) {
    std::fprintf(stderr, "usage: lifecycle_memory [ROOMS] [DUE_AT_ONCE <= ROOMS]\n");
    return 2;
  }

  const long rss0 = status_kib("VmRSS");
  std::vector<Room> all;
  all.reserve(static_cast<std::size_t>(rooms));
  // The first `at_once` rooms all start at kNow + 1 min; the others later.
  for (std::int64_t n = 1; n <= rooms; ++n) {
    all.push_back(room(n, n <= at_once ? kNow + std::chrono::minutes{1} : start_of(n)));
  }
  auto restored = State::restore(1, {server()}, std::move(all));
  if (!restored) return 1;
  State state = std::move(restored).value();
  all = {};
  const long rss1 = status_kib("VmRSS");

  auto t = Steady::now();
  state.enable_lifecycle(std::chrono::minutes{10});
  const double build_ms = ms_since(t);
  const long rss2 = status_kib("VmRSS");
  std::printf("rooms=%lld state_rss_mib=%.1f state_bytes_per_room=%.0f\n",
              static_cast<long long>(rooms), static_cast<double>(rss1 - rss0) / 1024,
              static_cast<double>(rss1 - rss0) * 1024 / static_cast<double>(rooms));
  std::printf(
      "due_index: entries=%zu reserved_bytes=%zu rss_added_bytes_per_room=%.1f "
      "(plus 1 byte of stage per room, in the state) build_ms=%.0f\n",
      state.due_index_entries(), state.due_index_bytes(),
      static_cast<double>(rss2 - rss1) * 1024 / static_cast<double>(rooms), build_ms);

  // Churn: every room gets a new start (a new cycle), leaving its old entry as garbage.
  std::int64_t position = state.position();
  std::size_t most_entries = 0;
  t = Steady::now();
  for (std::int64_t n = at_once + 1; n <= rooms; ++n) {
    Room r = *state.room_by_number(n);
    r.start += std::chrono::hours{24};
    r.end += std::chrono::hours{24};
    ++r.version;
    state.apply(event(++position, RoomChange::updated, std::move(r)));
    most_entries = std::max(most_entries, state.due_index_entries());
  }
  const double churn_ms = ms_since(t);
  std::printf(
      "churn: %lld start changes, most_entries=%zu (live %lld) entries_after=%zu "
      "reserved_bytes=%zu us_per_change=%.2f vm_hwm_mib=%.1f\n",
      static_cast<long long>(rooms - at_once), most_entries, static_cast<long long>(rooms),
      state.due_index_entries(), state.due_index_bytes(),
      churn_ms * 1000 / static_cast<double>(rooms - at_once),
      static_cast<double>(status_kib("VmHWM")) / 1024);

  // 10,000 rooms due in the same second: the Ticks that emit their room.starting facts.
  UtcZone zone;
  Context ctx;
  ctx.now = kNow + std::chrono::minutes{1};
  ctx.zone = &zone;
  ctx.command_id = "tick";
  std::size_t emitted = 0;
  int ticks = 0;
  double decide_ms = 0;
  double apply_ms = 0;
  while (true) {
    t = Steady::now();
    auto d = decide(state, Tick{2000}, ctx);
    decide_ms += ms_since(t);
    if (!d || d->events.empty()) break;
    ++ticks;
    emitted += d->events.size();
    t = Steady::now();
    for (const Event& e : d->events) state.apply(e);
    apply_ms += ms_since(t);
  }
  std::printf(
      "ticks: %lld rooms due at once -> %zu facts in %d Ticks of <= 2000; decide_ms_per_tick=%.1f "
      "apply_ms_per_tick=%.1f\n",
      static_cast<long long>(at_once), emitted, ticks, decide_ms / ticks, apply_ms / ticks);

  // Alternated, best of three each: the first runs pay for the allocator's page faults.
  const std::int64_t replayed = std::min<std::int64_t>(rooms, 1'000'000);
  double off = 1e300;
  double on = 1e300;
  for (int i = 0; i < 3; ++i) {
    off = std::min(off, replay_ms(replayed, false));
    on = std::min(on, replay_ms(replayed, true));
  }
  std::printf("replay of %lld creates (best of 3): index_off_ms=%.0f index_on_ms=%.0f (%+.0f%%)\n",
              static_cast<long long>(replayed), off, on, (on / off - 1) * 100);
  return 0;
}
