// DurableLog and the Snapshotter on a real event store: replies after commits, encoding off the
// loop, fail-stop, snapshots by a forked child and their failures.
#include "roombus/eventlog/durable_log.hpp"

#include <sqlite3.h>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "integration/sqlite/store_test_support.hpp"
#include "roombus/eventlog/records.hpp"
#include "roombus/eventlog/store_reader.hpp"
#include "roombus/eventlog/store_snapshots.hpp"
#include "roombus/json/event_codec.hpp"
#include "roombus/json/snapshot_binary.hpp"
#include "roombus/services/recovery.hpp"
#include "roombus/services/snapshotter.hpp"
#include "support/core_fakes.hpp"
#include "support/eventually.hpp"
#include "support/store_recovery.hpp"

using namespace roombus;
using roombus::sqlite::test::TempDir;
using namespace std::chrono_literals;

namespace {

// The core wired to a DurableLog on a store in a temp dir; the io_context runs on the test's
// thread, so `run()` is where completions arrive.
struct DurableWorld {
  TempDir temp;
  std::unique_ptr<sqlite::EventStore> store = sqlite::EventStore::open(temp.dir());
  asio::io_context io{1};
  std::vector<std::string> fatal;
  eventlog::DurableLog log{io, *store, [this](const std::string& why) { fatal.push_back(why); }};
  testing::FixedClock clock{testing::at(2021, 2, 2, 12)};
  testing::SequenceIds ids;
  testing::PrefixHasher hasher;
  testing::FixedOffsetZone zone{"Europe/Berlin", std::chrono::minutes(60), "CET"};
  core::Service service{core::Service::Ports{&clock, &ids, &hasher, &zone, &log, {}}};

  std::optional<core::Result<core::Decision>> submit(
      const core::Command& command, const std::string& id,
      core::Service::Id kind = core::Service::Id::generated, const std::string& fingerprint = "") {
    std::optional<core::Result<core::Decision>> outcome;
    service.submit(
        id, command, [&](const core::Result<core::Decision>& r) { outcome = r; }, kind,
        fingerprint);
    // The writer thread posts the completion later: keep the loop waiting for it.
    auto guard = asio::make_work_guard(io);
    io.restart();
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!outcome && std::chrono::steady_clock::now() < give_up) {
      io.run_one_for(std::chrono::milliseconds(100));
    }
    return outcome;
  }

  // Registers meet.example.com (generated id) and returns its API key.
  std::string register_meet();
  // Creates `n` rooms (generated ids "cmd-room-<i>") on meet.example.com with `key`.
  void create_rooms(const std::string& key, int n);

  // Every event of the store, decoded.
  std::vector<core::Event> logged_events() {
    std::vector<core::Event> events;
    store->replay(0, [&](const sqlite::StoredEvent& e) {
      events.push_back(json::decode_event_payload(e.payload).value());
    });
    return events;
  }
};

core::RegisterServer meet() {
  core::RegisterServer c;
  c.url = "meet.example.com";
  c.name = "Meet";
  c.members = {"alice@x.de"};
  return c;
}

std::string DurableWorld::register_meet() {
  auto registered = submit(meet(), "cmd-1");
  REQUIRE(registered);
  REQUIRE(registered->ok());
  return *(*registered)->reply.api_key;
}

void DurableWorld::create_rooms(const std::string& key, int n) {
  for (int i = 0; i < n; ++i) {
    auto created = submit(
        core::CreateRoom{key, "meet.example.com", "alice@x.de", "Daily", "2021-02-10T13:00", "45"},
        "cmd-room-" + std::to_string(i));
    REQUIRE(created);
    REQUIRE(created->ok());
  }
}

}  // namespace

TEST_CASE("a durable log answers after the commit with the events encoded in the store",
          "[app][durable]") {
  DurableWorld w;
  auto registered = w.submit(meet(), "cmd-1");
  REQUIRE(registered);
  REQUIRE(registered->ok());
  auto created = w.submit(core::CreateRoom{*(*registered)->reply.api_key, "meet.example.com",
                                           "alice@x.de", "Daily", "2021-02-10T13:00", "45"},
                          "cmd-2");
  REQUIRE(created);
  REQUIRE(created->ok());
  CHECK(w.store->last_position() == 2);
  std::vector<sqlite::StoredEvent> stored;
  w.store->replay(0, [&](const sqlite::StoredEvent& e) { stored.push_back(e); });
  REQUIRE(stored.size() == 2);
  CHECK(stored[1].type == "room.created");
  CHECK(stored[1].command_id == "cmd-2");
  auto decoded = json::decode_event_payload(stored[1].payload);
  REQUIRE(decoded);
  CHECK(decoded->position == 2);
  CHECK(w.fatal.empty());
}

TEST_CASE("an append the store refuses is answered with an error and stops the process once",
          "[app][durable]") {
  DurableWorld w;
  w.store->close();  // every append is refused from now on
  auto first = w.submit(meet(), "cmd-1");
  REQUIRE(first);
  REQUIRE_FALSE(first->ok());
  CHECK(first->error().code == core::Errc::storage_failed);
  core::RegisterServer other = meet();
  other.url = "other.example.com";
  auto second = w.submit(other, "cmd-2");
  REQUIRE(second);
  CHECK_FALSE(second->ok());
  REQUIRE(w.fatal.size() == 1);  // once, however many callers were refused
  CHECK(w.fatal.front().find("refused an append") != std::string::npos);
}

TEST_CASE("a snapshot that cannot be written is logged, counted, and retried until it is",
          "[app][snapshot]") {
  DurableWorld w;
  w.create_rooms(w.register_meet(), 3);
  const std::vector<core::Event> events = w.logged_events();
  REQUIRE(events.size() == 4);

  std::mutex mutex;
  std::vector<std::string> lines;
  core::State state;  // the state the child forked from writes: here the test's own
  eventlog::StoreSnapshots snapshot_store(*w.store);
  services::Snapshotter snapshotter(snapshot_store, state, 2, 0, [&](std::string_view line) {
    std::lock_guard lock(mutex);
    lines.emplace_back(line);
  });
  auto logged = [&](std::string_view text) {
    std::lock_guard lock(mutex);
    return !lines.empty() && lines.back().find(text) != std::string::npos;
  };
  // The snapshot directory turns into a file: every snapshot write fails, as on a broken disk.
  const auto dir = w.temp.dir() / "snapshots";
  std::filesystem::remove_all(dir);
  std::ofstream(dir) << "not a directory";

  state.apply(events[0]);
  state.apply(events[1]);
  const auto asked = std::chrono::steady_clock::now();  // the failure, and its delay, come later
  snapshotter.check_due(2);  // 2 durable events: a snapshot is due at position 2
  REQUIRE(test::eventually([&] { return snapshotter.status().failures == 1; }));
  CHECK(snapshotter.status().consecutive_failures == 1);
  CHECK(snapshotter.status().attempts == 1);
  // The child's own words come back through its pipe.
  CHECK(snapshotter.status().last_error.find("Not a directory") != std::string::npos);
  CHECK(logged("snapshot at position 2 failed"));
  CHECK(logged("next attempt in 1 s"));
  // Not again before the delay, however many events come: a check starts no child. (Assertable
  // only while a second since `asked` has not passed: a busy machine may get here later.)
  state.apply(events[2]);
  snapshotter.check_due(3);
  if (std::chrono::steady_clock::now() - asked < 1s) {
    CHECK(snapshotter.status().attempts == 1);
  }
  // Repaired; a check after the retry delay writes one, though none is due by count.
  std::filesystem::remove(dir);
  std::filesystem::create_directories(dir);
  REQUIRE(test::eventually([&] {
    snapshotter.check_due(3);
    return snapshotter.status().written == 1;
  }));
  CHECK(snapshotter.status().consecutive_failures == 0);
  CHECK(snapshotter.status().last_position == 3);
  auto latest = w.store->load_latest_snapshot();
  REQUIRE(latest);
  CHECK(latest->position == 3);
}

TEST_CASE("a snapshot is the state as it was at the fork, whatever the parent does after",
          "[app][snapshot]") {
  DurableWorld w;
  w.create_rooms(w.register_meet(), 300);
  const std::vector<core::Event> events = w.logged_events();
  REQUIRE(events.size() == 301);

  core::State state;
  for (std::size_t i = 0; i < 200; ++i) state.apply(events[i]);
  const core::State at_fork = state;
  eventlog::StoreSnapshots snapshot_store(*w.store);
  services::Snapshotter snapshotter(snapshot_store, state, 100, 0, {});
  snapshotter.check_due(200);
  // The parent goes on changing the state while the child writes the one it forked.
  for (std::size_t i = 200; i < events.size(); ++i) state.apply(events[i]);
  REQUIRE(test::eventually([&] { return snapshotter.status().written == 1; }));
  const services::SnapshotterStatus status = snapshotter.status();
  REQUIRE(status.written == 1);
  CHECK(status.failures == 0);
  CHECK(status.last_position == 200);
  CHECK(status.last_child_max_rss_kib > 0);
  auto latest = w.store->load_latest_snapshot();
  REQUIRE(latest);
  CHECK(latest->position == 200);
  auto decoded = json::decode_stored_snapshot(latest->bytes);
  REQUIRE(decoded.ok());
  CHECK(*decoded == at_fork);
  CHECK_FALSE(*decoded == state);
  // No temp file is left beside it.
  for (const auto& entry : std::filesystem::directory_iterator(w.temp.dir() / "snapshots")) {
    CHECK(entry.path().extension() == ".bin");
  }
}

TEST_CASE("finish writes a last snapshot of what happened since the previous one, and waits",
          "[app][snapshot]") {
  DurableWorld w;
  w.register_meet();
  const std::vector<core::Event> events = w.logged_events();
  core::State state;
  state.apply(events.at(0));
  eventlog::StoreSnapshots snapshot_store(*w.store);
  services::Snapshotter snapshotter(snapshot_store, state, 0, 0, {});  // 0: no periodic snapshots
  snapshotter.check_due(1);
  CHECK(snapshotter.status().written == 0);
  snapshotter.finish();
  w.store->close();  // publishes what was adopted
  CHECK(snapshotter.status().written == 1);
  CHECK(snapshotter.status().last_position == 1);
}

TEST_CASE("outcomes are stored with time and fingerprint and recovered until they expire",
          "[app][durable][idempotency]") {
  DurableWorld w;
  auto first = w.submit(meet(), "idem:reg", core::Service::Id::chosen, "fp-meet");
  REQUIRE(first);
  REQUIRE(first->ok());
  std::vector<sqlite::CommandOutcome> rows;
  w.store->for_each_outcome([&](const sqlite::CommandOutcome& o) { rows.push_back(o); });
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].time_unix == w.clock.now().time_since_epoch().count());
  CHECK(rows[0].outcome.find(R"("fingerprint":"fp-meet")") != std::string::npos);

  auto recovered = [&](std::chrono::seconds later) {
    testing::MemoryLog log;
    testing::FixedClock clock{w.clock.now() + later};
    core::Service again{core::Service::Ports{&clock, &w.ids, &w.hasher, &w.zone, &log, {}},
                        core::Service::Options{std::chrono::hours(24)}};
    testing::recover_from(*w.store, again, [](std::string_view) {});
    testing::recover_outcomes_from(*w.store, again);
    std::optional<core::Result<core::Decision>> repeat;
    core::RegisterServer other = meet();
    other.url = "other.example.com";
    again.submit(
        "idem:reg", other, [&](const core::Result<core::Decision>& r) { repeat = r; },
        core::Service::Id::chosen, "fp-other");
    return repeat;
  };
  auto within = recovered(std::chrono::hours(23));
  REQUIRE(within);
  REQUIRE_FALSE(within->ok());
  CHECK(within->error().code == core::Errc::command_id_reused);
  auto after = recovered(std::chrono::hours(24));
  REQUIRE(after);
  CHECK(after->ok());  // forgotten: the id runs as a new command
}

TEST_CASE(
    "a keyed rejection becomes durable as an outcome of its own and is replayed after a "
    "restart",
    "[app][durable][idempotency]") {
  DurableWorld w;
  const std::string key = w.register_meet();
  const std::size_t events_before = w.logged_events().size();
  // A valid key and a duration that is no number: rejected, with nothing to log but the outcome.
  const core::CreateRoom bad{key,     "meet.example.com", "alice@x.de",
                             "Daily", "2021-02-10T13:00", "soon"};
  auto rejected = w.submit(bad, "idem:bad", core::Service::Id::chosen, "fp-bad");
  REQUIRE(rejected);
  REQUIRE_FALSE(rejected->ok());
  CHECK(w.logged_events().size() == events_before);
  std::vector<sqlite::CommandOutcome> rows;
  w.store->for_each_outcome([&](const sqlite::CommandOutcome& o) { rows.push_back(o); });
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].command_id == "idem:bad");
  CHECK(rows[0].outcome.find(R"("fingerprint":"fp-bad")") != std::string::npos);

  testing::MemoryLog log;
  core::Service again{core::Service::Ports{&w.clock, &w.ids, &w.hasher, &w.zone, &log, {}}};
  testing::recover_from(*w.store, again, [](std::string_view) {});
  testing::recover_outcomes_from(*w.store, again);
  std::optional<core::Result<core::Decision>> repeat;
  again.submit(
      "idem:bad", bad, [&](const core::Result<core::Decision>& r) { repeat = r; },
      core::Service::Id::chosen, "fp-bad");
  REQUIRE(repeat);
  REQUIRE_FALSE(repeat->ok());
  CHECK(repeat->error().code == rejected->error().code);
  CHECK(repeat->error().text == rejected->error().text);
  CHECK(log.outcomes.empty());  // answered from the recovered outcome, not decided again
}

TEST_CASE("a log written before outcomes expired still recovers its outcomes",
          "[app][durable][idempotency]") {
  TempDir temp;
  {
    // Schema version 2 and the outcome JSON the previous release wrote (no time, no fingerprint).
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((temp.dir() / "roombus.db").c_str(), &db) == SQLITE_OK);
    const char* sql = R"sql(
      PRAGMA journal_mode=WAL;
      CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE events(position INTEGER PRIMARY KEY, aggregate TEXT NOT NULL,
        version INTEGER NOT NULL, command_id TEXT NOT NULL, time INTEGER NOT NULL,
        type TEXT NOT NULL, payload BLOB NOT NULL);
      CREATE TABLE commands(seq INTEGER PRIMARY KEY, command_id TEXT NOT NULL,
        position INTEGER, outcome BLOB NOT NULL);
      INSERT INTO meta VALUES('schema_version', '2');
      INSERT INTO commands(command_id, position, outcome) VALUES('idem:old', NULL,
        '{"error":{"code":"room_not_found","text":"no room 42"}}');
    )sql";
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
    sqlite3_close(db);
    REQUIRE(rc == SQLITE_OK);
  }
  auto store = sqlite::EventStore::open(temp.dir());
  testing::MemoryLog log;
  testing::FixedClock clock{testing::at(2021, 2, 2, 12)};
  testing::SequenceIds ids;
  testing::PrefixHasher hasher;
  testing::FixedOffsetZone zone{"UTC", std::chrono::minutes(0), "UTC"};
  core::Service service{core::Service::Ports{&clock, &ids, &hasher, &zone, &log, {}}};
  testing::recover_from(*store, service, [](std::string_view) {});
  CHECK(testing::recover_outcomes_from(*store, service) == 1);
  std::optional<core::Result<core::Decision>> repeat;
  service.submit(
      "idem:old", core::DeleteRoom{"k", "u"},
      [&](const core::Result<core::Decision>& result) { repeat = result; },
      core::Service::Id::chosen, "any-fingerprint");
  REQUIRE(repeat);
  REQUIRE_FALSE(repeat->ok());
  CHECK(repeat->error().text == "no room 42");
}

TEST_CASE("outcomes load after start-up: keyed commands wait for them, others do not",
          "[app][durable][idempotency]") {
  DurableWorld w;
  const std::string key = w.register_meet();
  // More than one batch of outcomes (1,024), each under a chosen id.
  constexpr int kRooms = 1100;
  std::string first_uid;
  for (int i = 0; i < kRooms; ++i) {
    auto created = w.submit(
        core::CreateRoom{key, "meet.example.com", "alice@x.de", "Daily", "2021-02-10T13:00", "45"},
        "idem:" + std::to_string(i), core::Service::Id::chosen, "fp");
    REQUIRE(created);
    REQUIRE(created->ok());
    if (i == 0) first_uid = (*created)->reply.room_uid;
  }

  struct Restarted {
    asio::io_context io{1};
    testing::MemoryLog log;
    testing::FixedClock clock{testing::at(2021, 2, 2, 12)};
    testing::SequenceIds ids;
    testing::PrefixHasher hasher;
    testing::FixedOffsetZone zone{"UTC", std::chrono::minutes(0), "UTC"};
    core::Service service{core::Service::Ports{&clock, &ids, &hasher, &zone, &log, {}},
                          core::Service::Options{std::chrono::hours(24)}};
    std::vector<std::string> failures;
  };
  auto run_until = [](Restarted& r, const services::OutcomeLoader& loader) {
    auto guard = asio::make_work_guard(r.io);
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!loader.done() && std::chrono::steady_clock::now() < give_up) {
      r.io.run_one_for(std::chrono::milliseconds(100));
    }
  };
  const core::CreateRoom again_create{key,     "meet.example.com", "alice@x.de",
                                      "Daily", "2021-02-10T13:00", "45"};

  SECTION("loaded: the repeat gets its first answer once they are in") {
    Restarted r;
    testing::recover_from(*w.store, r.service, [](std::string_view) {});
    eventlog::StoreReader reader(*w.store);
    services::OutcomeLoader loader(r.io, reader, r.service, {},
                                   [&](const std::string& why) { r.failures.push_back(why); });
    loader.start();
    std::optional<core::Result<core::Decision>> repeat, generated;
    r.service.submit(
        "idem:0", again_create, [&](const core::Result<core::Decision>& d) { repeat = d; },
        core::Service::Id::chosen, "fp");
    r.service.submit("once", core::DeleteRoom{key, "0123456789abcdef0123456789abcdef"},
                     [&](const core::Result<core::Decision>& d) { generated = d; });
    CHECK_FALSE(repeat);  // waits for the outcomes
    CHECK(generated);     // a rejection with a generated id answers at once
    run_until(r, loader);
    REQUIRE(loader.done());
    CHECK(r.failures.empty());
    CHECK_FALSE(r.service.recovering_outcomes());
    CHECK(r.service.remembered_outcomes() == kRooms);
    REQUIRE(repeat);
    REQUIRE(repeat->ok());
    CHECK((*repeat)->reply.room_uid == first_uid);
    CHECK(r.service.state().room_count() == kRooms);  // nothing ran twice
  }

  SECTION("an outcome that does not decode: the waiting are answered 503, the process stops") {
    {
      sqlite3* db = nullptr;
      REQUIRE(sqlite3_open((w.temp.dir() / "roombus.db").c_str(), &db) == SQLITE_OK);
      const int rc = sqlite3_exec(
          db,
          "UPDATE commands SET outcome = '{not json' WHERE rowid = (SELECT max(rowid) FROM "
          "commands)",
          nullptr, nullptr, nullptr);
      sqlite3_close(db);
      REQUIRE(rc == SQLITE_OK);
    }
    Restarted r;
    testing::recover_from(*w.store, r.service, [](std::string_view) {});
    eventlog::StoreReader reader(*w.store);
    services::OutcomeLoader loader(r.io, reader, r.service, {},
                                   [&](const std::string& why) { r.failures.push_back(why); });
    loader.start();
    std::optional<core::Result<core::Decision>> repeat;
    r.service.submit(
        "idem:0", again_create, [&](const core::Result<core::Decision>& d) { repeat = d; },
        core::Service::Id::chosen, "fp");
    run_until(r, loader);
    REQUIRE(loader.done());
    REQUIRE(r.failures.size() == 1);
    CHECK(r.failures[0].find("cannot be decoded") != std::string::npos);
    REQUIRE(repeat);
    REQUIRE_FALSE(repeat->ok());
    CHECK(repeat->error().code == core::Errc::storage_failed);
    CHECK(r.service.state().room_count() == kRooms);
  }
}
