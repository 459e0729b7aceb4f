// Integration tests: outcomes expire from the commands table inside the writer's commits.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "store_test_support.hpp"

using namespace roombus::sqlite;
using namespace roombus::sqlite::test;

namespace {

Batch outcomes_at(std::int64_t time, std::vector<std::string> ids) {
  Batch batch;
  for (auto& id : ids) batch.outcomes.push_back({id, "outcome of " + id, time});
  return batch;
}

std::vector<std::string> outcome_ids(EventStore& store) {
  std::vector<std::string> ids;
  store.for_each_outcome([&](const CommandOutcome& o) { ids.push_back(o.command_id); });
  return ids;
}

void shell(const std::filesystem::path& dir, const char* sql) {
  sqlite3* db = nullptr;
  const bool ok = sqlite3_open((dir / "roombus.db").c_str(), &db) == SQLITE_OK &&
                  sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
  sqlite3_close(db);
  if (!ok) throw std::runtime_error(std::string("shell failed: ") + sql);
}

EventStore::Options with_ttl(std::chrono::seconds ttl) {
  EventStore::Options options;
  options.outcome_ttl = ttl;
  return options;
}

}  // namespace

TEST_CASE("outcomes older than the TTL are deleted by later commits and events stay",
          "[sqlite][expiry]") {
  TempDir temp;
  auto store = EventStore::open(temp.dir(), with_ttl(std::chrono::seconds(100)));
  REQUIRE_FALSE(append_and_wait(*store, outcomes_at(1000, {"a"})));
  REQUIRE_FALSE(append_and_wait(*store, outcomes_at(1050, {"b"})));
  CHECK(outcome_ids(*store) == std::vector<std::string>{"a", "b"});

  // An outcome expires once it is 100 s old: at 1101, "a" (1000) has, "b" (1050) has not.
  REQUIRE_FALSE(append_and_wait(*store, outcomes_at(1101, {"c"})));
  CHECK(outcome_ids(*store) == std::vector<std::string>{"b", "c"});
  CHECK_FALSE(store->find_outcome("a"));
  CHECK(store->counters().outcomes_expired == 1);
  REQUIRE_FALSE(append_and_wait(*store, Batch{}));  // a barrier commits nothing, expires nothing
  CHECK(store->counters().outcomes_expired == 1);

  // An event's time moves the clock too; events themselves are never deleted.
  Batch event = make_batch(1, 1);
  event.events[0].time_unix = 1150;
  REQUIRE_FALSE(append_and_wait(*store, event));
  CHECK(outcome_ids(*store) == std::vector<std::string>{"c"});
  CHECK(replay_all(*store).size() == 1);

  // Times come back as written.
  std::int64_t time = 0;
  store->for_each_outcome([&](const CommandOutcome& o) { time = o.time_unix; });
  CHECK(time == 1101);
}

TEST_CASE("a backlog of expired outcomes is deleted a bounded number per commit",
          "[sqlite][expiry]") {
  TempDir temp;
  {
    // Written while nothing expires (as by a roombus that was down for a while).
    auto store = EventStore::open(temp.dir());
    std::vector<std::string> ids;
    for (int i = 0; i < 3000; ++i) ids.push_back("old-" + std::to_string(i));
    REQUIRE_FALSE(append_and_wait(*store, outcomes_at(10, ids)));
  }
  auto store = EventStore::open(temp.dir(), with_ttl(std::chrono::seconds(100)));
  std::vector<std::uint64_t> expired;
  for (int i = 0; i < 4; ++i) {
    REQUIRE_FALSE(append_and_wait(*store, outcomes_at(5000, {"new-" + std::to_string(i)})));
    expired.push_back(store->counters().outcomes_expired);
  }
  CHECK(expired == std::vector<std::uint64_t>{1024, 2048, 3000, 3000});
  CHECK(outcome_ids(*store) == std::vector<std::string>{"new-0", "new-1", "new-2", "new-3"});
}

TEST_CASE("without a TTL every outcome is kept", "[sqlite][expiry]") {
  TempDir temp;
  auto store = EventStore::open(temp.dir());
  REQUIRE_FALSE(append_and_wait(*store, outcomes_at(1, {"a"})));
  REQUIRE_FALSE(append_and_wait(*store, outcomes_at(1'000'000'000, {"b"})));
  CHECK(outcome_ids(*store) == std::vector<std::string>{"a", "b"});
}

TEST_CASE("a log of schema version 2 is upgraded and its outcomes dated at the upgrade",
          "[sqlite][expiry]") {
  TempDir temp;
  shell(temp.dir(), R"sql(
    PRAGMA journal_mode=WAL;
    CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE events(position INTEGER PRIMARY KEY, aggregate TEXT NOT NULL,
      version INTEGER NOT NULL, command_id TEXT NOT NULL, time INTEGER NOT NULL,
      type TEXT NOT NULL, payload BLOB NOT NULL);
    CREATE TABLE commands(seq INTEGER PRIMARY KEY, command_id TEXT NOT NULL, position INTEGER,
      outcome BLOB NOT NULL);
    INSERT INTO meta VALUES('schema_version', '2');
    INSERT INTO events VALUES(1, 'room-1', 1, 'cmd-a', 1700000001, 'room.created', '{}');
    INSERT INTO commands(command_id, position, outcome) VALUES('cmd-a', 1, 'first');
    INSERT INTO commands(command_id, position, outcome) VALUES('cmd-b', NULL, 'second');
  )sql");
  {
    // A reader looks without upgrading; it has no times to give.
    auto reader = EventStore::open_read_only(temp.dir());
    std::vector<std::int64_t> times;
    reader->for_each_outcome([&](const CommandOutcome& o) { times.push_back(o.time_unix); });
    CHECK(times == std::vector<std::int64_t>{0, 0});
  }
  const auto before = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  LogCapture log;
  auto store = EventStore::open(temp.dir(), log.options());
  const auto after = std::chrono::system_clock::now();
  CHECK(log.contains("upgraded from schema version 2 to 3"));
  std::vector<std::string> ids;
  store->for_each_outcome([&](const CommandOutcome& o) {
    ids.push_back(o.command_id);
    CHECK(o.time_unix >= before.time_since_epoch().count());
    CHECK(o.time_unix <=
          std::chrono::duration_cast<std::chrono::seconds>(after.time_since_epoch()).count());
  });
  CHECK(ids == std::vector<std::string>{"cmd-a", "cmd-b"});
  CHECK(replay_all(*store).size() == 1);
  REQUIRE_FALSE(append_and_wait(*store, outcomes_at(1, {"cmd-c"})));
  CHECK(store->find_outcome("cmd-c") == "outcome of cmd-c");
}
