// Read-only stores: beside a live writer, after a crash, refusing writes, creating nothing.
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "integration/sqlite/store_test_support.hpp"

namespace roombus::sqlite::test {
namespace {

Batch batch_with_outcome(std::int64_t position) {
  Batch batch = make_batch(position, 1);
  batch.outcomes.push_back({"cmd-" + std::to_string(position), "ok-" + std::to_string(position)});
  return batch;
}

// Reads one byte from `fd`; false on EOF or error.
bool wait_byte(int fd) {
  char byte = 0;
  return ::read(fd, &byte, 1) == 1;
}

TEST_CASE("a read-only store reads beside a live writer in the same process", "[sqlite]") {
  TempDir temp;
  LogCapture logs;
  auto writer = EventStore::open(temp.dir());
  for (std::int64_t p = 1; p <= 5; ++p)
    REQUIRE_FALSE(append_and_wait(*writer, batch_with_outcome(p)));
  REQUIRE_FALSE(snapshot_and_wait(*writer, 3, "state at 3"));

  // No lock is taken: this would fail with "in use" if it tried.
  auto reader = EventStore::open_read_only(temp.dir(), logs.options());
  CHECK(reader->last_position() == 5);
  const auto events = replay_all(*reader);
  REQUIRE(events.size() == 5);
  CHECK(events.back().payload == make_event(5).payload);
  CHECK(reader->find_outcome("cmd-4") == "ok-4");
  CHECK_FALSE(reader->find_outcome("cmd-9"));
  std::vector<std::string> outcomes;
  reader->for_each_outcome([&](const CommandOutcome& o) { outcomes.push_back(o.command_id); }, 2);
  CHECK(outcomes == std::vector<std::string>{"cmd-4", "cmd-5"});
  const auto snapshot = reader->load_latest_snapshot();
  REQUIRE(snapshot);
  CHECK(snapshot->position == 3);
  CHECK(snapshot->bytes == "state at 3");

  // Commits made after the reader opened are visible to its next read.
  REQUIRE_FALSE(append_and_wait(*writer, batch_with_outcome(6)));
  CHECK(reader->last_position() == 6);
  CHECK(replay_all(*reader, 5).size() == 1);

  // A consistent copy from the read-only side.
  const auto copy = temp.dir() / "copy.db";
  reader->backup_to(copy);
  {
    std::filesystem::create_directory(temp.dir() / "restored");
    std::filesystem::copy_file(copy, temp.dir() / "restored" / "roombus.db");
    auto restored = EventStore::open_read_only(temp.dir() / "restored");
    CHECK(restored->last_position() == 6);
  }

  const Counters counters = reader->counters();
  CHECK(counters.transactions == 0);
  CHECK(counters.events == 0);
  CHECK_FALSE(reader->failure());
  CHECK(logs.lines().empty());

  reader->close();
  CHECK_THROWS_AS(reader->last_position(), std::logic_error);
  writer->close();
}

TEST_CASE("a read-only store refuses writes", "[sqlite]") {
  TempDir temp;
  EventStore::open(temp.dir())->close();
  auto reader = EventStore::open_read_only(temp.dir());
  bool called = false;
  CHECK_THROWS_WITH(reader->append(make_batch(1, 1), [&](std::error_code) { called = true; }),
                    Catch::Contains("read-only"));
  CHECK_THROWS_AS(reader->append(Batch{}, {}), std::logic_error);
  CHECK_THROWS_WITH(reader->write_snapshot(0, "x"), Catch::Contains("read-only"));
  CHECK_FALSE(called);
  CHECK(reader->last_position() == 0);
  CHECK(replay_all(*reader).empty());
  CHECK_FALSE(reader->load_latest_snapshot());
}

TEST_CASE("a read-only store creates nothing and names what is missing", "[sqlite]") {
  TempDir temp;
  const auto missing = temp.dir() / "missing";
  CHECK_THROWS_WITH(EventStore::open_read_only(missing),
                    Catch::Contains(missing.string()) && Catch::Contains("does not exist"));
  CHECK_FALSE(std::filesystem::exists(missing));

  const auto empty = temp.dir() / "empty";
  std::filesystem::create_directory(empty);
  CHECK_THROWS_WITH(EventStore::open_read_only(empty),
                    Catch::Contains("no event log") && Catch::Contains("roombus.db is missing"));
  CHECK(std::filesystem::is_empty(empty));

  const auto file = temp.dir() / "file.txt";
  std::ofstream(file) << "not a directory";
  CHECK_THROWS_WITH(EventStore::open_read_only(file), Catch::Contains(file.string()));

  // A SQLite file that is not ours must not replay as an empty log.
  const auto foreign = temp.dir() / "foreign";
  std::filesystem::create_directory(foreign);
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open((foreign / "roombus.db").c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "CREATE TABLE t(x)", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  CHECK_THROWS_WITH(EventStore::open_read_only(foreign),
                    Catch::Contains("is not a roombus event log"));

  // Only a missing snapshots/ directory: no snapshot, and nothing worth a warning.
  const auto bare = temp.dir() / "bare";
  EventStore::open(bare)->close();
  std::filesystem::remove(bare / "snapshots");
  LogCapture logs;
  auto reader = EventStore::open_read_only(bare, logs.options());
  CHECK_FALSE(reader->load_latest_snapshot());
  CHECK(logs.lines().empty());
  CHECK_FALSE(std::filesystem::exists(bare / "snapshots"));
}

TEST_CASE("a read-only store reads a log another process holds, and after that process died",
          "[sqlite]") {
  TempDir temp;
  const auto dir = temp.dir();
  constexpr std::int64_t kEvents = 50;
  int ready[2];
  int hold[2];
  REQUIRE(::pipe(ready) == 0);
  REQUIRE(::pipe(hold) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The child is the live writer: it commits, reports, then waits to be killed (no close()).
    ::close(ready[0]);
    ::close(hold[1]);
    int code = 0;
    try {
      auto store = EventStore::open(dir);
      for (std::int64_t p = 1; p <= kEvents; ++p) {
        if (append_and_wait(*store, batch_with_outcome(p))) code = 1;
      }
      const char byte = 'r';
      if (::write(ready[1], &byte, 1) != 1) code = 1;
      wait_byte(hold[0]);  // returns only if the parent went away
    } catch (...) {
      code = 1;
    }
    ::_exit(code);
  }
  ::close(ready[1]);
  ::close(hold[0]);
  const bool child_ready = wait_byte(ready[0]);
  ::close(ready[0]);

  std::int64_t live_count = -1;
  std::string live_error;
  if (child_ready) {
    try {
      auto reader = EventStore::open_read_only(dir);
      live_count = static_cast<std::int64_t>(replay_all(*reader).size());
    } catch (const std::exception& e) {
      live_error = e.what();
    }
  }
  // Killed by pid mid-life: the WAL holds the commits and no checkpoint ran.
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ::close(hold[1]);

  REQUIRE(child_ready);
  CHECK(live_error.empty());
  CHECK(live_count == kEvents);
  CHECK(WIFSIGNALED(status));

  auto reader = EventStore::open_read_only(dir);
  CHECK(reader->last_position() == kEvents);
  CHECK(replay_all(*reader).size() == static_cast<std::size_t>(kEvents));
  CHECK(reader->find_outcome("cmd-" + std::to_string(kEvents)) == "ok-" + std::to_string(kEvents));
  reader->close();

  // The crashed writer's lock died with it; a new writer continues the log.
  auto writer = EventStore::open(dir);
  CHECK(writer->last_position() == kEvents);
  CHECK_FALSE(append_and_wait(*writer, make_batch(kEvents + 1, 1)));
}

}  // namespace
}  // namespace roombus::sqlite::test
