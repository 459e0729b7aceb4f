// End-to-end tests of the admin API, health and metrics endpoints over loopback with curl.
#include <catch2/catch.hpp>

#include "support/api_harness.hpp"

using roombus::testing::ApiHarness;
using roombus::testing::json_field;

namespace {

std::vector<std::string> admin(std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"-H",
                                std::string("Authorization: Bearer ") + ApiHarness::kAdminToken,
                                "-H", "Content-Type: application/json"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

}  // namespace

TEST_CASE("the admin API refuses requests without the admin token", "[api][admin]") {
  ApiHarness api;
  auto r = api.curl("GET", "/admin/v1/servers");
  CHECK(r.status == 401);
  CHECK(r.header("WWW-Authenticate").find("Bearer") == 0);
  CHECK(api.curl("GET", "/admin/v1/servers", {"-H", "Authorization: Bearer nope"}).status == 401);
}

TEST_CASE("servers are registered, shown, changed and deleted through the admin API",
          "[api][admin]") {
  ApiHarness api;
  auto created = api.curl("POST", "/admin/v1/servers",
                          admin({"--data", R"({"url":"https://Meet.example.com/","name":"Meet",)"
                                           R"("members":["Alice@X.de"],"allow_clone":true})"}));
  CHECK(created.status == 201);
  CHECK(json_field(created.body, "id") == "1");
  CHECK(json_field(created.body, "api_key").size() >= 22);
  CHECK(created.body.find(R"("url":"Meet.example.com")") != std::string::npos);
  CHECK(created.body.find(R"("members":["alice@x.de"])") != std::string::npos);

  auto shown = api.curl("GET", "/admin/v1/servers/1", admin());
  CHECK(shown.status == 200);
  CHECK(shown.body.find("api_key") == std::string::npos);
  CHECK(shown.body.find("app_secret") == std::string::npos);

  auto patched = api.curl("PATCH", "/admin/v1/servers/1", admin({"--data", R"({"name":"New"})"}));
  CHECK(patched.status == 200);
  CHECK(json_field(patched.body, "name") == "New");

  CHECK(api.curl("PUT", "/admin/v1/servers/1/state", admin({"--data", R"({"state":"cordoned"})"}))
            .body.find(R"("state":"cordoned")") != std::string::npos);
  CHECK(api.curl("PUT", "/admin/v1/servers/1/state", admin({"--data", R"({"state":"paused"})"}))
            .status == 400);
  CHECK(api.curl("POST", "/admin/v1/servers/1/members", admin({"--data", R"({"member":"@y.de"})"}))
            .body.find(R"("members":["alice@x.de","@y.de"])") != std::string::npos);
  CHECK(api.curl("DELETE", "/admin/v1/servers/1/members/alice@x.de", admin()).status == 200);
  CHECK(api.curl("DELETE", "/admin/v1/servers/1/members/alice@x.de", admin()).status == 404);

  auto rotated = api.curl("POST", "/admin/v1/servers/1/rotate-key", admin());
  CHECK(rotated.status == 200);
  CHECK(json_field(rotated.body, "api_key") != json_field(created.body, "api_key"));

  auto list = api.curl("GET", "/admin/v1/servers", admin());
  CHECK(list.body.find(R"({"servers":[{"id":1,)") == 0);
  CHECK(api.curl("DELETE", "/admin/v1/servers/1", admin()).status == 204);
  CHECK(api.curl("GET", "/admin/v1/servers/1", admin()).status == 404);
  CHECK(api.curl("GET", "/admin/v1/servers", admin()).body == R"({"servers":[]})");
}

TEST_CASE("the admin API answers bad input with a status and a JSON error", "[api][admin]") {
  ApiHarness api;
  api.register_server("meet.example.com", "[]");
  auto dup = api.curl("POST", "/admin/v1/servers",
                      admin({"--data", R"({"url":"meet.example.com","name":"Again"})"}));
  CHECK(dup.status == 409);
  CHECK(dup.body.find(R"({"error":{"code":"conflict","message":")") == 0);
  CHECK(api.curl("POST", "/admin/v1/servers", admin({"--data", "not json"})).status == 400);
  CHECK(api.curl("POST", "/admin/v1/servers",
                 admin({"--data", R"({"url":"x.example.com","name":"X","colour":"red"})"}))
            .body.find("unknown field 'colour'") != std::string::npos);
  CHECK(api.curl("POST", "/admin/v1/servers",
                 admin({"--data", R"({"url":"x.example.com","name":"X","members":"a@b.de"})"}))
            .status == 400);
  CHECK(api.curl("PATCH", "/admin/v1/servers/42", admin({"--data", "{}"})).status == 404);
  CHECK(api.curl("GET", "/admin/v1/servers/abc", admin()).status == 404);
  CHECK(api.curl("POST", "/admin/v1/servers/1", admin()).status == 405);
}

TEST_CASE("an imported jitsi-admin key keeps working for v1 clients", "[api][admin]") {
  ApiHarness api;
  auto r = api.curl("POST", "/admin/v1/servers",
                    admin({"--data", R"({"url":"meet.example.com","name":"M",)"
                                     R"("members":["a@x.de"],"api_key":"k3y0ld1234567890abcd"})"}));
  CHECK(r.status == 201);
  CHECK(r.body.find("api_key") == std::string::npos);
  auto created =
      api.curl("POST", "/api/v1/room?server=meet.example.com&email=a@x.de&name=A&duration=5",
               {"-H", "Authorization: Bearer k3y0ld1234567890abcd"});
  CHECK(json_field(created.body, "error") == "false");
}

TEST_CASE("health, readiness and Prometheus metrics are served", "[api][health]") {
  ApiHarness api;
  api.register_server("meet.example.com", "[]");
  CHECK(api.curl("GET", "/healthz").status == 200);
  auto ready = api.curl("GET", "/readyz");
  CHECK(ready.status == 200);
  CHECK(ready.body == R"({"ready":true,"checks":{}})");
  auto m = api.curl("GET", "/metrics");
  CHECK(m.status == 200);
  CHECK(m.body.find(R"(roombus_http_requests_total{route="admin_servers",status="201"} 1)") !=
        std::string::npos);
  CHECK(m.body.find("roombus_http_request_duration_seconds_bucket{route=\"admin_servers\",le=") !=
        std::string::npos);
  CHECK(m.body.find("roombus_servers 1\n") != std::string::npos);
  CHECK(m.body.find("roombus_rooms 0\n") != std::string::npos);
  CHECK(m.body.find("roombus_log_position 1\n") != std::string::npos);
}

TEST_CASE("readiness reports a failed log with 503 and every check as JSON", "[api][health]") {
  roombus::http::ApiOptions options;
  options.readiness = [] {
    roombus::http::Readiness r;
    r.ready = false;
    r.checks = {{"log", "down"}, {"redis", "off"}, {"kafka", "ok"}};
    r.details = {{"log", "event log failed: disk full"}};
    return r;
  };
  ApiHarness api(options);
  auto r = api.curl("GET", "/readyz");
  CHECK(r.status == 503);
  CHECK(r.body == R"({"ready":false,"checks":{"log":"down","redis":"off","kafka":"ok"},)"
                  R"("detail":{"log":"event log failed: disk full"}})");
}

TEST_CASE("a dependency that is down degrades readiness but keeps it 200", "[api][health]") {
  roombus::http::ApiOptions options;
  options.readiness = [] {
    roombus::http::Readiness r;
    r.checks = {{"log", "ok"}, {"redis", "off"}, {"kafka", "down"}};
    r.details = {{"kafka", "1/1 brokers are down"}};
    return r;
  };
  ApiHarness api(options);
  auto r = api.curl("GET", "/readyz");
  CHECK(r.status == 200);
  CHECK(r.body.find(R"("kafka":"down")") != std::string::npos);
  CHECK(r.body.find("brokers are down") != std::string::npos);
}

TEST_CASE("a reused Idempotency-Key with another body answers 422 on the admin API",
          "[api][admin][idempotency]") {
  ApiHarness api;
  auto first = api.curl(
      "POST", "/admin/v1/servers",
      admin({"-H", "Idempotency-Key: reg", "--data", R"({"url":"a.example.com","name":"A"})"}));
  CHECK(first.status == 201);
  auto other = api.curl(
      "POST", "/admin/v1/servers",
      admin({"-H", "Idempotency-Key: reg", "--data", R"({"url":"b.example.com","name":"B"})"}));
  CHECK(other.status == 422);
  CHECK(json_field(other.body, "code") == "command_id_reused");
  // Key order and spacing do not make another request; the repeat gets no key.
  auto again = api.curl(
      "POST", "/admin/v1/servers",
      admin({"-H", "Idempotency-Key: reg", "--data", R"({ "name":"A", "url":"a.example.com" })"}));
  CHECK(again.status == 201);
  CHECK(json_field(again.body, "id") == json_field(first.body, "id"));
  CHECK(json_field(again.body, "api_key").empty());
  CHECK(api.curl("GET", "/admin/v1/servers", admin()).body.find("b.example.com") ==
        std::string::npos);
}

TEST_CASE("a server's demand forecast is served over its horizon, 404 for unknown servers",
          "[api][admin][demand]") {
  roombus::http::ApiOptions options;
  options.demand_horizon = std::chrono::minutes{30};
  ApiHarness api(options);
  auto [id, key] = api.register_server("meet.example.com", R"(["alice@x.de"])");
  // 13:20 in Berlin is 12:20 UTC; the harness's clock reads 12:00 UTC.
  auto created = api.curl("POST", "/api/v1/room",
                          {"-H", "Authorization: Bearer " + key, "--data",
                           "server=meet.example.com&email=alice%40x.de&name=Daily&start=2021-02-"
                           "02T13%3A20&duration=10"});
  REQUIRE(created.status == 200);
  const std::string uid = json_field(created.body, "uid");
  REQUIRE(
      api.curl("POST", "/api/v1/user",
               {"-H", "Authorization: Bearer " + key, "--data", "uid=" + uid + "&email=bob%40y.de"})
          .status == 200);

  auto demand = api.curl("GET", "/admin/v1/servers/" + std::to_string(id) + "/demand", admin());
  CHECK(demand.status == 200);
  CHECK(demand.header("Content-Type").find("application/json") == 0);
  CHECK(demand.body ==
        R"({"server_id":1,"at":"2021-02-02T12:00:00Z","bucket_minutes":5,"buckets":[)"
        R"({"start":"2021-02-02T12:00:00Z","rooms":0,"participants":0},)"
        R"({"start":"2021-02-02T12:05:00Z","rooms":0,"participants":0},)"
        R"({"start":"2021-02-02T12:10:00Z","rooms":0,"participants":0},)"
        R"({"start":"2021-02-02T12:15:00Z","rooms":0,"participants":0},)"
        R"({"start":"2021-02-02T12:20:00Z","rooms":1,"participants":2},)"
        R"({"start":"2021-02-02T12:25:00Z","rooms":1,"participants":2}]})");
  CHECK(api.curl("GET", "/admin/v1/servers/9/demand", admin()).status == 404);
  CHECK(api.curl("POST", "/admin/v1/servers/1/demand", admin()).status == 405);
  CHECK(api.curl("GET", "/admin/v1/servers/1/demand").status == 401);
}
