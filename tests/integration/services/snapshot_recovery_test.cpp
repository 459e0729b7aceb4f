// Recovery from the store's snapshot files: binary, JSON from before the binary format, damaged.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "integration/sqlite/store_test_support.hpp"
#include "roombus/eventlog/durable_log.hpp"
#include "roombus/eventlog/records.hpp"
#include "roombus/eventlog/store_reader.hpp"
#include "roombus/eventlog/store_snapshots.hpp"
#include "roombus/json/snapshot_binary.hpp"
#include "roombus/json/snapshot_codec.hpp"
#include "roombus/services/recovery.hpp"
#include "roombus/services/snapshotter.hpp"
#include "support/core_fakes.hpp"
#include "support/eventually.hpp"
#include "support/store_recovery.hpp"

using namespace roombus;
using roombus::sqlite::test::LogCapture;
using roombus::sqlite::test::TempDir;

namespace {

// A history in the core (rooms, a clone, a deleted server, a lifecycle stage), written to a store
// event by event; `at(k)` is the state after the first k events, as a snapshot of k holds it.
struct StoredHistory {
  TempDir temp;
  LogCapture store_log;
  std::unique_ptr<sqlite::EventStore> store;
  testing::World w;

  StoredHistory() {
    auto proto = w.register_server("meet.example.com", {"alice@x.de", "@corp.example"}, true);
    for (int i = 0; i < 6; ++i) {
      w.create_room(proto.key, "meet.example.com", "alice@x.de", "2021-02-02T13:20", "30");
    }
    auto cloned = w.run(core::CloneServer{proto.key, "meet2.example.com", "Two", "", ""});
    REQUIRE(cloned.ok());
    auto spare = w.register_server("spare.example.com", {});
    REQUIRE(w.run(core::DeleteServer{spare.id}).ok());
    w.clock.set(testing::at(2021, 2, 2, 12, 20));
    REQUIRE(w.run(core::Tick{}).ok());
    for (int i = 0; i < 4; ++i) {
      w.create_room(proto.key, "meet.example.com", "alice@x.de", "2021-02-05T09:00", "60");
    }
    store = sqlite::EventStore::open(temp.dir(), store_log.options());
    sqlite::Batch batch;
    for (const core::Event& e : w.log.appended) batch.events.push_back(eventlog::to_stored(e));
    REQUIRE_FALSE(sqlite::test::append_and_wait(*store, std::move(batch)));
  }

  std::int64_t events() const { return static_cast<std::int64_t>(w.log.appended.size()); }

  core::State at(std::int64_t k) const {
    core::State state;
    for (std::int64_t i = 0; i < k; ++i) state.apply(w.log.appended[static_cast<std::size_t>(i)]);
    return state;
  }

  void snapshot(std::int64_t k, std::string bytes) {
    REQUIRE_FALSE(sqlite::test::snapshot_and_wait(*store, k, std::move(bytes)));
  }

  std::filesystem::path snapshot_file(std::int64_t k) const {
    char name[64];
    std::snprintf(name, sizeof name, "snapshot-%020lld.bin", static_cast<long long>(k));
    return temp.dir() / "snapshots" / name;
  }
};

// A restarted service: the core's fakes, recovering from the store.
struct Restarted {
  testing::MemoryLog log;
  testing::FixedClock clock{testing::at(2021, 2, 2, 12, 20)};
  testing::SequenceIds ids;
  testing::PrefixHasher hasher;
  testing::FixedOffsetZone zone{"Europe/Berlin", std::chrono::minutes(60), "CET"};
  core::Service service{core::Service::Ports{&clock, &ids, &hasher, &zone, &log, {}}};
  std::vector<std::string> lines;

  services::Recovery recover(sqlite::EventStore& store) {
    return testing::recover_from(store, service,
                                 [this](std::string_view line) { lines.emplace_back(line); });
  }
  bool logged(std::string_view text) const {
    for (const std::string& line : lines) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }
};

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

}  // namespace

TEST_CASE("recovery starts from a binary snapshot and replays only the events after it",
          "[app][snapshot][recovery]") {
  StoredHistory h;
  const std::int64_t k = h.events() - 3;
  h.snapshot(k, json::encode_binary_snapshot(h.at(k)));

  Restarted r;
  const services::Recovery recovered = r.recover(*h.store);
  CHECK(recovered.snapshot_position == k);
  CHECK(recovered.snapshot_format == "binary");
  CHECK(recovered.events_replayed == 3);
  CHECK(r.service.state() == h.w.state());
  CHECK(r.lines.empty());
}

TEST_CASE("a JSON snapshot from before the binary format is restored once; the next is binary",
          "[app][snapshot][recovery]") {
  StoredHistory h;
  const std::int64_t k = h.events() - 2;
  h.snapshot(k, json::encode_snapshot(h.at(k)));

  Restarted r;
  const services::Recovery recovered = r.recover(*h.store);
  CHECK(recovered.snapshot_position == k);
  CHECK(recovered.snapshot_format == "json");
  CHECK(recovered.events_replayed == 2);
  CHECK(r.service.state() == h.w.state());
  CHECK(r.logged("restored the JSON snapshot at position " + std::to_string(k)));

  // The next snapshot the snapshotter writes is binary, and a restart starts from it.
  eventlog::StoreSnapshots snapshot_store(*h.store);
  services::Snapshotter snapshotter(snapshot_store, r.service.state(), 0, k, {});
  snapshotter.finish();
  REQUIRE(test::eventually([&] { return snapshotter.status().written == 1; }));
  CHECK(snapshotter.status().failures == 0);
  auto latest = h.store->load_latest_snapshot();
  REQUIRE(latest);
  CHECK(latest->position == h.events());
  CHECK(json::is_binary_snapshot(latest->bytes));

  Restarted again;
  const services::Recovery second = again.recover(*h.store);
  CHECK(second.snapshot_position == h.events());
  CHECK(second.snapshot_format == "binary");
  CHECK(second.events_replayed == 0);
  CHECK(again.service.state() == h.w.state());
}

TEST_CASE("a damaged snapshot falls back as before: an older file, or the whole log",
          "[app][snapshot][recovery]") {
  StoredHistory h;
  const std::int64_t older = h.events() - 5;
  const std::int64_t newest = h.events() - 1;
  h.snapshot(older, json::encode_binary_snapshot(h.at(older)));
  const std::string payload = json::encode_binary_snapshot(h.at(newest));

  SECTION("a corrupted byte in the file: the store skips it for the older one") {
    h.snapshot(newest, payload);
    std::string bytes = read_file(h.snapshot_file(newest));
    bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x20);
    write_file(h.snapshot_file(newest), bytes);
    Restarted r;
    const services::Recovery recovered = r.recover(*h.store);
    CHECK(recovered.snapshot_position == older);
    CHECK(recovered.events_replayed == 5);
    CHECK(r.service.state() == h.w.state());
    CHECK(h.store_log.contains("SHA-256 checksum mismatch"));
  }
  SECTION("a truncated file: the store skips it for the older one") {
    h.snapshot(newest, payload);
    const std::string bytes = read_file(h.snapshot_file(newest));
    write_file(h.snapshot_file(newest), bytes.substr(0, bytes.size() - 10));
    Restarted r;
    CHECK(r.recover(*h.store).snapshot_position == older);
    CHECK(r.service.state() == h.w.state());
    CHECK(h.store_log.contains("truncated"));
  }
  // The payloads below pass the file's checksum (the store wrote them as they are), as a
  // snapshot from a newer roombus would: the codec refuses them, and the log is replayed whole.
  SECTION("another binary format version") {
    std::string v2 = payload;
    v2[8] = 2;
    h.snapshot(newest, v2);
    Restarted r;
    const services::Recovery recovered = r.recover(*h.store);
    CHECK(recovered.snapshot_position == 0);
    CHECK(recovered.events_replayed == h.events());
    CHECK(r.service.state() == h.w.state());
    CHECK(r.logged("ignoring snapshot at position " + std::to_string(newest) +
                   ": snapshot: binary format version 2 is not supported (expected 1); "
                   "replaying the whole log"));
  }
  SECTION("a truncated payload") {
    h.snapshot(newest, payload.substr(0, payload.size() - 1));
    Restarted r;
    CHECK(r.recover(*h.store).snapshot_position == 0);
    CHECK(r.service.state() == h.w.state());
    CHECK(r.logged("bytes follow the servers at offset "));
    CHECK(r.logged("; replaying the whole log"));
  }
  SECTION("a payload of the position before its file's") {
    h.snapshot(newest, json::encode_binary_snapshot(h.at(newest - 1)));
    Restarted r;
    CHECK(r.recover(*h.store).snapshot_position == 0);
    CHECK(r.service.state() == h.w.state());
    CHECK(r.logged("it says position " + std::to_string(newest - 1)));
  }
}
