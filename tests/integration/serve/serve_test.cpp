// End-to-end tests of the real `roombus serve` binary as a child process: limits, memory, signals.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <tuple>
#include <vector>

#include "integration/http/loopback.hpp"
#include "support/eventually.hpp"
#include "support/roombus_process.hpp"

namespace {

namespace fs = std::filesystem;
using roombus::http::test::RawClient;
using roombus::http::test::Reply;
using roombus::test::eventually;
using roombus::test::Finished;
using roombus::test::kPatience;
using roombus::test::read_file;
using roombus::test::RoombusServe;
using roombus::test::run_to_end;
using roombus::test::TempDir;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using namespace std::chrono_literals;

constexpr std::string_view admin_token = "serve-test-admin-token-0123456789";

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// `roombus serve` (the kit's RoombusServe) with this suite's admin token; a child that dies early
// (or never listens) fails the test with its log.
class Roombus {
 public:
  Roombus(const fs::path& data_dir, const std::vector<std::string>& flags = {},
          const std::vector<std::string>& extra_env = {})
      : serve_(data_dir, next_log(data_dir), flags, admin_token, extra_env) {
    if (serve_.port == 0) {
      throw std::runtime_error("roombus serve did not start; its log:\n" + serve_.output());
    }
  }

  pid_t pid() const { return serve_.child->pid(); }
  std::uint16_t port() const { return serve_.port; }
  std::string url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(port()) + std::string(path);
  }
  std::string log() const { return serve_.output(); }
  bool running() { return !serve_.child->wait(0ms); }
  std::optional<int> wait(milliseconds timeout) { return serve_.child->wait(timeout); }

 private:
  static fs::path next_log(const fs::path& data_dir) {
    static int counter = 0;
    return data_dir.parent_path() / ("serve-" + std::to_string(++counter) + ".log");
  }

  RoombusServe serve_;
};

// Runs a command (`args[0]`: a path) to completion, SIGKILLed after `timeout`.
Finished run(const std::vector<std::string>& args, const fs::path& dir, milliseconds timeout = 20s,
             const std::vector<std::string>& extra_env = {}) {
  return run_to_end(args, dir, timeout, extra_env);
}

// One exchange on a fresh connection: the status of the answer (0: none) and whether the
// server then closed the connection.
struct Outcome {
  int status = 0;
  bool closed = false;
};

Outcome exchange(std::uint16_t port, std::string_view bytes, milliseconds timeout = 5s) {
  RawClient c(port);
  c.send(bytes);  // may stop early: the server answers limit violations before reading it all
  std::optional<Reply> reply = c.read_reply(timeout);
  return Outcome{reply ? reply->status : 0, c.closed_within(timeout)};
}

// A complete, well-formed request on a fresh connection gets a 200: the server still serves.
bool serves(std::uint16_t port) {
  RawClient c(port);
  c.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  std::optional<Reply> reply = c.read_reply(5s);
  return reply && reply->status == 200 && reply->body == "ok\n";
}

std::string get_request(std::string_view target, std::string_view extra = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + std::string(extra) +
         "\r\n";
}

// GET on a fresh connection, closed as soon as the answer is in.
std::optional<Reply> fetch(std::uint16_t port, std::string_view target) {
  RawClient c(port);
  c.send(get_request(target, "Connection: close\r\n"));
  return c.read_reply(5s);
}

std::string json_value(std::string_view json, std::string_view key) {
  std::string pattern = "\"" + std::string(key) + "\":\"";
  auto at = json.find(pattern);
  if (at == std::string_view::npos) return "";
  auto start = at + pattern.size();
  return std::string(json.substr(start, json.find('"', start) - start));
}

// Registers a clonable server through the admin API and returns its v1 API key.
std::string register_server(const Roombus& s, std::string_view url, std::string_view member) {
  auto run_curl = roombus::http::test::curl(
      "-X POST " + s.url("/admin/v1/servers") + " -H 'Authorization: Bearer " +
      std::string(admin_token) + "' -d '{\"url\":\"" + std::string(url) +
      "\",\"name\":\"Test\",\"members\":[\"" + std::string(member) + "\"],\"allow_clone\":true}'");
  std::string key = json_value(run_curl.output, "api_key");
  if (key.empty()) throw std::runtime_error("admin create failed: " + run_curl.output);
  return key;
}

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("VmRSS:")) return std::atol(line.c_str() + 6);
  }
  throw std::runtime_error("no VmRSS for pid " + std::to_string(pid));
}

// Trickles a header field one byte every 250 ms, as a slowloris client does; returns the
// status that ends it (0: none within 25 s).
int slowloris(std::uint16_t port) {
  RawClient c(port);
  c.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  const std::string field = "X-Slow: " + std::string(400, 'z');
  auto give_up = Clock::now() + 25s;
  for (std::size_t i = 0; Clock::now() < give_up; ++i) {
    if (!c.send(std::string_view(field).substr(i % field.size(), 1))) break;
    if (std::optional<Reply> r = c.read_reply(250ms)) return r->status;
  }
  std::optional<Reply> r = c.read_reply(1s);
  return r ? r->status : 0;
}

// The server's count of open HTTP connections (this question's own included), -1 if unanswered.
int open_connections(std::uint16_t port) {
  RawClient c(port);
  c.send(get_request("/metrics", "Connection: close\r\n"));
  std::optional<Reply> reply = c.read_reply(5s);
  constexpr std::string_view kGauge = "\nroombus_http_connections ";
  const auto at = reply ? reply->body.find(kGauge) : std::string::npos;
  return at == std::string::npos ? -1 : std::atoi(reply->body.c_str() + at + kGauge.size());
}

// Bad requests of every kind the limits catch, with the status each must get.
struct BadRequest {
  std::string name;
  std::string bytes;
  int status;
};

std::vector<BadRequest> bad_requests(std::size_t max_body_bytes) {
  std::string chunk(max_body_bytes + 16, 'b');
  char size_hex[32];
  std::snprintf(size_hex, sizeof size_hex, "%zx", chunk.size());
  return {
      {"oversized request line", get_request("/api/v1/info/" + std::string(9000, 'a')), 414},
      {"oversized header field",
       get_request("/healthz", "X-Big: " + std::string(17 * 1024, 'h') + "\r\n"), 431},
      {"too many header fields",
       [] {
         std::string fields;
         for (int i = 0; i < 150; ++i) fields += "X-F" + std::to_string(i) + ": v\r\n";
         return get_request("/healthz", fields);
       }(),
       431},
      {"declared body over the limit",
       "POST /api/v1/room HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
       "application/x-www-form-urlencoded\r\nContent-Length: " +
           std::to_string(max_body_bytes + 1) + "\r\n\r\n",
       413},
      {"chunked body over the limit",
       "POST /api/v1/room HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n" +
           std::string(size_hex) + "\r\n" + chunk + "\r\n0\r\n\r\n",
       413},
      {"garbage bytes (a TLS ClientHello)",
       std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x00\xff\xfe", 14), 400},
      {"binary noise", std::string("\x00\x01\x02\x7f\x80\xfe\xff\r\n\r\n", 11), 400},
      {"malformed request line: no version", "GET /healthz\r\nHost: x\r\n\r\n", 400},
      {"malformed request line: bad protocol", "GET /healthz HTPT/1.1\r\nHost: x\r\n\r\n", 400},
      {"malformed request line: two spaces", "GET  /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"malformed request line: space in method", "G ET / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
      {"space in a field name", "GET /healthz HTTP/1.1\r\nHo st: x\r\n\r\n", 400},
      {"space before the colon",
       "POST /api/v1/room HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\nabcde", 400},
      {"conflicting Content-Length",
       "POST /api/v1/room HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
       400},
      // Issue 12: this one created a room.
      {"chunk data not followed by CRLF",
       "POST /api/v1/room HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
       "5\r\nhelloXX5\r\nworld\r\n0\r\n\r\n",
       400},
      {"obs-fold", "GET /healthz HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", 400},
      {"bare LF", "GET /healthz HTTP/1.1\nHost: x\n\n", 400},
  };
}

}  // namespace

TEST_CASE("serve: every limit answers its status, and the next request is served", "[serve]") {
  TempDir dir;
  Roombus s(dir.dir() / "data", {"--max-body-bytes", "1024"});
  REQUIRE(serves(s.port()));
  // The request deadline (15 s, not configurable) is the slowest check: it runs alongside.
  auto started = Clock::now();
  std::future<int> slow = std::async(std::launch::async, slowloris, s.port());

  for (const BadRequest& bad : bad_requests(1024)) {
    INFO(bad.name);
    Outcome o = exchange(s.port(), bad.bytes);
    CHECK(o.status == bad.status);
    CHECK(o.closed);
    CHECK(serves(s.port()));
  }
  // A body just at the limit is still read (and refused by the API, not by the server).
  std::string body = "note=" + std::string(1024 - 5, 'n');
  Outcome at_limit = exchange(s.port(),
                              "POST /api/v1/room HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              "Content-Type: application/x-www-form-urlencoded\r\n"
                              "Connection: close\r\nContent-Length: 1024\r\n\r\n" +
                                  body);
  CHECK(at_limit.status == 200);

  INFO("slowloris");
  int slow_status = slow.get();
  auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - started);
  CHECK(slow_status == 408);
  CHECK(took >= 10s);
  CHECK(serves(s.port()));
  INFO(s.log());
  CHECK(s.running());
}

TEST_CASE("serve: connections beyond --max-connections get a 503", "[serve]") {
  TempDir dir;
  Roombus s(dir.dir() / "data", {"--max-connections", "4"});
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<RawClient>(s.port()));
    held.back()->send(get_request("/healthz"));
    std::optional<Reply> r = held.back()->read_reply(5s);
    REQUIRE(r);
    CHECK(r->status == 200);  // keep-alive: the connection stays open and counted
  }
  for (int i = 0; i < 3; ++i) {
    Outcome o = exchange(s.port(), get_request("/healthz"));
    CHECK(o.status == 503);
    CHECK(o.closed);
  }
  held.pop_back();
  // The freed slot is found once the server has seen the close.
  CHECK(eventually([&] { return serves(s.port()); }));
  held.clear();
  INFO(s.log());
  CHECK(s.running());
}

TEST_CASE("serve: memory stays bounded under bad requests and abandoned connections", "[serve]") {
  TempDir dir;
  // ASan keeps freed memory in a quarantine (256 MiB by default) before reusing it, which would
  // show up as growth; a small one keeps the measurement about the server. No-op otherwise.
  const char* asan = std::getenv("ASAN_OPTIONS");
  std::string asan_options = std::string("ASAN_OPTIONS=") + (asan ? asan : "") +
                             (asan && *asan ? ":" : "") + "quarantine_size_mb=4";
  Roombus s(dir.dir() / "data", {"--max-body-bytes", "65536"}, {asan_options});
  const std::vector<BadRequest> bad = bad_requests(65536);

  // Half requests: headers and part of a body, then the client goes away.
  auto abandon = [&](int count) {
    std::vector<std::unique_ptr<RawClient>> clients;
    for (int i = 0; i < count; ++i) {
      clients.push_back(std::make_unique<RawClient>(s.port()));
      clients.back()->send(
          "POST /api/v1/room HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
          "60000\r\n\r\n" +
          std::string(static_cast<std::size_t>(1000 + 37 * i), 'p'));
    }
  };
  // Four clients at once (Catch2 assertions are not thread-safe: mismatches are collected).
  auto abuse = [&](int rounds, int abandoned_batches) {
    std::vector<std::future<std::string>> clients;
    for (int t = 0; t < 4; ++t) {
      clients.push_back(std::async(std::launch::async, [&, t] {
        std::string mismatches;
        for (int i = t; i < rounds; i += 4) {
          const BadRequest& b = bad[static_cast<std::size_t>(i) % bad.size()];
          Outcome o = exchange(s.port(), b.bytes);
          if (o.status != b.status || !o.closed) {
            mismatches += b.name + ": got " + std::to_string(o.status) + "\n";
          }
        }
        return mismatches;
      }));
    }
    std::string mismatches;
    for (auto& c : clients) mismatches += c.get();
    CHECK(mismatches.empty());
    for (int i = 0; i < abandoned_batches; ++i) abandon(200);
  };

  // Warm-up: allocator pools and first-use structures are not growth.
  abuse(300, 1);
  REQUIRE(serves(s.port()));
  REQUIRE(eventually([&] { return open_connections(s.port()) == 1; }));  // this question's own
  long before = rss_kib(s.pid());

  auto started = Clock::now();
  abuse(3000, 5);
  REQUIRE(eventually([&] { return open_connections(s.port()) == 1; }));  // every close seen
  REQUIRE(serves(s.port()));
  long after = rss_kib(s.pid());
  auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - started);
  INFO("VmRSS " << before << " KiB -> " << after << " KiB; abuse took " << took.count() << " ms");
  CHECK(after - before < 20 * 1024);
  INFO(s.log());
  CHECK(s.running());
}

TEST_CASE("serve: SIGTERM lets a request in flight finish, exits 0, and the data survives",
          "[serve]") {
  TempDir dir;
  const fs::path data = dir.dir() / "data";
  std::string uid;
  {
    Roombus s(data);
    std::string key = register_server(s, "meet.example.com", "alice@example.com");
    auto client = std::make_unique<RawClient>(s.port());
    RawClient& c = *client;
    const std::string body = "note=sent+across+the+signal";
    c.send(
        "POST /api/v1/room?server=meet.example.com&email=alice%40example.com"
        "&name=Before%20shutdown&start=2030-01-07T09:00&duration=30 HTTP/1.1\r\n"
        "Host: 127.0.0.1\r\nAuthorization: Bearer " +
        key +
        "\r\nContent-Type: application/x-www-form-urlencoded\r\nExpect: 100-continue\r\n"
        "Content-Length: " +
        std::to_string(body.size()) + "\r\n\r\n");
    // The interim answer says the server has read the head: the request is live.
    std::optional<Reply> interim = c.read_reply(kPatience);
    REQUIRE(interim);
    REQUIRE(interim->status == 100);
    REQUIRE(::kill(s.pid(), SIGTERM) == 0);
    // Signal seen, no new connections, while our request is still open.
    CHECK(eventually(
        [&] { return contains(s.log(), "shutting down") && !RawClient::can_connect(s.port()); }));
    c.send(body);
    std::optional<Reply> reply = c.read_reply(10s);
    REQUIRE(reply);
    CHECK(reply->status == 200);
    CHECK(contains(reply->body, R"("text":"Meeting erfolgreich angelegt")"));
    CHECK(reply->header("Connection") == "close");
    uid = json_value(reply->body, "uid");
    CHECK(c.closed_within(5s));
    client.reset();  // else the server lingers for our close until its linger timeout
    std::optional<int> code = s.wait(15s);
    INFO(s.log());
    CHECK(code == 0);
    CHECK(contains(s.log(), "stopped"));
  }
  REQUIRE(uid.size() == 32);
  Roombus again(data);
  std::optional<Reply> info = fetch(again.port(), "/api/v1/info/" + uid);
  REQUIRE(info);
  CHECK(info->status == 200);
  CHECK(contains(info->body, R"("name":"Before shutdown")"));
  CHECK(contains(info->body, R"("teilnehmer":["alice@example.com"])"));
  REQUIRE(::kill(again.pid(), SIGTERM) == 0);
  CHECK(again.wait(15s) == 0);
}

TEST_CASE("serve: bad configuration exits 2 with one line naming the option", "[serve]") {
  TempDir dir;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--listen", "nonsense"},
      {"--timezone", "Mars/Olympus"},
      {"--public-url", "ftp://x"},
      {"--kafka-brokers", "broker:notaport"},
      {"--kafka-brokers", "a b:9092"},
      {"--kafka-config", "no.such.property=1"},
      {"--idempotency-ttl", "0"},
      {"--idempotency-ttl", "30s"},
      {"--idempotency-ttl", "24x"},
      {"--idempotency-ttl", "-1h"},
      {"--idempotency-ttl", "366d"},
      {"--starting-soon-minutes", "-1"},
      {"--starting-soon-minutes", "10081"},
      {"--demand-horizon-minutes", "0"},
      {"--demand-horizon-minutes", "7"},
      {"--demand-horizon-minutes", "10085"},
  };
  for (const auto& [flag, value] : cases) {
    INFO(flag << " " << value);
    Finished f = run({ROOMBUS_BINARY, "serve", "--data-dir", (dir.dir() / "data").string(),
                      "--admin-token", std::string(admin_token), flag, value},
                     dir.dir());
    INFO("stderr: " << f.err);
    CHECK(f.exit_code == 2);
    CHECK(f.out.empty());
    REQUIRE(!f.err.empty());
    CHECK(f.err.back() == '\n');
    CHECK(f.err.find('\n') == f.err.size() - 1);
    CHECK(contains(f.err, flag));
  }
}

TEST_CASE("serve: an unsafe or unusable admin-token file is refused, not used or replaced",
          "[serve][admin-token]") {
  TempDir dir;
  const fs::path data = dir.dir() / "data";
  fs::create_directories(data);
  const fs::path file = data / "admin-token";
  const std::vector<std::tuple<std::string, std::string, ::mode_t, std::string>> cases = {
      {"world-readable", "a-long-enough-admin-token-123\n", 0644, "mode 0644"},
      {"too short", "short\n", 0600, "token of 5 characters"},
  };
  for (const auto& [name, content, mode, message] : cases) {
    INFO(name);
    std::ofstream(file, std::ios::trunc) << content;
    REQUIRE(::chmod(file.c_str(), mode) == 0);
    Finished f =
        run({ROOMBUS_BINARY, "serve", "--data-dir", data.string(), "--listen", "127.0.0.1:0"},
            dir.dir());
    INFO("stderr: " << f.err);
    CHECK(f.exit_code == 2);
    CHECK(f.err.find('\n') == f.err.size() - 1);
    CHECK(contains(f.err, file.string()));
    CHECK(contains(f.err, message));
    CHECK(read_file(file) == content);  // left as it was
  }
}

TEST_CASE("serve: a jitsi-admin client written from its documentation works unchanged", "[serve]") {
  TempDir dir;
  // jitsi-admin's images run in Europe/Berlin; its clients write wall-clock times in that zone.
  Roombus s(dir.dir() / "data", {"--timezone", "Europe/Berlin"});
  Finished created = run({ROOMBUS_BINARY, "admin", "--url", s.url(""), "--admin-token",
                          std::string(admin_token), "create", "--url", "meet.example.com", "--name",
                          "Meet", "--member", "alice@example.com", "--allow-clone"},
                         dir.dir());
  INFO(created.out << created.err);
  REQUIRE(created.exit_code == 0);
  std::string key = json_value(created.out, "api_key");
  REQUIRE(!key.empty());

  Finished client = run(
      {"/bin/bash", ROOMBUS_CLIENT_SCRIPT, s.url(""), key, "meet.example.com", "alice@example.com"},
      dir.dir(), 30s, {"CLIENT_TZ=Europe/Berlin"});
  INFO("client stdout:\n" << client.out << "client stderr:\n" << client.err);
  INFO("server log:\n" << s.log());
  CHECK(client.exit_code == 0);
  CHECK(s.running());
}
