// The real `roombus serve` and its join key: made once in the data directory (0600), kept across
// restarts, shared by configuration, refused when malformed; --join-early-minutes end to end.
#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <ctime>
#include <fstream>

#include "roombus/crypto/join_links.hpp"
#include "support/roombus_process.hpp"

namespace {

namespace fs = std::filesystem;
using roombus::test::Child;
using roombus::test::HttpConnection;
using roombus::test::json_string_field;
using roombus::test::milliseconds;
using roombus::test::TempDir;

constexpr const char* kAdminToken = "join-serve-admin-token-0123456789";

// `roombus serve` on a free loopback port with its own data directory.
class Instance {
 public:
  Instance(const fs::path& data, std::vector<std::string> extra = {},
           const std::vector<std::string>& env = {})
      : log_(data.string() + ".log"), child_(args(data, std::move(extra)), log_, env) {
    port_ = child_.wait_for_port(milliseconds(20000));
  }

  bool started() const { return port_.has_value(); }
  std::string log() const { return child_.output(); }
  Child& child() { return child_; }

  roombus::test::Reply call(const std::string& method, const std::string& target,
                            std::vector<std::string> headers = {}, const std::string& body = "",
                            const std::string& type = "") {
    HttpConnection c(*port_);
    auto r = c.request(method, target, headers, body, type);
    REQUIRE(r);
    return *r;
  }

  // A server with an app secret and a room that starts `minutes_ahead` from now; the room's uid.
  std::string create_room(int minutes_ahead) {
    auto server =
        call("POST", "/admin/v1/servers", {std::string("Authorization: Bearer ") + kAdminToken},
             R"({"url":"meet.example.test","name":"Meet","app_id":"a","app_secret":"s",)"
             R"("members":["@example.com"]})",
             "application/json");
    REQUIRE(server.status == 201);
    std::string key = json_string_field(server.body, "api_key").value_or("");
    auto start = std::chrono::floor<std::chrono::minutes>(std::chrono::system_clock::now()) +
                 std::chrono::minutes(minutes_ahead);
    std::time_t t = std::chrono::system_clock::to_time_t(start);
    char when[32];
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%MZ", std::gmtime(&t));
    auto room = call("POST", "/api/v1/room", {"Authorization: Bearer " + key},
                     std::string("server=meet.example.test&email=mod%40example.com&name=Review"
                                 "&duration=30&start=") +
                         when,
                     "application/x-www-form-urlencoded");
    REQUIRE(room.status == 200);
    return json_string_field(room.body, "uid").value_or("");
  }

  std::string join_link(const std::string& uid) {
    std::string link =
        json_string_field(call("GET", "/api/v1/info/" + uid).body, "joinBrowser").value_or("");
    auto at = link.find("/room/join/");
    return at == std::string::npos ? "" : link.substr(at);
  }

  void stop() {
    child_.signal(SIGTERM);
    CHECK(child_.wait(milliseconds(15000)) == 0);
  }

 private:
  static std::vector<std::string> args(const fs::path& data, std::vector<std::string> extra) {
    std::vector<std::string> a{"serve",       "--data-dir",    data.string(), "--listen",
                               "127.0.0.1:0", "--admin-token", kAdminToken};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  fs::path log_;
  Child child_;
  std::optional<std::uint16_t> port_;
};

// Runs `roombus serve` that is expected to refuse to start; its exit code and output.
std::pair<std::optional<int>, std::string> refused(const fs::path& data,
                                                   std::vector<std::string> extra,
                                                   const std::vector<std::string>& env = {}) {
  Instance s(data, std::move(extra), env);
  auto code = s.child().wait(milliseconds(15000));
  return {code, s.log()};
}

}  // namespace

TEST_CASE("serve: the join key is made once, mode 0600, and join links survive a restart",
          "[serve][join]") {
  TempDir dir;
  const fs::path data = dir.dir() / "data";
  std::string uid, link;
  {
    Instance s(data);
    REQUIRE(s.started());
    CHECK(s.log().find("generated a join key") != std::string::npos);
    uid = s.create_room(120);
    link = s.join_link(uid);
    CHECK(link.size() == std::string("/room/join/b/").size() + 22);
    CHECK(s.call("GET", link).status == 200);
    s.stop();
  }
  struct stat st {};
  REQUIRE(::stat((data / "join-key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(st.st_size == 44);  // 43 characters and a newline
  CHECK_FALSE(fs::exists(data / "join-key.tmp"));

  Instance again(data);
  REQUIRE(again.started());
  CHECK(again.log().find("generated a join key") == std::string::npos);
  CHECK(again.join_link(uid) == link);
  CHECK(again.call("GET", link).status == 200);
  again.stop();
}

TEST_CASE("serve: --join-key and ROOMBUS_JOIN_KEY make instances hand out the same links",
          "[serve][join]") {
  TempDir dir;
  const std::string key = roombus::crypto::generate_join_key();
  roombus::crypto::JoinLinkCipher cipher(*roombus::crypto::parse_join_key(key));
  Instance by_flag(dir.dir() / "a", {"--join-key", key});
  Instance by_env(dir.dir() / "b", {}, {"ROOMBUS_JOIN_KEY=" + key});
  REQUIRE(by_flag.started());
  REQUIRE(by_env.started());
  for (Instance* s : {&by_flag, &by_env}) {
    std::string uid = s->create_room(120);
    CHECK(s->join_link(uid) == "/room/join/b/" + cipher.seal_uid(uid));
  }
  CHECK_FALSE(fs::exists(dir.dir() / "a" / "join-key"));
  CHECK_FALSE(fs::exists(dir.dir() / "b" / "join-key"));
  by_flag.stop();
  by_env.stop();
}

TEST_CASE("serve: join key material that is not a key exits 2 with one line naming it",
          "[serve][join]") {
  TempDir dir;
  auto one_line = [](const std::string& out, const std::string& name) {
    INFO(out);
    CHECK(out.find(name) != std::string::npos);
    CHECK(std::count(out.begin(), out.end(), '\n') == 1);
  };
  auto [flag_code, flag_out] = refused(dir.dir() / "a", {"--join-key", "too-short"});
  CHECK(flag_code == 2);
  one_line(flag_out, "--join-key/ROOMBUS_JOIN_KEY");
  auto [env_code, env_out] =
      refused(dir.dir() / "b", {}, {"ROOMBUS_JOIN_KEY=" + std::string(43, '*')});
  CHECK(env_code == 2);
  one_line(env_out, "--join-key/ROOMBUS_JOIN_KEY");
  fs::create_directories(dir.dir() / "c");
  std::ofstream(dir.dir() / "c" / "join-key") << "not a key\n";
  auto [file_code, file_out] = refused(dir.dir() / "c", {});
  CHECK(file_code == 2);
  one_line(file_out, (dir.dir() / "c" / "join-key").string());
  auto [early_code, early_out] = refused(dir.dir() / "d", {"--join-early-minutes", "-5"});
  CHECK(early_code == 2);
  one_line(early_out, "--join-early-minutes/ROOMBUS_JOIN_EARLY_MINUTES");
}

TEST_CASE("serve: ROOMBUS_JOIN_EARLY_MINUTES decides when a room's link opens", "[serve][join]") {
  TempDir dir;
  Instance standard(dir.dir() / "a");
  Instance strict(dir.dir() / "b", {}, {"ROOMBUS_JOIN_EARLY_MINUTES=5"});
  REQUIRE(standard.started());
  REQUIRE(strict.started());
  // Starts in 15 minutes: inside the default 30-minute lead, outside a 5-minute one.
  auto open = standard.call("GET", standard.join_link(standard.create_room(15)));
  CHECK(open.status == 200);
  CHECK(open.body.find("<form") != std::string::npos);
  auto closed = strict.call("GET", strict.join_link(strict.create_room(15)));
  CHECK(closed.status == 200);
  CHECK(closed.body.find("Not open yet") != std::string::npos);
  CHECK(closed.body.find("<form") == std::string::npos);
  standard.stop();
  strict.stop();
}
