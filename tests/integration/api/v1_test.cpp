// End-to-end tests of the jitsi-admin v1 API over loopback with curl: every endpoint and literal.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <regex>

#include "support/api_harness.hpp"

using roombus::testing::ApiHarness;
using roombus::testing::CurlReply;
using roombus::testing::json_field;

namespace {

const std::string kUidPattern = "[0-9a-f]{32}";

struct Setup {
  ApiHarness api;
  long server_id = 0;
  std::string key;
  std::string bearer;

  explicit Setup(roombus::http::ApiOptions options = {}) : api(std::move(options)) {
    auto [id, k] =
        api.register_server("meet.example.com", R"(["alice@x.de","@corp.example"])", true);
    server_id = id;
    key = k;
    bearer = "Authorization: Bearer " + key;
  }

  std::string create(const std::string& query =
                         "server=meet.example.com&email=alice@x.de&"
                         "name=Daily&start=2021-02-10T13:00&duration=45") {
    CurlReply r = api.curl("POST", "/api/v1/room?" + query, {"-H", bearer});
    if (json_field(r.body, "error") != "false") throw std::runtime_error("create: " + r.body);
    return json_field(r.body, "uid");
  }
};

}  // namespace

TEST_CASE("POST /api/v1/room creates a room and answers jitsi-admin's exact body", "[api][v1]") {
  Setup s;
  CurlReply r = s.api.curl("POST",
                           "/api/v1/room?server=meet.example.com&email=alice@x.de&name=Daily&"
                           "start=2021-02-10T13:00&duration=45",
                           {"-H", s.bearer});
  CHECK(r.status == 200);
  CHECK(r.header("Content-Type") == "application/json");
  CHECK(std::regex_match(r.body, std::regex(R"(\{"error":false,"uid":")" + kUidPattern +
                                            R"(","text":"Meeting erfolgreich angelegt"\})")));
}

TEST_CASE("parameters come from the query first, then urlencoded, multipart or JSON bodies",
          "[api][v1]") {
  Setup s;
  SECTION("urlencoded body") {
    auto r = s.api.curl("POST", "/api/v1/room",
                        {"-H", s.bearer, "--data",
                         "server=meet.example.com&email=alice%40x.de&name=A+b&duration=5"});
    CHECK(json_field(r.body, "error") == "false");
  }
  SECTION("multipart body on POST") {
    auto r = s.api.curl("POST", "/api/v1/room",
                        {"-H", s.bearer, "-F", "server=meet.example.com", "-F", "email=alice@x.de",
                         "-F", "name=M", "-F", "duration=5"});
    CHECK(json_field(r.body, "error") == "false");
  }
  SECTION("JSON body (an extension)") {
    auto r = s.api.curl("POST", "/api/v1/room",
                        {"-H", s.bearer, "-H", "Content-Type: application/json", "--data",
                         R"({"server":"meet.example.com","email":"alice@x.de","name":"J",)"
                         R"("duration":5})"});
    CHECK(json_field(r.body, "error") == "false");
  }
  SECTION("the query string wins over the body") {
    auto r = s.api.curl(
        "POST", "/api/v1/room?server=meet.example.com",
        {"-H", s.bearer, "--data", "server=other.example.com&email=alice@x.de&name=Q&duration=5"});
    CHECK(json_field(r.body, "error") == "false");
  }
  SECTION("a malformed JSON body is a clear 400 and changes nothing") {
    auto r = s.api.curl("POST", "/api/v1/room",
                        {"-H", s.bearer, "-H", "Content-Type: application/json", "--data", "{"});
    CHECK(r.status == 400);
    CHECK(json_field(r.body, "error") == "true");
  }
  SECTION("PHP array parameters are refused") {
    auto r = s.api.curl("POST",
                        "/api/v1/room?server=meet.example.com&email[]=alice@x.de&name=A&duration=5",
                        {"-H", s.bearer});
    CHECK(r.body.find("\"text\":\"Invalid parameter\"") != std::string::npos);
  }
}

TEST_CASE("keys are read as jitsi-admin reads them and never bypassed", "[api][v1]") {
  Setup s;
  const std::string q = "/api/v1/room?server=meet.example.com&email=alice@x.de&name=A&duration=5";
  CHECK(json_field(s.api.curl("POST", q, {"-H", "Authorization: Bearer:" + s.key}).body, "error") ==
        "false");
  const std::string no_server = R"({"error":true,"text":"No Server found"})";
  CHECK(s.api.curl("POST", q, {}).body == no_server);
  CHECK(s.api.curl("POST", q, {"-H", "Authorization: bearer " + s.key}).body == no_server);
  CHECK(s.api.curl("POST", q, {"-H", "Authorization: Bearer  " + s.key}).body == no_server);
  CHECK(s.api.curl("POST", q, {"-H", "Authorization: Bearer: " + s.key}).body == no_server);
  CHECK(s.api.curl("POST", q, {"-H", "Authorization: Bearer wrong" + s.key}).body == no_server);
  CHECK(s.api
            .curl("POST", "/api/v1/room?server=meet.example.com&email=bob@x.de&name=A&duration=5",
                  {"-H", s.bearer})
            .body == no_server);
}

TEST_CASE("create refuses bad input with defined errors instead of crashing", "[api][v1]") {
  Setup s;
  auto create = [&](const std::string& q) {
    return s.api.curl("POST", "/api/v1/room?server=meet.example.com&email=alice@x.de&" + q,
                      {"-H", s.bearer});
  };
  CHECK(create("name=A&duration=5&start=garbage")
            .body.find(R"({"error":true,"text":"Invalid start","detail":")") == 0);
  CHECK(create("name=A&duration=abc").body.find(R"("text":"Invalid duration")") !=
        std::string::npos);
  CHECK(create("name=A").body.find(R"("text":"Invalid duration")") != std::string::npos);
  CHECK(create("duration=5").body.find(R"("text":"Invalid parameter")") != std::string::npos);
  CHECK(s.api.log().appended.size() == 1);  // only the server registration
}

TEST_CASE("GET /api/v1/info/{uid} answers the v1 shape with PHP's date format and escaping",
          "[api][v1]") {
  Setup s;
  std::string uid = s.create(
      "server=meet.example.com&email=alice@x.de&name=%3Cb%3E%26%27%22%2F%C3%B6&"
      "start=2021-02-10T13:00&duration=45");
  CurlReply r = s.api.curl("GET", "/api/v1/info/" + uid);
  CHECK(r.status == 200);
  CHECK(r.header("Access-Control-Allow-Origin") == "*");
  const std::string token = s.api.join_cipher().seal_uid(uid);
  std::string base = "http:\\/\\/127.0.0.1:" + s.api.base().substr(s.api.base().rfind(':') + 1);
  CHECK(r.body == R"({"timeZone":"Europe\/Berlin","error":false,"teilnehmer":["alice@x.de"],)"
                  R"("start":"2021-02-10CET13:00:00","end":"2021-02-10CET13:45:00","duration":45,)"
                  R"("name":"\u003Cb\u003E\u0026\u0027\u0022\/\u00f6","moderator":"alice@x.de",)"
                  R"("server":"meet.example.com","joinBrowser":")" +
                      base + R"(\/room\/join\/b\/)" + token + R"(","joinApp":")" + base +
                      R"(\/room\/join\/a\/)" + token + R"("})");

  SECTION("summer time shows CEST; an explicit offset is honoured") {
    std::string summer = s.create(
        "server=meet.example.com&email=alice@x.de&name=S&start=2021-07-02T11:00Z&duration=60");
    auto body = s.api.curl("GET", "/api/v1/info/" + summer).body;
    CHECK(json_field(body, "start") == "2021-07-02CEST13:00:00");
    CHECK(json_field(body, "end") == "2021-07-02CEST14:00:00");
  }
  SECTION("an unknown uid is a defined error, not a 500") {
    CurlReply missing = s.api.curl("GET", "/api/v1/info/0123456789abcdef0123456789abcdef");
    CHECK(missing.status == 200);
    CHECK(missing.body == R"({"error":true,"text":"no Room found"})");
    CHECK(missing.header("Access-Control-Allow-Origin").empty());
  }
}

TEST_CASE("a public URL sets the base of join links", "[api][v1]") {
  roombus::http::ApiOptions options;
  options.public_url = "https://admin.example.com/";
  Setup s(options);
  std::string uid = s.create();
  auto body = s.api.curl("GET", "/api/v1/info/" + uid).body;
  CHECK(body.find(R"("joinBrowser":"https:\/\/admin.example.com\/room\/join\/b\/)" +
                  s.api.join_cipher().seal_uid(uid) + "\"") != std::string::npos);
}

TEST_CASE("info can be switched to require the room server's key", "[api][v1]") {
  roombus::http::ApiOptions options;
  options.info_requires_key = true;
  Setup s(options);
  std::string uid = s.create();
  CHECK(s.api.curl("GET", "/api/v1/info/" + uid).body ==
        R"({"error":true,"text":"No Server found"})");
  CHECK(json_field(s.api.curl("GET", "/api/v1/info/" + uid, {"-H", s.bearer}).body, "error") ==
        "false");
}

TEST_CASE("PUT /api/v1/room changes the given fields with jitsi-admin's literals", "[api][v1]") {
  Setup s;
  std::string uid = s.create();
  CurlReply r = s.api.curl("PUT", "/api/v1/room",
                           {"-H", s.bearer, "--data", "uid=" + uid + "&name=Renamed&duration=90"});
  CHECK(r.body ==
        R"({"error":false,"uid":")" + uid + R"(","text":"Meeting erfolgreich ge\u00e4ndert"})");
  auto info = s.api.curl("GET", "/api/v1/info/" + uid).body;
  CHECK(json_field(info, "name") == "Renamed");
  CHECK(json_field(info, "start") == "2021-02-10CET13:00:00");
  CHECK(json_field(info, "end") == "2021-02-10CET14:30:00");
  CHECK(
      s.api
          .curl("PUT", "/api/v1/room?uid=0123456789abcdef0123456789abcdef&name=x", {"-H", s.bearer})
          .body == R"({"error":true,"text":"Room no found"})");
  SECTION("PHP does not parse multipart bodies on PUT, so the uid is missing") {
    CHECK(s.api.curl("PUT", "/api/v1/room", {"-H", s.bearer, "-F", "uid=" + uid, "-F", "name=x"})
              .body == R"({"error":true,"text":"Room no found"})");
  }
  SECTION("another server's key cannot edit the room") {
    auto [id, other] = s.api.register_server("other.example.com", R"(["alice@x.de"])");
    CHECK(s.api
              .curl("PUT", "/api/v1/room?uid=" + uid + "&server=other.example.com&name=x",
                    {"-H", "Authorization: Bearer " + other})
              .body == R"({"error":true,"text":"No Server found"})");
  }
}

TEST_CASE("DELETE /api/v1/room soft-deletes with jitsi-admin's literals", "[api][v1]") {
  Setup s;
  std::string uid = s.create();
  CHECK(s.api.curl("DELETE", "/api/v1/room?uid=" + uid).body ==
        R"({"error":true,"text":"No Server found"})");
  CHECK(s.api.curl("DELETE", "/api/v1/room", {"-H", s.bearer, "--data", "uid=" + uid}).body ==
        R"({"error":false,"text":"Erfolgreich gel\u00f6scht"})");
  CHECK(s.api.curl("DELETE", "/api/v1/room?uid=" + uid, {"-H", s.bearer}).body ==
        R"({"error":true,"text":"Room not found "})");
  auto info = s.api.curl("GET", "/api/v1/info/" + uid).body;
  CHECK(info.find(R"("teilnehmer":[])") != std::string::npos);
  CHECK(info.find(R"("moderator":"")") != std::string::npos);
  CHECK(info.find(R"("deleted":true})") != std::string::npos);
  CHECK(s.api.curl("GET", "/api/v1/server/getRooms?minutes=100000", {"-H", s.bearer}).body ==
        R"({"server_id":1,"success":true,"error":false,"room_ids":[]})");
}

TEST_CASE("getRooms lists the key's server's rooms starting within the window", "[api][v1]") {
  Setup s;  // now: 2021-02-02 13:00 CET
  std::string soon =
      s.create("server=meet.example.com&email=alice@x.de&name=A&start=2021-02-02T13:20&duration=5");
  s.create("server=meet.example.com&email=alice@x.de&name=B&start=2021-02-02T15:00&duration=5");
  CHECK(s.api.curl("GET", "/api/v1/server/getRooms?minutes=30", {"-H", s.bearer}).body ==
        R"({"server_id":1,"success":true,"error":false,"room_ids":[")" + soon + R"("]})");
  CHECK(s.api.curl("GET", "/api/v1/server/getRooms?minutes=30").body ==
        R"({"error":true,"text":"No Server found"})");
  CHECK(s.api.curl("GET", "/api/v1/server/getRooms?minutes=abc", {"-H", s.bearer})
            .body.find(R"({"error":true,"text":"Invalid minutes")") == 0);
  CHECK(s.api.curl("GET", "/api/v1/server/getRooms?minutes=-5", {"-H", s.bearer}).body ==
        R"({"server_id":1,"success":true,"error":false,"room_ids":[]})");
}

TEST_CASE("getRooms answers reused within the second follow every change of the server's rooms",
          "[api][v1]") {
  Setup s;  // the clock stands still: every question below is asked in the same second
  auto rooms = [&] {
    return s.api.curl("GET", "/api/v1/server/getRooms?minutes=60", {"-H", s.bearer}).body;
  };
  auto listing = [](const std::vector<std::string>& uids) {
    std::string out = R"({"server_id":1,"success":true,"error":false,"room_ids":[)";
    for (std::size_t i = 0; i < uids.size(); ++i) out += (i ? ",\"" : "\"") + uids[i] + "\"";
    return out + "]}";
  };
  auto cached = [&] {
    const std::string m = s.api.curl("GET", "/metrics").body;
    const std::string name = "\nroombus_get_rooms_cached_total ";
    auto at = m.find(name);
    return at == std::string::npos ? -1 : std::stol(m.substr(at + name.size()));
  };
  auto put = [&](const std::string& data) {
    return json_field(s.api.curl("PUT", "/api/v1/room", {"-H", s.bearer, "--data", data}).body,
                      "error");
  };
  CHECK(rooms() == listing({}));
  const std::string a =
      s.create("server=meet.example.com&email=alice@x.de&name=A&start=2021-02-02T13:20&duration=5");
  CHECK(rooms() == listing({a}));
  const long reused = cached();
  CHECK(rooms() == listing({a}));
  CHECK(cached() == reused + 1);
  // A reused answer goes out from the cache's own bytes: whole, with their length, and for HEAD
  // the same fields without them.
  const CurlReply get = s.api.curl("GET", "/api/v1/server/getRooms?minutes=60", {"-H", s.bearer});
  CHECK(get.body == listing({a}));
  CHECK(get.header("Content-Length") == std::to_string(get.body.size()));
  const CurlReply head =
      s.api.curl("HEAD", "/api/v1/server/getRooms?minutes=60", {"-H", s.bearer, "-I"});
  CHECK(head.status == 200);
  CHECK(head.header("Content-Length") == std::to_string(get.body.size()));
  CHECK(head.body.empty());
  CHECK(cached() == reused + 3);
  const std::string b =
      s.create("server=meet.example.com&email=alice@x.de&name=B&start=2021-02-02T13:10&duration=5");
  CHECK(rooms() == listing({b, a}));
  CHECK(put("uid=" + a + "&name=Renamed") == "false");
  CHECK(rooms() == listing({b, a}));
  CHECK(put("uid=" + a + "&start=2021-02-02T15:00") == "false");
  CHECK(rooms() == listing({b}));
  CHECK(s.api.curl("DELETE", "/api/v1/room", {"-H", s.bearer, "--data", "uid=" + b}).status == 200);
  CHECK(rooms() == listing({}));
  CHECK(put("uid=" + a + "&start=2021-02-02T13:30") == "false");
  CHECK(rooms() == listing({a}));
}

TEST_CASE("both move routes move a room to a clone with the literal replies", "[api][v1]") {
  Setup s;
  std::string uid = s.create();
  CurlReply clone = s.api.curl("POST", "/api/v1/server/create",
                               {"-H", s.bearer, "--data", "url=meet2.example.com&name=Two"});
  CHECK(clone.body == R"({"server_id":2,"sucess":true,"error":false})");

  CurlReply r =
      s.api.curl("POST", "/api/v1/room/move/" + uid, {"-H", s.bearer, "--data", "serverId=2"});
  CHECK(r.status == 200);
  CHECK(r.body == R"({"error":false,"message":"Room moved"})");
  CHECK(json_field(s.api.curl("GET", "/api/v1/info/" + uid).body, "server") == "meet2.example.com");
  r = s.api.curl("POST", "/api/v1/room/move",
                 {"-H", s.bearer, "--data", "uid=" + uid + "&server=1"});
  CHECK(r.body == R"({"error":false,"message":"Room moved"})");
  r = s.api.curl("POST", "/api/v1/room/move",
                 {"-H", s.bearer, "--data", "uid=" + uid + "&server=meet2.example.com"});
  CHECK(r.body == R"({"error":false,"message":"Room moved"})");

  r = s.api.curl("POST", "/api/v1/room/move/0123456789abcdef0123456789abcdef?serverId=2",
                 {"-H", s.bearer});
  CHECK(r.status == 404);
  CHECK(r.body == R"({"error":true,"message":"Room not found"})");
  r = s.api.curl("POST", "/api/v1/room/move/" + uid + "?serverId=1");
  CHECK(r.status == 403);
  CHECK(r.body == R"({"error":true,"message":"Access denied"})");
  r = s.api.curl("POST", "/api/v1/room/move/" + uid + "?serverId=99", {"-H", s.bearer});
  CHECK(r.status == 404);
  CHECK(r.body == R"({"error":true,"message":"New Server not found"})");
  r = s.api.curl("POST", "/api/v1/room/move/" + uid, {"-H", s.bearer});
  CHECK(r.status == 404);
  CHECK(r.body == R"({"error":true,"message":"New Server not found"})");
}

TEST_CASE("server/create clones only a clone-allowed server under the key", "[api][v1]") {
  Setup s;
  auto [id, plain_key] = s.api.register_server("plain.example.com", "[]");
  (void)id;
  const std::string refused =
      R"({"error":true,"text":"No Server found. The server mus be allowed to be cloned to )"
      R"(autoscale","hint":"use the command php bin\/console app:server:allowTo #serverid to )"
      R"(allow to clone"})";
  CHECK(s.api
            .curl("POST", "/api/v1/server/create?url=c.example.com&name=C",
                  {"-H", "Authorization: Bearer " + plain_key})
            .body == refused);
  CHECK(s.api.curl("POST", "/api/v1/server/create?url=c.example.com&name=C").body == refused);
  CHECK(s.api.curl("POST", "/api/v1/server/create?name=C", {"-H", s.bearer})
            .body.find(R"("text":"Invalid parameter")") != std::string::npos);
}

TEST_CASE("participants are added and removed with jitsi-admin's literals", "[api][v1]") {
  Setup s;
  std::string uid = s.create();
  CHECK(s.api
            .curl("POST", "/api/v1/user",
                  {"-H", s.bearer, "--data", "uid=" + uid + "&email=bob@y.de"})
            .body == R"({"uid":")" + uid +
                         R"(","user":"bob@y.de","error":false,"text":"Teilnehmer bob@y.de )"
                         R"(erfolgreich hinzugef\u00fcgt"})");
  CHECK(json_field(s.api.curl("GET", "/api/v1/info/" + uid).body, "error") == "false");
  CHECK(s.api.curl("GET", "/api/v1/info/" + uid).body.find(R"(["alice@x.de","bob@y.de"])") !=
        std::string::npos);
  CHECK(s.api.curl("POST", "/api/v1/user?uid=" + uid + "&email=bob@y", {"-H", s.bearer}).body ==
        R"({"error":true,"text":"Email incorrect"})");
  CHECK(s.api.curl("POST", "/api/v1/user?uid=" + uid + "&email=c@y.de").body ==
        R"({"error":true,"text":"No Server found"})");
  CHECK(s.api.curl("POST", "/api/v1/user?uid=nope&email=c@y.de", {"-H", s.bearer}).body ==
        R"({"error":true,"text":"no Room found"})");
  CHECK(s.api.curl("DELETE", "/api/v1/user?uid=" + uid + "&email=carol@y.de", {"-H", s.bearer})
            .body == R"({"error":true,"text":"User incorrect"})");
  CHECK(s.api
            .curl("DELETE", "/api/v1/user",
                  {"-H", s.bearer, "--data", "uid=" + uid + "&email=BOB@y.de"})
            .body == R"({"uid":")" + uid +
                         R"(","user":"BOB@y.de","error":false,"text":"Teilnehmer BOB@y.de )"
                         R"(erfolgreich gel\u00f6scht"})");
}

TEST_CASE("serverInfo needs a valid key unless opened, and lists the email's servers",
          "[api][v1]") {
  Setup s;
  CHECK(s.api.curl("GET", "/api/v1/serverInfo?email=alice@x.de").body ==
        R"({"error":true,"text":"No Server found"})");
  CHECK(s.api.curl("GET", "/api/v1/serverInfo?email=bob@corp.example", {"-H", s.bearer}).body ==
        R"({"server":["meet.example.com"],"email":"bob@corp.example","error":false})");
  CHECK(s.api.curl("GET", "/api/v1/serverInfo?email=zed@nowhere.example", {"-H", s.bearer})
            .body.find(R"({"error":true,"text":"no User found")") == 0);
  roombus::http::ApiOptions open;
  open.server_info_open = true;
  Setup o(open);
  CHECK(json_field(o.api.curl("GET", "/api/v1/serverInfo?email=alice@x.de").body, "error") ==
        "false");
}

TEST_CASE("an Idempotency-Key makes a retried create return the first answer", "[api][v1]") {
  Setup s;
  const std::string q = "/api/v1/room?server=meet.example.com&email=alice@x.de&name=A&duration=5";
  auto first = s.api.curl("POST", q, {"-H", s.bearer, "-H", "Idempotency-Key: retry-1"});
  auto again = s.api.curl("POST", q, {"-H", s.bearer, "-H", "Idempotency-Key: retry-1"});
  CHECK(first.body == again.body);
  CHECK(s.api.curl("POST", q, {"-H", s.bearer}).body != first.body);
  std::size_t creates = 0;
  for (const auto& e : s.api.log().appended)
    if (e.type() == "room.created") ++creates;
  CHECK(creates == 2);
}

TEST_CASE("an Idempotency-Key sent again with other parameters answers 422 and runs nothing",
          "[api][v1][idempotency]") {
  Setup s;
  const std::string q = "/api/v1/room?server=meet.example.com&email=alice@x.de&duration=5";
  auto first = s.api.curl("POST", q + "&name=A", {"-H", s.bearer, "-H", "Idempotency-Key: k-1"});
  CHECK(json_field(first.body, "error") == "false");
  auto other = s.api.curl("POST", q + "&name=B", {"-H", s.bearer, "-H", "Idempotency-Key: k-1"});
  CHECK(other.status == 422);
  CHECK(other.body.find(R"("text":"Idempotency-Key reused")") != std::string::npos);
  // The same parameters in another spelling are the same request: the first answer.
  auto same = s.api.curl("POST", "/api/v1/room",
                         {"-H", s.bearer, "-H", "Idempotency-Key: k-1", "--data",
                          "duration=5&name=A&email=alice%40x.de&server=meet.example.com"});
  CHECK(same.body == first.body);
  std::size_t creates = 0;
  for (const auto& e : s.api.log().appended)
    if (e.type() == "room.created") ++creates;
  CHECK(creates == 1);
  // Move has answers of its own; a reused key is a 422 there too.
  const std::string uid = json_field(first.body, "uid");
  auto moved = s.api.curl("POST", "/api/v1/room/move/" + uid,
                          {"-H", s.bearer, "-H", "Idempotency-Key: m", "--data", "serverId=1"});
  CHECK(moved.status == 200);
  CHECK(s.api
            .curl("POST", "/api/v1/room/move/" + uid,
                  {"-H", s.bearer, "-H", "Idempotency-Key: m", "--data", "serverId=2"})
            .status == 422);
}

TEST_CASE("unknown routes and wrong methods get JSON 404 and 405", "[api][v1]") {
  Setup s;
  auto r = s.api.curl("GET", "/api/v1/room");
  CHECK(r.status == 405);
  CHECK(r.header("Allow") == "POST, PUT, DELETE");
  CHECK(s.api.curl("GET", "/api/v1/nope").status == 404);
  CHECK(s.api.curl("POST", "/api/v1/info/abc").status == 405);
}

TEST_CASE("an Idempotency-Key answers only for the same caller and endpoint", "[api][v1]") {
  Setup s;
  const std::string q = "/api/v1/room?server=meet.example.com&email=alice@x.de&name=A&duration=5";
  auto first = s.api.curl("POST", q, {"-H", s.bearer, "-H", "Idempotency-Key: shared"});
  CHECK(json_field(first.body, "error") == "false");
  CHECK(s.api.curl("POST", q, {"-H", "Idempotency-Key: shared"}).body ==
        R"({"error":true,"text":"No Server found"})");
  CHECK(s.api
            .curl("DELETE", "/api/v1/room?uid=" + json_field(first.body, "uid"),
                  {"-H", s.bearer, "-H", "Idempotency-Key: shared"})
            .body == R"({"error":false,"text":"Erfolgreich gel\u00f6scht"})");
}

TEST_CASE("a deeply nested JSON body is refused without harm", "[api][v1]") {
  Setup s;
  // 200,000 levels: far more than a recursive parser survives on a thread's stack.
  std::string file = "/tmp/roombus-nested-" + std::to_string(::getpid()) + ".json";
  {
    std::ofstream out(file);
    out << std::string(200000, '[');
  }
  auto r = s.api.curl("POST", "/api/v1/room",
                      {"-H", "Content-Type: application/json", "--data-binary", "@" + file});
  std::remove(file.c_str());
  CHECK(r.status == 400);
  CHECK(s.api.curl("GET", "/healthz").status == 200);
}

TEST_CASE("uids match in any case, as on jitsi-admin's MySQL", "[api][v1]") {
  Setup s;
  std::string uid = s.create();
  std::string upper = uid;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(json_field(s.api.curl("GET", "/api/v1/info/" + upper).body, "error") == "false");
}

TEST_CASE("a Host header that is not a host name never reaches join links", "[api][v1]") {
  Setup s;
  std::string uid = s.create();
  auto body = s.api.curl("GET", "/api/v1/info/" + uid, {"-H", "Host: evil.example\"x"}).body;
  CHECK(body.find("evil") == std::string::npos);
  CHECK(body.find(R"("joinBrowser":"http:\/\/localhost\/room\/join\/b\/)" +
                  s.api.join_cipher().seal_uid(uid) + "\"") != std::string::npos);
}

TEST_CASE("JavaScript's toISOString() start is accepted, its milliseconds dropped", "[api][v1]") {
  Setup s;
  std::string uid = s.create(
      "server=meet.example.com&email=alice@x.de&name=A&start=2021-02-10T12:00:00.000Z&duration=5");
  auto r = s.api.curl("GET", "/api/v1/info/" + uid);
  CHECK(json_field(r.body, "start") == "2021-02-10CET13:00:00");
  CHECK(r.header("Cache-Control") == "no-cache, private");
}
