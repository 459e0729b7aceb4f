// Event store on disk: round trips, group commit, idempotency, locking, errors, checkpoints.
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "integration/sqlite/store_test_support.hpp"
#include "support/eventually.hpp"

namespace roombus::sqlite::test {
namespace {

TEST_CASE("appended events replay in order with every field intact", "[sqlite]") {
  TempDir temp;
  auto store = EventStore::open(temp.dir());
  CHECK(store->last_position() == 0);

  Batch first = make_batch(1, 2);
  first.events[0].payload = std::string("binary\0payload\xff", 16);
  first.events[1].payload.clear();
  CHECK_FALSE(append_and_wait(*store, first));
  CHECK_FALSE(append_and_wait(*store, make_batch(3, 3)));

  const auto events = replay_all(*store);
  REQUIRE(events.size() == 5);
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto expected = i < 2 ? first.events[i] : make_event(static_cast<std::int64_t>(i) + 1);
    CHECK(events[i].position == expected.position);
    CHECK(events[i].aggregate == expected.aggregate);
    CHECK(events[i].version == expected.version);
    CHECK(events[i].command_id == expected.command_id);
    CHECK(events[i].time_unix == expected.time_unix);
    CHECK(events[i].type == expected.type);
    CHECK(events[i].payload == expected.payload);
  }
  CHECK(store->last_position() == 5);

  const auto tail = replay_all(*store, 3);
  REQUIRE(tail.size() == 2);
  CHECK(tail.front().position == 4);
  CHECK(replay_all(*store, 5).empty());
}

TEST_CASE("replay with a limit streams at most that many events from the position asked",
          "[sqlite]") {
  TempDir temp;
  auto store = EventStore::open(temp.dir());
  REQUIRE_FALSE(append_and_wait(*store, make_batch(1, 10)));
  std::vector<std::int64_t> seen;
  store->replay(
      3, [&](const StoredEvent& e) { seen.push_back(e.position); }, 4);
  CHECK(seen == std::vector<std::int64_t>{4, 5, 6, 7});
  seen.clear();
  store->replay(
      8, [&](const StoredEvent& e) { seen.push_back(e.position); }, 100);
  CHECK(seen == std::vector<std::int64_t>{9, 10});
}

TEST_CASE("cursors are durable with the next commit and survive a reopen", "[sqlite]") {
  TempDir temp;
  std::string id;
  {
    auto store = EventStore::open(temp.dir());
    CHECK(store->cursor("kafka_relay") == 0);
    Batch events = make_batch(1, 3);
    events.cursors.emplace_back("kafka_relay", 2);
    REQUIRE_FALSE(append_and_wait(*store, std::move(events)));
    CHECK(store->cursor("kafka_relay") == 2);
    // A batch of cursors alone is a transaction of its own; the last value set wins.
    Batch only_cursors;
    only_cursors.cursors.emplace_back("kafka_relay", 3);
    only_cursors.cursors.emplace_back("other", 1);
    REQUIRE_FALSE(append_and_wait(*store, std::move(only_cursors)));
    CHECK(store->cursor("kafka_relay") == 3);
    CHECK(store->cursor("other") == 1);
    id = store->log_id();
  }
  auto store = EventStore::open(temp.dir());
  CHECK(store->cursor("kafka_relay") == 3);
  CHECK(store->last_position() == 3);
  CHECK(store->log_id() == id);
}

TEST_CASE("every log has a random id of its own that a read-only store sees too", "[sqlite]") {
  TempDir a;
  TempDir b;
  std::string id_a;
  {
    auto store = EventStore::open(a.dir());
    id_a = store->log_id();
  }
  auto store_b = EventStore::open(b.dir());
  CHECK(id_a.size() == 32);
  CHECK(id_a.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(store_b->log_id() != id_a);
  auto reader = EventStore::open_read_only(a.dir());
  CHECK(reader->log_id() == id_a);
}

TEST_CASE("concurrent appends are grouped into few transactions, callbacks once and in order",
          "[sqlite]") {
  TempDir temp;
  auto store = EventStore::open(temp.dir());
  constexpr int kThreads = 8;
  constexpr int kBatchesPerThread = 500;
  constexpr int kTotal = kThreads * kBatchesPerThread;

  std::mutex order_mutex;  // makes "take the next position" and "append" one step
  std::int64_t next_position = 1;

  std::mutex done_mutex;
  std::condition_variable done_cv;
  std::vector<std::int64_t> completed;
  std::vector<std::thread::id> callback_threads;
  int errors = 0;

  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&] {
      for (int i = 0; i < kBatchesPerThread; ++i) {
        std::lock_guard order(order_mutex);
        const std::int64_t position = next_position++;
        store->append(make_batch(position, 1), [&, position](std::error_code ec) {
          std::lock_guard lock(done_mutex);
          if (ec) ++errors;
          completed.push_back(position);
          callback_threads.push_back(std::this_thread::get_id());
          done_cv.notify_all();
        });
      }
    });
  }
  for (auto& producer : producers) producer.join();
  {
    std::unique_lock lock(done_mutex);
    done_cv.wait(lock, [&] { return completed.size() == kTotal; });
  }

  CHECK(errors == 0);
  REQUIRE(completed.size() == kTotal);
  for (std::size_t i = 0; i < completed.size(); ++i) {
    REQUIRE(completed[i] == static_cast<std::int64_t>(i) + 1);
  }
  // Callbacks all run on the one writer thread, never on a producer.
  CHECK(std::all_of(callback_threads.begin(), callback_threads.end(),
                    [&](std::thread::id id) { return id == callback_threads.front(); }));
  CHECK(callback_threads.front() != std::this_thread::get_id());

  const Counters counters = store->counters();
  std::printf("group commit: %d batches from %d threads in %llu transactions\n", kTotal, kThreads,
              static_cast<unsigned long long>(counters.transactions));
  CHECK(counters.batches == kTotal);
  CHECK(counters.events == kTotal);
  CHECK(counters.transactions >= 1);
  CHECK(counters.transactions * 4 <= counters.batches);
  CHECK(store->last_position() == kTotal);
}

TEST_CASE("appending a position that does not continue the log is refused", "[sqlite]") {
  TempDir temp;
  auto store = EventStore::open(temp.dir());
  bool called = false;
  CHECK_THROWS_AS(store->append(make_batch(2, 1), [&](std::error_code) { called = true; }),
                  std::logic_error);
  CHECK_FALSE(append_and_wait(*store, make_batch(1, 2)));

  Batch gap;
  gap.events.push_back(make_event(3));
  gap.events.push_back(make_event(5));
  CHECK_THROWS_WITH(store->append(gap, [&](std::error_code) { called = true; }),
                    Catch::Contains("non-contiguous position 5") && Catch::Contains("expected 4"));
  CHECK_THROWS_AS(store->append(make_batch(2, 1), {}), std::logic_error);  // a repeat

  // A refused batch leaves no trace: the log continues right after the last accepted event.
  CHECK_FALSE(append_and_wait(*store, make_batch(3, 1)));
  store->close();
  CHECK_FALSE(called);
}

TEST_CASE("command outcomes are stored in the same transaction as their events", "[sqlite]") {
  TempDir temp;
  LogCapture log;
  {
    auto store = EventStore::open(temp.dir(), log.options());
    Batch created = make_batch(1, 2);
    created.outcomes.push_back({"key-1", R"({"error":false,"uid":"abc"})"});
    CHECK_FALSE(append_and_wait(*store, created));

    Batch rejected;  // a command decided with no events still records its reply
    rejected.outcomes.push_back({"key-2", R"({"error":true})"});
    CHECK_FALSE(append_and_wait(*store, rejected));

    Batch repeated;  // the first outcome of a command id is the one that stays
    repeated.outcomes.push_back({"key-1", "other"});
    CHECK_FALSE(append_and_wait(*store, repeated));

    CHECK(store->find_outcome("key-1") == R"({"error":false,"uid":"abc"})");
    CHECK(store->find_outcome("key-2") == R"({"error":true})");
    CHECK_FALSE(store->find_outcome("key-3"));

    // A transaction that fails keeps neither part. The failure comes from a trigger that another
    // connection adds, as an operator's sqlite3 shell could.
    install_poison_trigger(temp.dir());
    Batch clash;
    clash.events.push_back(make_poisoned_event(3));
    clash.outcomes.push_back({"key-3", "lost"});
    const std::error_code ec = append_and_wait(*store, clash);
    CHECK(ec.category() == sqlite_category());
    CHECK(ec.value() == SQLITE_CONSTRAINT_TRIGGER);
    CHECK(store->failure() == ec);
    CHECK(log.contains("refusing further writes"));

    // Fail-stop: whatever comes next is refused too.
    CHECK(append_and_wait(*store, make_batch(4, 1)) == StoreErrc::stopped);
    CHECK(store->counters().batches == 3);
  }
  auto store = EventStore::open(temp.dir());
  CHECK(store->last_position() == 2);
  CHECK_FALSE(store->find_outcome("key-3"));
  CHECK(store->find_outcome("key-1"));

  std::vector<std::string> ids;
  std::vector<std::string> replies;
  store->for_each_outcome([&](const CommandOutcome& o) {
    ids.push_back(o.command_id);
    replies.push_back(o.outcome);
  });
  // Commit order, the repeat included (no uniqueness check on the hot path); readers keep the
  // first outcome of an id.
  CHECK(ids == std::vector<std::string>{"key-1", "key-2", "key-1"});
  CHECK(replies.front() == R"({"error":false,"uid":"abc"})");
  ids.clear();
  store->for_each_outcome([&](const CommandOutcome& o) { ids.push_back(o.command_id); }, 1);
  CHECK(ids == std::vector<std::string>{"key-1"});
  ids.clear();
  store->for_each_outcome([&](const CommandOutcome& o) { ids.push_back(o.command_id); }, 2);
  CHECK(ids == std::vector<std::string>{"key-2", "key-1"});
}

TEST_CASE("a batch's complete hook fills it in on the writer thread before it is written",
          "[sqlite]") {
  TempDir temp;
  auto store = EventStore::open(temp.dir());
  const auto caller = std::this_thread::get_id();
  auto hook_thread = std::make_shared<std::thread::id>(caller);
  Batch batch;
  batch.events.resize(2);
  batch.events[0].position = 1;
  batch.events[1].position = 2;
  batch.outcomes.push_back({"key-1", ""});
  batch.complete = [hook_thread](Batch& b) {
    *hook_thread = std::this_thread::get_id();
    for (StoredEvent& e : b.events)
      e = make_event(e.position, "late-" + std::to_string(e.position));
    b.outcomes.front().outcome = "encoded late";
  };
  REQUIRE_FALSE(append_and_wait(*store, std::move(batch)));
  CHECK(*hook_thread != caller);
  auto events = replay_all(*store);
  REQUIRE(events.size() == 2);
  CHECK(events[1].payload == "late-2");
  CHECK(events[1].type == "room.created");
  CHECK(store->find_outcome("key-1") == "encoded late");

  // A hook that breaks the positions append() checked fails the transaction (fail-stop).
  LogCapture log;
  store->close();
  store = EventStore::open(temp.dir(), log.options());
  Batch bad = make_batch(3, 1);
  bad.complete = [](Batch& b) { b.events.front().position = 7; };
  CHECK(append_and_wait(*store, std::move(bad)));
  CHECK(log.contains("changed its positions"));
  CHECK(append_and_wait(*store, make_batch(4, 1)) == StoreErrc::stopped);
  store->close();
  CHECK(EventStore::open(temp.dir())->last_position() == 2);
}

TEST_CASE("a hook that throws fails its whole transaction and every callback runs once",
          "[sqlite]") {
  TempDir temp;
  LogCapture log;
  auto store = EventStore::open(temp.dir(), log.options());
  // Hold the writer inside a first transaction's hook, so the next two batches queue up and
  // become one transaction.
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  Batch first = make_batch(1, 1);
  first.complete = [&entered, released](Batch&) {
    entered.set_value();
    released.wait();
  };
  std::atomic<int> first_calls{0};
  store->append(std::move(first), [&](std::error_code ec) {
    if (!ec) ++first_calls;
  });
  entered.get_future().wait();

  std::atomic<bool> later_hook_ran{false};
  std::vector<std::error_code> results(2);
  std::atomic<int> calls{0};
  Batch thrower = make_batch(2, 1);
  thrower.complete = [](Batch&) { throw 42; };  // not even a std::exception
  Batch later = make_batch(3, 1);
  later.complete = [&later_hook_ran](Batch&) { later_hook_ran = true; };
  store->append(std::move(thrower), [&](std::error_code ec) {
    results[0] = ec;
    ++calls;
  });
  store->append(std::move(later), [&](std::error_code ec) {
    results[1] = ec;
    ++calls;
  });
  release.set_value();
  store->close();

  CHECK(first_calls == 1);
  CHECK(calls == 2);
  CHECK(results[0]);
  CHECK(results[1] == results[0]);
  CHECK_FALSE(later_hook_ran);
  CHECK(log.contains("complete hook threw"));
  CHECK(EventStore::open(temp.dir())->last_position() == 1);
}

TEST_CASE("close drains the queue and a reopened store sees everything", "[sqlite]") {
  TempDir temp;
  std::atomic<int> callbacks{0};
  {
    auto store = EventStore::open(temp.dir());
    for (int i = 0; i < 100; ++i) {
      Batch batch = make_batch(i * 3 + 1, 3);
      batch.outcomes.push_back({"key-" + std::to_string(i), "ok"});
      store->append(std::move(batch), [&](std::error_code ec) {
        if (!ec) ++callbacks;
      });
    }
    store->close();
    CHECK(callbacks == 100);
    CHECK_THROWS_AS(store->append(make_batch(301, 1), {}), std::logic_error);
    CHECK_THROWS_AS(store->last_position(), std::logic_error);
    store->close();  // idempotent
  }
  auto store = EventStore::open(temp.dir());
  CHECK(store->last_position() == 300);
  CHECK(replay_all(*store).size() == 300);
  CHECK(store->find_outcome("key-99") == "ok");
  CHECK_FALSE(append_and_wait(*store, make_batch(301, 1)));
  CHECK_THROWS_AS(store->append(make_batch(1, 1), {}), std::logic_error);
}

TEST_CASE("an empty batch is a barrier that writes nothing", "[sqlite]") {
  TempDir temp;
  auto store = EventStore::open(temp.dir());
  CHECK_FALSE(append_and_wait(*store, Batch{}));
  CHECK(store->counters().transactions == 0);
  CHECK(store->counters().batches == 1);
}

TEST_CASE("a data directory in use is refused at once, naming the holder's pid", "[sqlite]") {
  TempDir temp;
  const std::filesystem::path dir = temp.dir() / "data";
  auto first = EventStore::open(dir);
  const std::string expected = "data directory " + dir.string() +
                               " is in use by another roombus process (pid " +
                               std::to_string(::getpid()) + ")";
  // flock() locks belong to open file descriptions, so a second store in this process conflicts.
  CHECK_THROWS_WITH(EventStore::open(dir), expected);

  SECTION("from another process") {
    int pipe_fds[2];
    REQUIRE(::pipe(pipe_fds) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      ::close(pipe_fds[0]);
      std::string message = "opened";
      try {
        EventStore::open(dir);
      } catch (const std::exception& e) {
        message = e.what();
      }
      const auto written = ::write(pipe_fds[1], message.data(), message.size());
      ::_exit(written == static_cast<ssize_t>(message.size()) ? 0 : 1);
    }
    ::close(pipe_fds[1]);
    std::string message;
    char buffer[256];
    for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) {
      message.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(pipe_fds[0]);
    int status = 0;
    ::waitpid(child, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(message == expected);
  }

  first->close();
  CHECK_NOTHROW(EventStore::open(dir));
}

TEST_CASE("a data directory that cannot be created gives an error naming it", "[sqlite]") {
  TempDir temp;
  const std::filesystem::path file = temp.dir() / "file.txt";
  std::ofstream(file) << "not a directory";

  const std::filesystem::path below_file = file / "sub";
  CHECK_THROWS_WITH(EventStore::open(below_file),
                    Catch::Contains(below_file.string()) && Catch::Contains("Not a directory"));
  CHECK_THROWS_WITH(EventStore::open(file), Catch::Contains(file.string()));
}

TEST_CASE("a read-only data directory gives an error naming it", "[sqlite]") {
  if (::geteuid() == 0) {
    SUCCEED("skipped: permission bits do not stop root");
    return;
  }
  TempDir temp;
  const std::filesystem::path dir = temp.dir() / "readonly";
  std::filesystem::create_directory(dir);
  std::filesystem::permissions(
      dir, std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  CHECK_THROWS_WITH(EventStore::open(dir),
                    Catch::Contains(dir.string()) && Catch::Contains("Permission denied"));
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all);
}

TEST_CASE("an online backup is a complete, openable copy of the log", "[sqlite]") {
  TempDir temp;
  auto store = EventStore::open(temp.dir() / "live");
  Batch batch = make_batch(1, 50);
  batch.outcomes.push_back({"key", "reply"});
  CHECK_FALSE(append_and_wait(*store, batch));

  const std::filesystem::path copy_dir = temp.dir() / "restored";
  std::filesystem::create_directory(copy_dir);
  store->backup_to(copy_dir / "roombus.db");
  CHECK_FALSE(std::filesystem::exists(copy_dir / "roombus.db.tmp"));
  CHECK_FALSE(append_and_wait(*store, make_batch(51, 1)));  // the live store carries on

  auto restored = EventStore::open(copy_dir);
  CHECK(restored->last_position() == 50);
  CHECK(replay_all(*restored).size() == 50);
  CHECK(restored->find_outcome("key") == "reply");

  CHECK_THROWS_WITH(store->backup_to(temp.dir() / "missing" / "x.db"),
                    Catch::Contains("cannot back up"));
}

// Runs `sql` on <dir>/roombus.db through a connection of its own, as the sqlite3 shell would.
std::string shell_query(const std::filesystem::path& dir, const char* sql) {
  sqlite3* db = nullptr;
  std::string result;
  const bool opened = sqlite3_open((dir / "roombus.db").c_str(), &db) == SQLITE_OK;
  const int rc = opened ? sqlite3_exec(
                              db, sql,
                              [](void* out, int columns, char** values, char**) {
                                auto& text = *static_cast<std::string*>(out);
                                for (int i = 0; i < columns; ++i) {
                                  if (!text.empty()) text += '|';
                                  text += values[i] != nullptr ? values[i] : "NULL";
                                }
                                return 0;
                              },
                              &result, nullptr)
                        : SQLITE_CANTOPEN;
  sqlite3_close(db);
  if (rc != SQLITE_OK) throw std::runtime_error(std::string("shell query failed: ") + sql);
  return result;
}

// Version 1 as the first release wrote it: commands keyed (and indexed) by command id.
constexpr const char* kVersion1Schema = R"sql(
    PRAGMA journal_mode=WAL;
    CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE events(position INTEGER PRIMARY KEY, aggregate TEXT NOT NULL,
      version INTEGER NOT NULL, command_id TEXT NOT NULL, time INTEGER NOT NULL,
      type TEXT NOT NULL, payload BLOB NOT NULL);
    CREATE TABLE commands(command_id TEXT PRIMARY KEY, position INTEGER, outcome BLOB NOT NULL);
    INSERT INTO meta VALUES('schema_version', '1');
)sql";

TEST_CASE("a log of schema version 1 is upgraded in place, outcomes and order kept", "[sqlite]") {
  TempDir temp;
  shell_query(temp.dir(), kVersion1Schema);
  shell_query(temp.dir(), R"sql(
    INSERT INTO events VALUES(1, 'room-1', 1, 'cmd-b', 1700000001, 'room.created', '{}');
    INSERT INTO commands VALUES('cmd-b', 1, 'first');
    INSERT INTO commands VALUES('cmd-a', NULL, 'second');
  )sql");
  // A reader of either version may look without changing anything.
  CHECK(EventStore::open_read_only(temp.dir())->find_outcome("cmd-a") == "second");
  CHECK(shell_query(temp.dir(), "SELECT value FROM meta WHERE key = 'schema_version'") == "1");

  LogCapture log;
  {
    auto store = EventStore::open(temp.dir(), log.options());
    CHECK(log.contains("upgraded from schema version 1 to 3"));
    std::vector<std::string> ids;
    store->for_each_outcome([&](const CommandOutcome& o) { ids.push_back(o.command_id); });
    CHECK(ids == std::vector<std::string>{"cmd-b", "cmd-a"});
    CHECK(store->find_outcome("cmd-b") == "first");
    CHECK(replay_all(*store).size() == 1);
    Batch next = make_batch(2, 1);
    next.outcomes.push_back({"cmd-c", "third"});
    CHECK_FALSE(append_and_wait(*store, next));
  }
  CHECK(shell_query(temp.dir(), "SELECT value FROM meta WHERE key = 'schema_version'") == "3");
  // No index on commands any more: commits only append at the tables' right edges.
  CHECK(shell_query(temp.dir(),
                    "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND "
                    "tbl_name IN ('commands', 'events')") == "0");
  CHECK(EventStore::open(temp.dir())->find_outcome("cmd-c") == "third");
  // The page size of an existing log cannot change in WAL mode; it keeps SQLite's default.
  CHECK(shell_query(temp.dir(), "PRAGMA page_size") == "4096");
}

TEST_CASE("a new log has 16 KiB pages, so a group commit writes few WAL frames", "[sqlite]") {
  TempDir temp;
  EventStore::open(temp.dir())->close();
  CHECK(shell_query(temp.dir(), "PRAGMA page_size") == "16384");
  CHECK(shell_query(temp.dir(), "PRAGMA journal_mode") == "wal");
}

TEST_CASE("an upgrade from version 1 that fails leaves the log as it was", "[sqlite]") {
  TempDir temp;
  shell_query(temp.dir(), kVersion1Schema);
  shell_query(temp.dir(), R"sql(
    INSERT INTO commands VALUES('cmd-a', NULL, 'kept');
    CREATE TABLE commands_v2(x);
  )sql");
  CHECK_THROWS_WITH(EventStore::open(temp.dir()), Catch::Contains("commands_v2"));
  CHECK(shell_query(temp.dir(), "SELECT value FROM meta WHERE key = 'schema_version'") == "1");
  CHECK(shell_query(temp.dir(), "SELECT outcome FROM commands") == "kept");
  CHECK(shell_query(
            temp.dir(),
            "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'sqlite_autoindex_commands%'") ==
        "1");
}

TEST_CASE("a log of an unknown schema version is refused, naming both versions", "[sqlite]") {
  TempDir temp;
  EventStore::open(temp.dir())->close();
  shell_query(temp.dir(), "UPDATE meta SET value = '9' WHERE key = 'schema_version'");
  CHECK_THROWS_WITH(EventStore::open(temp.dir()),
                    Catch::Contains("schema version 9") && Catch::Contains("version 3"));
  CHECK_THROWS_WITH(EventStore::open_read_only(temp.dir()), Catch::Contains("schema version 9"));
}

TEST_CASE("the checkpointer thread copies a growing WAL into the database", "[sqlite]") {
  TempDir temp;
  auto store = EventStore::open(temp.dir());
  // 12,000 events of 4 KiB: about three times the WAL size that triggers a checkpoint (1,000
  // pages of 16 KiB).
  const std::string payload(4096, 'p');
  for (std::int64_t position = 1; position <= 12000; position += 100) {
    Batch batch;
    for (int i = 0; i < 100; ++i) batch.events.push_back(make_event(position + i, payload));
    REQUIRE_FALSE(append_and_wait(*store, std::move(batch)));
  }
  CHECK(roombus::test::eventually([&] { return store->counters().checkpoints >= 1; }));
  CHECK(std::filesystem::file_size(temp.dir() / "roombus.db") > 16'000'000);

  store->close();
  // The last connection's close checkpoints the rest and removes the WAL.
  CHECK_FALSE(std::filesystem::exists(temp.dir() / "roombus.db-wal"));
  CHECK(EventStore::open_read_only(temp.dir())->last_position() == 12000);
}

}  // namespace
}  // namespace roombus::sqlite::test
