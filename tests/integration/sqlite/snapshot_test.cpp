// Snapshot files: round trip, retention, and every kind of bad file falling back to an older one.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <iterator>

#include "integration/sqlite/store_test_support.hpp"

namespace roombus::sqlite::test {
namespace {

std::filesystem::path snapshot_path(const std::filesystem::path& data_dir, std::int64_t position) {
  char name[64];
  std::snprintf(name, sizeof name, "snapshot-%020lld.bin", static_cast<long long>(position));
  return data_dir / "snapshots" / name;
}

std::vector<std::string> snapshot_names(const std::filesystem::path& data_dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(data_dir / "snapshots")) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// A store with `events` events and a snapshot at each of `positions`.
std::unique_ptr<EventStore> store_with_snapshots(const std::filesystem::path& dir,
                                                 std::int64_t events,
                                                 std::vector<std::int64_t> positions,
                                                 EventStore::Options options = {}) {
  auto store = EventStore::open(dir, std::move(options));
  REQUIRE_FALSE(append_and_wait(*store, make_batch(1, static_cast<int>(events))));
  for (const std::int64_t position : positions) {
    REQUIRE_FALSE(snapshot_and_wait(*store, position, "state@" + std::to_string(position)));
  }
  return store;
}

TEST_CASE("a snapshot is written as a file and loaded back", "[sqlite][snapshot]") {
  TempDir temp;
  auto store = store_with_snapshots(temp.dir(), 10, {10});
  CHECK(std::filesystem::exists(temp.dir() / "snapshots" / "snapshot-00000000000000000010.bin"));
  CHECK(store->counters().snapshots == 1);

  const auto snapshot = store->load_latest_snapshot();
  REQUIRE(snapshot);
  CHECK(snapshot->position == 10);
  CHECK(snapshot->bytes == "state@10");

  store->close();
  store = EventStore::open(temp.dir());
  const auto reloaded = store->load_latest_snapshot();
  REQUIRE(reloaded);
  CHECK(reloaded->bytes == "state@10");
}

TEST_CASE("no snapshot means none", "[sqlite][snapshot]") {
  TempDir temp;
  auto store = EventStore::open(temp.dir());
  CHECK_FALSE(store->load_latest_snapshot());
}

TEST_CASE("only the newest two snapshots are kept", "[sqlite][snapshot]") {
  TempDir temp;
  auto store = store_with_snapshots(temp.dir(), 9, {3, 6, 9});
  CHECK(snapshot_names(temp.dir()) ==
        std::vector<std::string>{"snapshot-00000000000000000006.bin",
                                 "snapshot-00000000000000000009.bin"});
  CHECK(store->load_latest_snapshot()->position == 9);
}

TEST_CASE("a bad newest snapshot is skipped, reported, and the older one used",
          "[sqlite][snapshot]") {
  TempDir temp;
  LogCapture log;
  auto store = store_with_snapshots(temp.dir(), 10, {5, 10}, log.options());
  const auto newest = snapshot_path(temp.dir(), 10);
  std::string bytes = read_file(newest);
  REQUIRE(bytes.size() == 64 + 8);

  SECTION("a flipped payload byte") {
    bytes[66] = static_cast<char>(bytes[66] ^ 0x01);
    write_file(newest, bytes);
    CHECK(store->load_latest_snapshot()->position == 5);
    CHECK(log.contains("checksum mismatch"));
    CHECK(log.contains(newest.string()));
  }
  SECTION("a flipped header byte") {
    bytes[1] = 'x';
    write_file(newest, bytes);
    CHECK(store->load_latest_snapshot()->position == 5);
    CHECK(log.contains("not a snapshot file"));
  }
  SECTION("another format version") {
    bytes[8] = 2;
    write_file(newest, bytes);
    CHECK(store->load_latest_snapshot()->position == 5);
    CHECK(log.contains("unsupported format version 2"));
  }
  SECTION("a truncated payload") {
    write_file(newest, bytes.substr(0, bytes.size() - 3));
    CHECK(store->load_latest_snapshot()->position == 5);
    CHECK(log.contains("truncated"));
  }
  SECTION("a truncated header") {
    write_file(newest, bytes.substr(0, 20));
    CHECK(store->load_latest_snapshot()->position == 5);
    CHECK(log.contains("shorter than the header"));
  }
  SECTION("an empty file") {
    write_file(newest, "");
    CHECK(store->load_latest_snapshot()->position == 5);
  }
  SECTION("a file renamed to another position") {
    std::filesystem::rename(newest, snapshot_path(temp.dir(), 7));
    CHECK(store->load_latest_snapshot()->position == 5);
    CHECK(log.contains("header says position 10"));
  }
  SECTION("both bad: nothing, so the caller replays everything") {
    write_file(newest, "");
    write_file(snapshot_path(temp.dir(), 5), "");
    CHECK_FALSE(store->load_latest_snapshot());
  }
}

TEST_CASE("a snapshot beyond the log's last position is ignored", "[sqlite][snapshot]") {
  TempDir temp;
  const auto long_log = temp.dir() / "long";
  const auto short_log = temp.dir() / "short";
  store_with_snapshots(long_log, 10, {10}).reset();

  LogCapture log;
  auto store = store_with_snapshots(short_log, 5, {4}, log.options());
  std::filesystem::copy_file(snapshot_path(long_log, 10), snapshot_path(short_log, 10));

  const auto snapshot = store->load_latest_snapshot();
  REQUIRE(snapshot);
  CHECK(snapshot->position == 4);
  CHECK(log.contains("beyond the log's last position 5"));
}

TEST_CASE("a snapshot waits until its position is durable", "[sqlite][snapshot]") {
  TempDir temp;
  auto store = EventStore::open(temp.dir());
  CHECK_THROWS_AS(store->write_snapshot(1, "ahead of every append"), std::logic_error);
  CHECK_THROWS_AS(store->write_snapshot(-1, "negative"), std::logic_error);

  SECTION("it is written after its events commit") {
    store->append(make_batch(1, 100), {});
    CHECK_FALSE(snapshot_and_wait(*store, 100, "state"));
    CHECK(store->last_position() == 100);
    CHECK(store->load_latest_snapshot()->position == 100);
  }
  SECTION("it is dropped when its events never commit") {
    LogCapture log;
    store = EventStore::open(temp.dir() / "other", log.options());
    REQUIRE_FALSE(append_and_wait(*store, make_batch(1, 1)));
    install_poison_trigger(temp.dir() / "other");
    Batch failing;
    failing.events.push_back(make_poisoned_event(2));
    std::error_code snapshot_result;
    store->append(std::move(failing), {});
    store->write_snapshot(2, "never durable", [&](std::error_code ec) { snapshot_result = ec; });
    store->close();
    CHECK(snapshot_result == StoreErrc::stopped);
    CHECK(snapshot_names(temp.dir() / "other").empty());
  }
}

TEST_CASE("leftover temporary snapshot files are removed at open", "[sqlite][snapshot]") {
  TempDir temp;
  EventStore::open(temp.dir()).reset();
  const auto leftover = temp.dir() / "snapshots" / "snapshot-00000000000000000003.bin.tmp";
  write_file(leftover, "half written");
  auto store = EventStore::open(temp.dir());
  CHECK_FALSE(std::filesystem::exists(leftover));
  CHECK_FALSE(store->load_latest_snapshot());
}

}  // namespace
}  // namespace roombus::sqlite::test
