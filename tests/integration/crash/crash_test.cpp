// The real binary: SIGKILL under load, SIGTERM, data-directory lock and errors, `log dump`.
#include <signal.h>
#include <sys/resource.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/roombus_process.hpp"

namespace roombus::crash::test {
using namespace roombus::test;
namespace {

constexpr std::string_view kAdminToken = "crash-test-admin-token-0123456789";
constexpr int kSigkillExit = 128 + SIGKILL;
// Rooms are named after their Idempotency-Key, so the log says which key made which room.
constexpr std::string_view kNamePrefix = "Crash ";

std::vector<std::string> serve_args(const std::filesystem::path& data_dir) {
  return {"serve",           "--listen",      "127.0.0.1:0",           "--data-dir",
          data_dir.string(), "--admin-token", std::string(kAdminToken)};
}

// `roombus serve` on `data_dir`; the port stays 0 (and the output explains why) if it did not
// come up. Callers REQUIRE the port on the test thread.
using Server = RoombusServe;
Server start_server(const std::filesystem::path& data_dir, const std::filesystem::path& log) {
  return Server(data_dir, log, {}, kAdminToken);
}

std::optional<Reply> create_room(HttpConnection& connection, const std::string& api_key,
                                 const std::string& idempotency_key) {
  return connection.request("POST", "/api/v1/room",
                            {bearer(api_key), "Idempotency-Key: " + idempotency_key},
                            "server=meet.example.com&email=alice%40x.de&name=Crash+" +
                                idempotency_key + "&start=2030-01-01T10%3A00&duration=30",
                            "application/x-www-form-urlencoded");
}

// The uid of a successful create reply, else nullopt.
std::optional<std::string> created_uid(const std::optional<Reply>& reply) {
  if (!reply || reply->status != 200 || reply->body.find("\"error\":false") == std::string::npos) {
    return std::nullopt;
  }
  auto uid = json_string_field(reply->body, "uid");
  if (!uid || uid->size() != 32) return std::nullopt;
  return uid;
}

bool room_exists(HttpConnection& connection, const std::string& uid) {
  const auto reply = connection.request("GET", "/api/v1/info/" + uid, {}, "");
  return reply && reply->status == 200 && reply->body.find("\"error\":false") != std::string::npos;
}

// What concurrent clients saw; filled by the client threads, checked on the test thread.
struct LoadRecord {
  std::mutex mutex;
  std::set<std::string> sent;                // keys whose request was (at least partly) sent
  std::map<std::string, std::string> acked;  // key -> uid of a success reply
  std::vector<std::string> unexpected;       // replies that were neither success nor a crash
  std::atomic<int> acked_count{0};
  std::atomic<bool> stop{false};
};

// One client: a keep-alive connection sending creates back-to-back, each with a fresh key,
// until the connection dies (the server was killed or stopped) or `stop` is set.
void drive(std::uint16_t port, const std::string& api_key, int client, LoadRecord& record) {
  HttpConnection connection(port);
  for (int i = 0; !record.stop; ++i) {
    const std::string key = "crash-" + std::to_string(client) + "-" + std::to_string(i);
    {
      std::lock_guard lock(record.mutex);
      record.sent.insert(key);
    }
    const auto reply = create_room(connection, api_key, key);
    if (!reply) return;
    const auto uid = created_uid(reply);
    std::lock_guard lock(record.mutex);
    if (!uid) {
      // A draining server may answer 503 before closing; anything else is a finding.
      if (reply->status != 503) {
        record.unexpected.push_back(std::to_string(reply->status) + " " + reply->body);
      }
      return;
    }
    record.acked.emplace(key, *uid);
    ++record.acked_count;
  }
}

// Runs `clients` threads against `port` until `acked` creates succeeded (or `limit` passed),
// then calls `interrupt` (a signal to the server) and joins them.
template <typename Interrupt>
void run_load(std::uint16_t port, const std::string& api_key, int clients, int acked,
              milliseconds limit, LoadRecord& record, Interrupt interrupt) {
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] { drive(port, api_key, c, record); });
  }
  eventually([&] { return record.acked_count >= acked; }, limit);
  interrupt();
  // Clients finish the request in hand; a server that stopped answering ends it sooner.
  record.stop = true;
  for (auto& thread : threads) thread.join();
}

struct DumpedEvent {
  std::int64_t position = 0;
  std::string type;
  std::string command_id;  // opaque: derived from the Idempotency-Key, not equal to it
  std::string uid;         // rooms only
  std::string key;         // rooms only: the Idempotency-Key, carried in the room's name
};

std::int64_t int_field(std::string_view json, std::string_view key) {
  const std::string needle = "\"" + std::string(key) + "\":";
  const auto at = json.find(needle);
  std::int64_t value = -1;
  if (at != std::string_view::npos) {
    const char* first = json.data() + at + needle.size();
    std::from_chars(first, json.data() + json.size(), value);
  }
  return value;
}

struct Dump {
  int exit_code = -1;
  std::vector<DumpedEvent> events;
  std::vector<std::string> bad_lines;
  std::string output;
};

// `roombus log dump --data-dir DIR`: one JSON event per line.
Dump log_dump(const std::filesystem::path& data_dir, const std::filesystem::path& out) {
  Dump dump;
  Child child({"log", "dump", "--data-dir", data_dir.string()}, out);
  dump.exit_code = child.wait(milliseconds(15000)).value_or(-1);
  dump.output = child.output();
  std::istringstream lines(dump.output);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line.front() != '{') {
      dump.bad_lines.push_back(line);
      continue;
    }
    DumpedEvent event;
    event.position = int_field(line, "position");
    event.type = json_string_field(line, "type").value_or("");
    event.command_id = json_string_field(line, "command_id").value_or("");
    if (event.type == "room.created") {
      event.uid = json_string_field(line, "uid").value_or("");
      // The first "name" of a room event is the room's (jitsi_name does not match the quote).
      const std::string name = json_string_field(line, "name").value_or("");
      if (name.starts_with(kNamePrefix)) event.key = name.substr(kNamePrefix.size());
    }
    dump.events.push_back(std::move(event));
  }
  return dump;
}

bool one_line(const std::string& text) {
  return !text.empty() && text.find('\n') == text.size() - 1;
}

TEST_CASE("SIGKILL under concurrent creates loses no acknowledged create and duplicates none",
          "[crash]") {
  TempDir temp;
  const auto data = temp.dir() / "data";
  constexpr int kClients = 48;

  // 1. Load, then SIGKILL while requests are in flight.
  LoadRecord record;
  int killed_exit = -1;
  {
    Server first = start_server(data, temp.dir() / "first.log");
    REQUIRE(first.port != 0);
    const std::string api_key = register_server(first.port, kAdminToken);
    REQUIRE_FALSE(api_key.empty());
    std::ofstream(temp.dir() / "api_key") << api_key;
    run_load(first.port, api_key, kClients, 600, milliseconds(8000), record, [&] {
      first.child->signal(SIGKILL);
      killed_exit = first.child->wait(milliseconds(5000)).value_or(-1);
    });
  }
  CHECK(killed_exit == kSigkillExit);
  CHECK(record.unexpected.empty());
  REQUIRE(record.acked_count > 0);
  INFO("acknowledged " << record.acked.size() << " of " << record.sent.size() << " sent");
  std::string api_key;
  std::ifstream(temp.dir() / "api_key") >> api_key;

  // What the killed process left on disk, before anything else touches it: every acknowledged
  // create is committed with the acknowledged uid (success is sent only after the commit).
  {
    const Dump at_kill = log_dump(data, temp.dir() / "dump-at-kill.jsonl");
    REQUIRE(at_kill.exit_code == 0);
    std::map<std::string, std::string> committed;  // key -> uid
    for (const auto& event : at_kill.events) {
      if (event.type == "room.created") committed.emplace(event.key, event.uid);
    }
    std::size_t acked_committed = 0;
    for (const auto& [key, uid] : record.acked) {
      const auto found = committed.find(key);
      if (found != committed.end() && found->second == uid) ++acked_committed;
    }
    CHECK(acked_committed == record.acked.size());
    CHECK(committed.size() <= record.sent.size());
    std::printf(
        "crash: %zu creates sent by %d clients, %zu acknowledged, %zu committed at SIGKILL\n",
        record.sent.size(), kClients, record.acked.size(), committed.size());
  }

  // 2. Restart: every acknowledged room is there; every key resolves to exactly one room.
  std::map<std::string, std::string> resolved;  // key -> uid after the restart
  std::vector<std::string> missing, changed, unresolved;
  {
    Server second = start_server(data, temp.dir() / "second.log");
    REQUIRE(second.port != 0);
    HttpConnection connection(second.port);
    for (const auto& [key, uid] : record.acked) {
      if (!room_exists(connection, uid)) missing.push_back(uid);
    }
    // Re-sending an acknowledged key must answer the first outcome, not create again.
    for (const auto& [key, uid] : record.acked) {
      const auto again = created_uid(create_room(connection, api_key, key));
      if (again != uid) changed.push_back(key);
    }
    // Keys in doubt (sent, never answered) either committed before the kill or did not; sending
    // them again must give each exactly one room, and a second retry the same one.
    for (const auto& key : record.sent) {
      if (record.acked.count(key) != 0) continue;
      const auto uid = created_uid(create_room(connection, api_key, key));
      const auto retry = created_uid(create_room(connection, api_key, key));
      if (!uid || retry != uid) {
        unresolved.push_back(key);
      } else {
        resolved.emplace(key, *uid);
      }
    }
    second.child->signal(SIGTERM);
    CHECK(second.child->wait(milliseconds(10000)) == 0);
  }
  CHECK(missing.empty());
  CHECK(changed.empty());
  CHECK(unresolved.empty());
  for (const auto& [key, uid] : record.acked) resolved.emplace(key, uid);

  // 3. The log: contiguous positions, one room per key, the acknowledged uids.
  const Dump dump = log_dump(data, temp.dir() / "dump.jsonl");
  REQUIRE(dump.exit_code == 0);
  CHECK(dump.bad_lines.empty());
  std::map<std::string, std::string> logged;  // key -> uid
  std::set<std::string> uids, command_ids;
  std::vector<std::string> duplicates;
  std::int64_t expected_position = 1;
  bool contiguous = true;
  for (const auto& event : dump.events) {
    contiguous = contiguous && event.position == expected_position++;
    if (event.type != "room.created") continue;
    if (!logged.emplace(event.key, event.uid).second || !uids.insert(event.uid).second ||
        !command_ids.insert(event.command_id).second) {
      duplicates.push_back(event.key + " " + event.uid + " " + event.command_id);
    }
  }
  CHECK(contiguous);
  CHECK(duplicates.empty());
  CHECK(logged.size() == record.sent.size());
  std::vector<std::string> wrong_uid;
  for (const auto& [key, uid] : resolved) {
    const auto found = logged.find(key);
    if (found == logged.end() || found->second != uid) wrong_uid.push_back(key);
  }
  CHECK(wrong_uid.empty());

  // 4. A third start (after the clean stop) still has every room and keeps writing.
  Server third = start_server(data, temp.dir() / "third.log");
  REQUIRE(third.port != 0);
  HttpConnection connection(third.port);
  std::size_t present = 0;
  for (const auto& [key, uid] : resolved)
    if (room_exists(connection, uid)) ++present;
  CHECK(present == resolved.size());
  CHECK(created_uid(create_room(connection, api_key, "after-restart")));
  third.child->signal(SIGTERM);
  CHECK(third.child->wait(milliseconds(10000)) == 0);
}

TEST_CASE("SIGTERM under load exits 0 and a restart sees every acknowledged create", "[crash]") {
  TempDir temp;
  const auto data = temp.dir() / "data";
  LoadRecord record;
  std::string api_key;
  std::optional<int> exit_code;
  std::string output;
  {
    Server first = start_server(data, temp.dir() / "first.log");
    REQUIRE(first.port != 0);
    api_key = register_server(first.port, kAdminToken);
    REQUIRE_FALSE(api_key.empty());
    run_load(first.port, api_key, 8, 50, milliseconds(8000), record,
             [&] { first.child->signal(SIGTERM); });
    exit_code = first.child->wait(milliseconds(10000));
    output = first.child->output();
  }
  INFO(output);
  CHECK(exit_code == 0);
  CHECK(output.find("stopped") != std::string::npos);
  CHECK(record.unexpected.empty());
  REQUIRE(record.acked_count >= 50);

  Server second = start_server(data, temp.dir() / "second.log");
  REQUIRE(second.port != 0);
  HttpConnection connection(second.port);
  std::size_t present = 0;
  for (const auto& [key, uid] : record.acked)
    if (room_exists(connection, uid)) ++present;
  CHECK(present == record.acked.size());
  second.child->signal(SIGTERM);
  CHECK(second.child->wait(milliseconds(10000)) == 0);
}

TEST_CASE("a second roombus on a data directory in use exits at once with code 2", "[crash]") {
  TempDir temp;
  const auto data = temp.dir() / "data";
  Server first = start_server(data, temp.dir() / "first.log");
  REQUIRE(first.port != 0);

  Child second(serve_args(data), temp.dir() / "second.log");
  const auto exit_code = second.wait(kPatience);  // exits on its own: it does not wait for the lock
  const std::string output = second.output();
  INFO(output);
  CHECK(exit_code == 2);
  CHECK(one_line(output));
  CHECK(output.find("in use") != std::string::npos);
  CHECK(output.find(data.string()) != std::string::npos);

  // The first one is untouched and still answers.
  CHECK_FALSE(first.child->wait(milliseconds(0)));
  HttpConnection connection(first.port);
  const auto reply =
      connection.request("GET", "/api/v1/info/00000000000000000000000000000000", {}, "");
  REQUIRE(reply);
  CHECK(reply->body.find("no Room found") != std::string::npos);
  first.child->signal(SIGTERM);
  CHECK(first.child->wait(milliseconds(10000)) == 0);
}

TEST_CASE("a data directory that cannot be created exits with code 2 and names it", "[crash]") {
  TempDir temp;
  const auto file = temp.dir() / "regular-file";
  std::ofstream(file) << "not a directory\n";

  SECTION("below a regular file") {
    const auto data = file / "data";
    Child child(serve_args(data), temp.dir() / "serve.log");
    const auto exit_code = child.wait(milliseconds(10000));
    const std::string output = child.output();
    INFO(output);
    CHECK(exit_code == 2);
    CHECK(one_line(output));
    CHECK(output.find("--data-dir") != std::string::npos);
    CHECK(output.find(data.string()) != std::string::npos);
    CHECK(output.find("Not a directory") != std::string::npos);
  }
  SECTION("a regular file itself") {
    Child child(serve_args(file), temp.dir() / "serve.log");
    const auto exit_code = child.wait(milliseconds(10000));
    const std::string output = child.output();
    INFO(output);
    CHECK(exit_code == 2);
    CHECK(one_line(output));
    CHECK(output.find(file.string()) != std::string::npos);
  }
}

TEST_CASE("log dump reads the log of a running roombus", "[crash]") {
  TempDir temp;
  const auto data = temp.dir() / "data";
  Server server = start_server(data, temp.dir() / "serve.log");
  REQUIRE(server.port != 0);
  const std::string api_key = register_server(server.port, kAdminToken);
  REQUIRE_FALSE(api_key.empty());
  HttpConnection connection(server.port);
  std::set<std::string> created;
  for (int i = 0; i < 5; ++i) {
    if (auto uid = created_uid(create_room(connection, api_key, "live-" + std::to_string(i)))) {
      created.insert(*uid);
    }
  }
  REQUIRE(created.size() == 5);

  // Acknowledged means committed: a separate reader sees all of it while the server runs.
  const Dump dump = log_dump(data, temp.dir() / "dump.jsonl");
  INFO(dump.output);
  CHECK(dump.exit_code == 0);
  std::set<std::string> dumped;
  for (const auto& event : dump.events) {
    if (event.type == "room.created") dumped.insert(event.uid);
  }
  CHECK(dumped == created);
  CHECK(dump.events.size() == 6);  // server.registered + 5 rooms

  CHECK_FALSE(server.child->wait(milliseconds(0)));
  server.child->signal(SIGTERM);
  CHECK(server.child->wait(milliseconds(10000)) == 0);
}

TEST_CASE("a commit that fails for real answers the waiting requests with 503, then exits 1",
          "[crash][fail-stop]") {
  TempDir temp;
  const auto data = temp.dir() / "data";
  // A write beyond the file-size limit must fail with EFBIG rather than kill the process: the
  // ignored disposition is inherited by the child.
  std::signal(SIGXFSZ, SIG_IGN);
  Server server = start_server(data, temp.dir() / "out.log");
  REQUIRE(server.port != 0);
  const std::string api_key = register_server(server.port, kAdminToken);
  REQUIRE_FALSE(api_key.empty());
  // The log's files may grow by 64 KiB more, then every write fails (as on a full disk).
  std::uintmax_t largest = 0;
  for (const auto& entry : std::filesystem::directory_iterator(data)) {
    if (entry.is_regular_file()) largest = std::max(largest, entry.file_size());
  }
  const rlim_t limit = static_cast<rlim_t>(largest + 64 * 1024);
  const rlimit fsize{limit, limit};
  REQUIRE(::prlimit(server.child->pid(), RLIMIT_FSIZE, &fsize, nullptr) == 0);

  std::mutex mutex;
  std::map<int, int> statuses;  // status -> count
  std::vector<std::string> bodies_503;
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&, c] {
      HttpConnection connection(server.port);
      for (int i = 0; i < 5000; ++i) {
        const auto reply =
            create_room(connection, api_key, "fs-" + std::to_string(c) + "-" + std::to_string(i));
        if (!reply) return;  // the server stopped
        std::lock_guard lock(mutex);
        ++statuses[reply->status];
        if (reply->status == 503) bodies_503.push_back(reply->body);
      }
    });
  }
  for (auto& t : clients) t.join();
  const auto code = server.child->wait(milliseconds(15000));
  const std::string out = server.child->output();
  INFO(out);
  CHECK(code == 1);
  CHECK(statuses[200] > 0);
  // The requests waiting for the failed commit got their answer before the process ended.
  REQUIRE(statuses[503] > 0);
  CHECK(bodies_503.front().find("Service unavailable") != std::string::npos);
  CHECK(out.find("event log commit failed") != std::string::npos);
  CHECK(out.find("stopped after a failure") != std::string::npos);
  // What was acknowledged is still there after a restart without the limit.
  std::signal(SIGXFSZ, SIG_DFL);
  Server again = start_server(data, temp.dir() / "again.log");
  REQUIRE(again.port != 0);
  HttpConnection connection(again.port);
  const auto ready = connection.request("GET", "/readyz", {}, "");
  REQUIRE(ready);
  CHECK(ready->status == 200);
}

}  // namespace
}  // namespace roombus::crash::test
