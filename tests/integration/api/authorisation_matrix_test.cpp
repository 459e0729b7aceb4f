// The authorisation matrix: every v1 and admin route against every wrong credential is refused,
// and the log and the state stay byte for byte as they were; read-only routes leak nothing.
#include <catch2/catch.hpp>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "roombus/json/snapshot_codec.hpp"
#include "support/api_harness.hpp"
#include "support/roombus_process.hpp"

using roombus::testing::ApiHarness;
using roombus::testing::json_field;

namespace {

// Where a command comes in. A Kafka command consumer becomes a third surface: its send()
// publishes a command record with the credential in the `authorization` header, and its refusal
// is a DLQ record or an error result instead of an HTTP status.
enum class Surface { v1, admin };

// Everything a caller might present instead of the right credential.
enum class Credential {
  none,
  empty,
  malformed,  // the right key in a header jitsi-admin's regex does not accept
  wrong_key,
  other_server_key,
  rotated_out_key,
  admin_token_on_v1,
  v1_key_on_admin,
};

struct Secrets {
  std::string key;          // server A's current key
  std::string rotated_out;  // A's key before rotation
  std::string other_key;    // server B's key
  std::string room_uid;     // A's room
};

const char* kRoomName = "Quarterly numbers board meeting";
const char* kAppSecret = "app-secret-of-server-a";
const char* kParticipant = "carol@z.example";

struct Request {
  std::string method;
  std::string target;
  std::string body;
  std::string content_type;
};

struct Route {
  std::string name;
  Surface surface;
  bool read_only;
  std::function<Request(const Secrets&)> request;
  // Credentials this route deliberately accepts (documented in docs/api-v1.md and
  // docs/security.md); everything else must be refused. Accepted ones still change nothing and
  // show no secret, nor A's data unless `shows_a_to_accepted`.
  std::set<Credential> accepted_by_design = {};
  bool shows_a_to_accepted = false;
};

struct Presented {
  Credential credential;
  std::vector<std::string> headers;
};

Request form(std::string method, std::string target, std::string body) {
  return {std::move(method), std::move(target), std::move(body),
          "application/x-www-form-urlencoded"};
}

Request json_body(std::string method, std::string target, std::string body) {
  return {std::move(method), std::move(target), std::move(body), "application/json"};
}

// The routes in an order in which each one's own request, with the right credential, succeeds
// (the positive controls run after the matrix, destructive ones last).
std::vector<Route> routes() {
  return {
      {"v1 info", Surface::v1, true,
       [](const Secrets& s) { return form("GET", "/api/v1/info/" + s.room_uid, ""); }},
      // getRooms answers the key's own server: B's key gets B's (empty) list, nothing of A.
      {"v1 getRooms",
       Surface::v1,
       true,
       [](const Secrets&) {
         return form("GET", "/api/v1/server/getRooms?minutes=100000&includeRunning=1", "");
       },
       {Credential::other_server_key}},
      // serverInfo answers any valid server key (jitsi-admin's semantics): another server's key
      // sees which servers admit the email.
      {"v1 serverInfo",
       Surface::v1,
       true,
       [](const Secrets&) { return form("GET", "/api/v1/serverInfo?email=alice@x.example", ""); },
       {Credential::other_server_key},
       true},
      {"v1 room create", Surface::v1, false,
       [](const Secrets&) {
         return form("POST", "/api/v1/room",
                     "server=a.example.com&email=alice@x.example&name=New&"
                     "start=2021-03-01T10:00&duration=30");
       }},
      {"v1 room update", Surface::v1, false,
       [](const Secrets& s) {
         return form("PUT", "/api/v1/room", "uid=" + s.room_uid + "&name=Renamed");
       }},
      {"v1 user add", Surface::v1, false,
       [](const Secrets& s) {
         return form("POST", "/api/v1/user", "uid=" + s.room_uid + "&email=dave@x.example");
       }},
      {"v1 user remove", Surface::v1, false,
       [](const Secrets& s) {
         return form("DELETE", "/api/v1/user",
                     "uid=" + s.room_uid + "&email=" + std::string(kParticipant));
       }},
      {"v1 room move (path)", Surface::v1, false,
       [](const Secrets& s) {
         return form("POST", "/api/v1/room/move/" + s.room_uid, "serverId=1");
       }},
      {"v1 room move (body)", Surface::v1, false,
       [](const Secrets& s) {
         return form("POST", "/api/v1/room/move", "uid=" + s.room_uid + "&server=1");
       }},
      {"v1 server create (clone)", Surface::v1, false,
       [](const Secrets&) {
         return form("POST", "/api/v1/server/create", "url=c.example.com&name=C");
       }},
      {"v1 room delete", Surface::v1, false,
       [](const Secrets& s) { return form("DELETE", "/api/v1/room", "uid=" + s.room_uid); }},
      {"admin list servers", Surface::admin, true,
       [](const Secrets&) { return json_body("GET", "/admin/v1/servers", ""); }},
      {"admin show server", Surface::admin, true,
       [](const Secrets&) { return json_body("GET", "/admin/v1/servers/1", ""); }},
      {"admin show members", Surface::admin, true,
       [](const Secrets&) { return json_body("GET", "/admin/v1/servers/1/members", ""); }},
      {"admin register server", Surface::admin, false,
       [](const Secrets&) {
         return json_body("POST", "/admin/v1/servers", R"({"url":"d.example.com","name":"D"})");
       }},
      {"admin patch server", Surface::admin, false,
       [](const Secrets&) {
         return json_body("PATCH", "/admin/v1/servers/1", R"({"name":"A2"})");
       }},
      {"admin put server", Surface::admin, false,
       [](const Secrets&) { return json_body("PUT", "/admin/v1/servers/1", R"({"name":"A3"})"); }},
      {"admin replace members", Surface::admin, false,
       [](const Secrets&) {
         return json_body("PUT", "/admin/v1/servers/1/members",
                          R"({"members":["alice@x.example","erin@x.example"]})");
       }},
      {"admin add member", Surface::admin, false,
       [](const Secrets&) {
         return json_body("POST", "/admin/v1/servers/1/members", R"({"member":"@x.example"})");
       }},
      {"admin remove member", Surface::admin, false,
       [](const Secrets&) {
         return json_body("DELETE", "/admin/v1/servers/1/members/erin@x.example", "");
       }},
      {"admin set state", Surface::admin, false,
       [](const Secrets&) {
         return json_body("PUT", "/admin/v1/servers/1/state", R"({"state":"enabled"})");
       }},
      {"admin allow clone", Surface::admin, false,
       [](const Secrets&) {
         return json_body("PUT", "/admin/v1/servers/1/clone", R"({"allow_clone":true})");
       }},
      {"admin rotate key", Surface::admin, false,
       [](const Secrets&) { return json_body("POST", "/admin/v1/servers/2/rotate-key", ""); }},
      {"admin delete server", Surface::admin, false,
       [](const Secrets&) { return json_body("DELETE", "/admin/v1/servers/2", ""); }},
  };
}

std::vector<Presented> wrong_credentials(Surface surface, const Secrets& s) {
  std::vector<Presented> out = {
      {Credential::none, {}},
      {Credential::empty, {"Authorization:"}},
      {Credential::empty, {"Authorization: Bearer "}},
      {Credential::wrong_key, {"Authorization: Bearer not-a-key-of-anyone-0123456789"}},
      {Credential::other_server_key, {"Authorization: Bearer " + s.other_key}},
      {Credential::rotated_out_key, {"Authorization: Bearer " + s.rotated_out}},
  };
  // The right secret in a header that does not present it.
  const std::string& right = surface == Surface::v1 ? s.key : std::string(ApiHarness::kAdminToken);
  for (const std::string& header :
       {"Authorization: bearer " + right, "Authorization: Bearer  " + right,
        "Authorization: Bearer: " + right, "Authorization: Basic " + right,
        "Authorization: Bearer " + right + " extra", "X-Authorization: Bearer " + right,
        "Authorization: " + right}) {
    out.push_back({Credential::malformed, {header}});
  }
  if (surface == Surface::v1) {
    out.push_back({Credential::admin_token_on_v1,
                   {std::string("Authorization: Bearer ") + ApiHarness::kAdminToken}});
  } else {
    out.push_back({Credential::v1_key_on_admin, {"Authorization: Bearer " + s.key}});
  }
  return out;
}

std::vector<std::string> right_credential(Surface surface, const Secrets& s) {
  if (surface == Surface::v1) return {"Authorization: Bearer " + s.key};
  return {std::string("Authorization: Bearer ") + ApiHarness::kAdminToken};
}

bool refused(Surface surface, const roombus::test::Reply& r) {
  if (surface == Surface::admin) return r.status == 401;
  // v1 refuses with HTTP 200 and "error":true, as jitsi-admin does (move: 403/404).
  return r.status >= 400 || r.body.find(R"("error":true)") != std::string::npos;
}

// What the service holds, byte for byte: the state as the snapshot codec writes it, and every
// event and outcome handed to the log.
struct Fingerprint {
  std::string state;
  std::size_t events = 0;
  std::size_t outcomes = 0;
  bool operator==(const Fingerprint&) const = default;
};

Fingerprint fingerprint(ApiHarness& api) {
  return {roombus::json::encode_snapshot(api.service().state()), api.log().appended.size(),
          api.log().outcomes.size()};
}

// Builds servers A (clonable, with a room) and B, rotates A's key, and returns the secrets.
Secrets set_up(ApiHarness& api) {
  Secrets s;
  auto admin = std::vector<std::string>{
      "-H", std::string("Authorization: Bearer ") + ApiHarness::kAdminToken, "-H",
      "Content-Type: application/json"};
  auto post = [&](const std::string& path, const std::string& body) {
    auto args = admin;
    args.insert(args.end(), {"--data", body});
    return api.curl("POST", path, args);
  };
  auto a = post("/admin/v1/servers",
                std::string(R"({"url":"a.example.com","name":"A","app_secret":")") + kAppSecret +
                    R"(","members":["alice@x.example"],"allow_clone":true})");
  s.rotated_out = json_field(a.body, "api_key");
  auto b = post("/admin/v1/servers", R"({"url":"b.example.com","name":"B","members":[]})");
  s.other_key = json_field(b.body, "api_key");
  auto created = api.curl("POST", "/api/v1/room",
                          {"-H", "Authorization: Bearer " + s.rotated_out, "--data",
                           std::string("server=a.example.com&email=alice@x.example&name=") +
                               kRoomName + "&start=2021-02-10T13:00&duration=45"});
  s.room_uid = json_field(created.body, "uid");
  api.curl("POST", "/api/v1/user",
           {"-H", "Authorization: Bearer " + s.rotated_out, "--data",
            "uid=" + s.room_uid + "&email=" + kParticipant});
  s.key = json_field(post("/admin/v1/servers/1/rotate-key", "").body, "api_key");
  if (s.rotated_out.empty() || s.other_key.empty() || s.room_uid.size() != 32 || s.key.empty()) {
    throw std::runtime_error("matrix set-up failed");
  }
  return s;
}

// Nothing secret ever comes back, whoever asks; a refused read says nothing about A's room.
void check_no_leak(const std::string& body, const Secrets& s, bool refused_read) {
  for (const std::string& secret : {s.key, s.rotated_out, s.other_key, std::string(kAppSecret),
                                    std::string(ApiHarness::kAdminToken)}) {
    CHECK(body.find(secret) == std::string::npos);
  }
  if (!refused_read) return;
  for (const std::string& data : {s.room_uid, std::string(kRoomName), std::string(kParticipant),
                                  std::string("alice@x.example"), std::string("a.example.com")}) {
    CHECK(body.find(data) == std::string::npos);
  }
}

void run_matrix(ApiHarness& api, const std::vector<Route>& table) {
  const Secrets s = set_up(api);
  roombus::test::HttpConnection http(api.port());
  REQUIRE(http.connected());
  const Fingerprint before = fingerprint(api);
  std::size_t remembered_rejections = 0;
  int idempotency = 0;

  for (const Route& route : table) {
    for (const Presented& p : wrong_credentials(route.surface, s)) {
      const bool accepted = route.accepted_by_design.count(p.credential) != 0;
      const Request req = route.request(s);
      for (bool keyed : {false, true}) {
        std::vector<std::string> headers = p.headers;
        if (keyed) headers.push_back("Idempotency-Key: matrix-" + std::to_string(++idempotency));
        INFO(route.name << " with " << (p.headers.empty() ? "no header" : p.headers.front())
                        << (keyed ? " and an Idempotency-Key" : ""));
        auto reply = http.request(req.method, req.target, headers, req.body, req.content_type);
        REQUIRE(reply);
        if (!accepted) CHECK(refused(route.surface, *reply));
        check_no_leak(reply->body, s, route.read_only && !(accepted && route.shows_a_to_accepted));
        // A refusal of a caller who holds a live server key is remembered under its key, like
        // any rejection (docs/architecture.md); nothing else may reach the log.
        if (keyed && !route.read_only && route.surface == Surface::v1 &&
            p.credential == Credential::other_server_key) {
          ++remembered_rejections;
        }
        Fingerprint now = fingerprint(api);
        CHECK(now.state == before.state);
        CHECK(now.events == before.events);
        CHECK(now.outcomes == before.outcomes + remembered_rejections);
      }
    }
  }

  // Positive controls: each route answers its right credential, so the refusals above were not
  // a route that refuses everyone.
  for (const Route& route : table) {
    INFO(route.name << " with the right credential");
    const Request req = route.request(s);
    auto reply = http.request(req.method, req.target, right_credential(route.surface, s), req.body,
                              req.content_type);
    REQUIRE(reply);
    CHECK_FALSE(refused(route.surface, *reply));
    CHECK(reply->status < 300);
  }
}

}  // namespace

TEST_CASE("every route refuses every wrong credential and changes nothing",
          "[api][authorisation]") {
  roombus::http::ApiOptions options;
  options.info_requires_key = true;  // info is public by default; this closes it for the matrix
  ApiHarness api(options);
  run_matrix(api, routes());
}

TEST_CASE("info by uid is public by default and shows no secret", "[api][authorisation]") {
  ApiHarness api;
  const Secrets s = set_up(api);
  roombus::test::HttpConnection http(api.port());
  auto reply = http.request("GET", "/api/v1/info/" + s.room_uid, {}, "");
  REQUIRE(reply);
  CHECK(reply->status == 200);
  CHECK(reply->body.find(kRoomName) != std::string::npos);
  check_no_leak(reply->body, s, false);
  // Without the uid there is nothing to read.
  auto other = http.request("GET", "/api/v1/info/" + std::string(32, '0'), {}, "");
  REQUIRE(other);
  CHECK(other->body == R"({"error":true,"text":"no Room found"})");
}
