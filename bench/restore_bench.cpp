// A restart's snapshot read without the server: decoding a binary snapshot and restoring the core
// State from it, timed in a fresh process (as a restart meets it: no memory to reuse yet), so a
// change to the decoder or to State::restore can be compared build against build on a quiet core
// of the machine (docs/performance.md, "Restart: faster restore").
//   restore_bench write FILE [ROOMS=500000] [spread]
//                                           a snapshot like bench/run-memory-bench's: one server,
//                                           rooms as http_load creates them (random uid and
//                                           Jitsi name, one participant, one start); `spread`:
//                                           random starts over a year instead, 1 room in 10
//                                           deleted, 20 servers
//   restore_bench read FILE                 reads FILE, decodes it, checks every uid is found;
//                                           prints one line of key=value figures
// Linked with jemalloc when the service binary is, so the allocator is the service's.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "roombus/core/state.hpp"
#include "roombus/core/time.hpp"
#include "roombus/json/snapshot_binary.hpp"
#include "roombus/posix/huge_pages.hpp"

namespace {

using namespace roombus;
using Steady = std::chrono::steady_clock;

// "VmRSS" of this process, in KiB.
long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

double seconds_since(Steady::time_point t) {
  return std::chrono::duration<double>(Steady::now() - t).count();
}

// CPU seconds of the whole process so far (every thread), and its page faults.
std::pair<double, long> cpu_and_faults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  const double cpu = static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
                     static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
  return {cpu, u.ru_minflt + u.ru_majflt};
}

std::string random_text(std::mt19937_64& rng, const char* alphabet, std::size_t bits,
                        std::size_t length) {
  std::string out(length, ' ');
  for (char& c : out) c = alphabet[rng() & ((1U << bits) - 1)];
  return out;
}

int write_snapshot(const char* path, std::int64_t room_total, bool spread) {
  std::mt19937_64 rng(19);
  std::vector<core::Server> servers;
  for (int id = 1; id <= (spread ? 20 : 1); ++id) {
    core::Server s;
    s.id = id;
    s.url = "meet" + std::to_string(id) + ".example.com";
    s.name = "Meet";
    s.api_key_hash = "sha256-" + std::string(64, 'a');
    s.members = {"alice@x.de"};
    s.version = 1;
    servers.push_back(std::move(s));
  }
  const core::Instant start = core::instant_from_utc_fields({2031, 1, 6, 22, 40, 0});
  std::vector<core::Room> rooms;
  rooms.reserve(static_cast<std::size_t>(room_total));
  for (std::int64_t n = 1; n <= room_total; ++n) {
    core::Room r;
    r.uid = random_text(rng, "0123456789abcdef", 4, 32);
    r.number = n;
    r.jitsi_name = random_text(rng, "abcdefghijklmnopqrstuvwxyz234567", 5, 26);
    r.name = "Bench";
    r.start = spread
                  ? start + std::chrono::minutes{static_cast<std::int64_t>(rng() % (366 * 24 * 60))}
                  : start;
    r.duration_minutes = 30;
    r.end = r.start + std::chrono::minutes{30};
    r.moderator = "alice@x.de";
    r.participants = {"alice@x.de"};
    r.server_id = spread ? static_cast<core::ServerId>(1 + rng() % 20) : 1;
    r.deleted = spread && rng() % 10 == 0;
    r.version = 1;
    rooms.push_back(std::move(r));
  }
  auto state = core::State::restore(room_total + 1, std::move(servers), std::move(rooms));
  if (!state) {
    std::fprintf(stderr, "restore_bench: %s\n", state.error().text.c_str());
    return 1;
  }
  const std::string bytes = json::encode_binary_snapshot(*state);
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  std::printf("wrote %s: %lld rooms, %zu bytes\n", path, static_cast<long long>(room_total),
              bytes.size());
  return 0;
}

int read_snapshot(const char* path) {
  const long rss0 = rss_kib();
  const auto [cpu0, faults0] = cpu_and_faults();
  const auto t0 = Steady::now();
  std::string bytes;
  {
    // Sized once and read whole, as the store reads a snapshot file (huge pages included).
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    bytes.reserve(static_cast<std::size_t>(in.tellg()));
    posix::advise_huge_pages(bytes.data(), bytes.capacity());
    bytes.resize(bytes.capacity());
    in.seekg(0);
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!in) {
      std::fprintf(stderr, "restore_bench: cannot read %s\n", path);
      return 1;
    }
  }
  const double read_s = seconds_since(t0);
  const long rss_file = rss_kib();
  const auto t1 = Steady::now();
  auto state = json::decode_stored_snapshot(bytes);
  const double decode_s = seconds_since(t1);
  const auto [cpu1, faults1] = cpu_and_faults();
  if (!state) {
    std::fprintf(stderr, "restore_bench: %s\n", state.error().text.c_str());
    return 1;
  }
  // What Service::restore adds before the restart is ready: the lifecycle's due index.
  const auto t2 = Steady::now();
  state->enable_lifecycle(std::chrono::minutes{10});
  const double lifecycle_s = seconds_since(t2);
  const long rss_decoded = rss_kib();
  const std::size_t file_bytes = bytes.size();
  std::string().swap(bytes);
  const long rss_state = rss_kib();
  // Every room is found by its uid (what a restart must keep: every acknowledged room listed).
  std::size_t found = 0;
  for (const core::Room* room : state->rooms_in_order()) found += state->room(room->uid) == room;
  const std::size_t rooms = state->room_count();
  if (found != rooms) {
    std::fprintf(stderr, "restore_bench: %zu of %zu rooms found by uid\n", found, rooms);
    return 1;
  }
  std::printf(
      "rooms=%zu live=%zu file_bytes=%zu read_s=%.3f decode_restore_s=%.3f cpu_s=%.3f "
      "page_faults=%ld lifecycle_s=%.3f rss_file_MiB=%.0f rss_decoded_MiB=%.0f "
      "state_B_per_room=%.0f\n",
      rooms, state->live_room_count(), file_bytes, read_s, decode_s, cpu1 - cpu0, faults1 - faults0,
      lifecycle_s, static_cast<double>(rss_file - rss0) / 1024,
      static_cast<double>(rss_decoded - rss0) / 1024,
      static_cast<double>(rss_state - rss0) * 1024 / static_cast<double>(rooms));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "write" && argc >= 3 && argc <= 5) {
    return write_snapshot(argv[2], argc > 3 ? std::atoll(argv[3]) : 500000,
                          argc > 4 && std::string(argv[4]) == "spread");
  }
  if (mode == "read" && argc == 3) return read_snapshot(argv[2]);
  std::fprintf(stderr,
               "usage: restore_bench write FILE [ROOMS] [spread] | restore_bench read FILE\n");
  return 2;
}
