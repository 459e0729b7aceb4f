// Join links end to end over loopback: tokens, page, window, redirect, JWTs checked by PyJWT,
// personal links and their revocation, metrics.
#include <catch2/catch.hpp>
#include <regex>

#include "support/api_harness.hpp"

using roombus::testing::ApiHarness;
using roombus::testing::CurlReply;
using roombus::testing::json_field;
using roombus::testing::shell_quote;

namespace {

// The harness clock reads 2021-02-02 13:00 CET; windows open 30 minutes before the start.
constexpr const char* kOpenStart = "2021-02-02T13:10";   // opened 12:40
constexpr const char* kEarlyStart = "2021-02-02T14:00";  // opens 13:30
constexpr const char* kPastStart = "2021-02-02T11:00";   // 60 minutes: ended 12:00
constexpr const char* kSecret = "jitsi-app-secret-42";
const std::string kAdmin = std::string("Authorization: Bearer ") + ApiHarness::kAdminToken;

// Runs Debian's python3-jwt on a token: the claims as sorted JSON, or "invalid: <why>".
std::string pyjwt_decode(const std::string& token, const std::string& secret) {
  std::string cmd =
      "/usr/bin/python3 -c 'import jwt, json, sys\n"
      "try:\n"
      "  print(json.dumps(jwt.decode(sys.argv[1], sys.argv[2], algorithms=[\"HS256\"], "
      "audience=\"jitsi_admin\", options={\"verify_exp\": False, \"verify_nbf\": False}), "
      "sort_keys=True, separators=(\",\", \":\"), ensure_ascii=False))\n"
      "except jwt.InvalidTokenError as e:\n"
      "  print(\"invalid: \" + type(e).__name__)' " +
      shell_quote(token) + " " + shell_quote(secret);
  std::FILE* pipe = ::popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buf[512];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  REQUIRE(::pclose(pipe) == 0);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string jwt_of(const std::string& location) {
  auto at = location.find("?jwt=");
  return at == std::string::npos ? "" : location.substr(at + 5);
}

std::string path_of(const std::string& link) {
  auto at = link.find("/room/join/");
  return at == std::string::npos ? "" : link.substr(at);
}

// Unescapes the "\/" of PHP-style JSON (the only escape a link contains).
std::string unslash(std::string s) {
  for (auto at = s.find("\\/"); at != std::string::npos; at = s.find("\\/", at)) s.erase(at, 1);
  return s;
}

struct Setup {
  ApiHarness api;
  std::string bearer;
  long server_id = 0;

  explicit Setup(roombus::http::ApiOptions options = {}, bool jwt = true) : api(options) {
    std::string body = R"({"url":"meet.example.test","name":"Meet","members":["@example.com"],)"
                       R"("allow_clone":true)";
    if (jwt) body += std::string(R"(,"app_id":"roombus-app","app_secret":")") + kSecret + "\"";
    auto r = api.curl(
        "POST", "/admin/v1/servers",
        {"-H", kAdmin, "-H", "Content-Type: application/json", "--data-binary", body + "}"});
    REQUIRE(r.status == 201);
    server_id = std::stol(json_field(r.body, "id"));
    bearer = "Authorization: Bearer " + json_field(r.body, "api_key");
  }

  std::string create(const std::string& start, const std::string& name = "Weekly",
                     int duration = 60) {
    auto r =
        api.curl("POST", "/api/v1/room",
                 {"-H", bearer, "--data-urlencode", "server=meet.example.test", "--data-urlencode",
                  "email=mod@example.com", "--data-urlencode", "name=" + name, "--data-urlencode",
                  "start=" + start, "--data", "duration=" + std::to_string(duration)});
    REQUIRE(json_field(r.body, "error") == "false");
    return json_field(r.body, "uid");
  }

  // The info answer's joinBrowser link, as a path.
  std::string browser_link(const std::string& uid) {
    return path_of(unslash(json_field(api.curl("GET", "/api/v1/info/" + uid).body, "joinBrowser")));
  }

  CurlReply get(const std::string& path, std::vector<std::string> extra = {}) {
    return api.curl("GET", path, std::move(extra));
  }

  void v1(const std::string& method, const std::string& path, std::vector<std::string> form) {
    std::vector<std::string> args{"-H", bearer};
    for (auto& f : form) {
      args.push_back("--data-urlencode");
      args.push_back(std::move(f));
    }
    auto r = api.curl(method, path, args);
    REQUIRE(r.status == 200);
    REQUIRE(json_field(r.body, "error") == "false");
  }
};

// {"email":..,"role":..,"joinBrowser":..,"joinApp":..} entries of a join-links answer, in order.
std::vector<std::array<std::string, 3>> people(const std::string& body) {
  std::vector<std::array<std::string, 3>> out;
  std::regex entry(
      R"re(\{"email":"([^"]*)","role":"([^"]*)","joinBrowser":"([^"]*)","joinApp":"[^"]*"\})re");
  auto list = body.substr(body.find("\"people\""));
  for (std::sregex_iterator it(list.begin(), list.end(), entry), end; it != end; ++it) {
    out.push_back({(*it)[1], (*it)[2], path_of((*it)[3])});
  }
  return out;
}

}  // namespace

TEST_CASE("info hands out unguessable token links per room, and numeric links answer 404",
          "[api][join]") {
  Setup s;
  std::string a = s.create(kOpenStart);
  std::string b = s.create(kOpenStart);
  auto info = s.api.curl("GET", "/api/v1/info/" + a).body;
  std::string browser = unslash(json_field(info, "joinBrowser"));
  std::string app = unslash(json_field(info, "joinApp"));
  std::smatch m;
  REQUIRE(std::regex_match(
      browser, m, std::regex(R"(http://127\.0\.0\.1:\d+/room/join/b/([A-Za-z0-9_-]{22}))")));
  std::string token = m[1];
  CHECK(app.substr(app.size() - 25) == "/a/" + token);
  CHECK(token != path_of(s.browser_link(b)).substr(13));
  CHECK(s.browser_link(a) == "/room/join/b/" + token);             // stable for calendars
  CHECK(info.find(a.substr(0, 6)) == info.rfind(a.substr(0, 6)));  // the uid is not in the link
  CHECK(s.get("/room/join/b/" + token).status == 200);
  for (const char* old : {"/room/join/b/1", "/room/join/a/1", "/room/join/b/2"}) {
    CurlReply r = s.get(old);
    CHECK(r.status == 404);
    CHECK(r.header("Content-Type") == "text/html; charset=utf-8");
  }
}

TEST_CASE(
    "The page shows the escaped room name, its times in the zone, a GET name form, and "
    "headers that keep the token private",
    "[api][join]") {
  Setup s;
  std::string uid = s.create(kOpenStart, "<script>alert(1)</script> & \"Q1\"", 45);
  CurlReply r = s.get(s.browser_link(uid));
  CHECK(r.status == 200);
  CHECK(r.header("Content-Type") == "text/html; charset=utf-8");
  CHECK(r.header("Referrer-Policy") == "no-referrer");
  CHECK(r.header("Cache-Control") == "no-store");
  CHECK(r.header("X-Content-Type-Options") == "nosniff");
  std::string csp = r.header("Content-Security-Policy");
  CHECK(csp.find("default-src 'none'") != std::string::npos);
  CHECK(csp.find("script-src") == std::string::npos);  // none: default-src forbids scripts
  CHECK(csp.find("form-action 'self' https://meet.example.test jitsi-meet:") != std::string::npos);
  CHECK(r.body.find("<script>") == std::string::npos);
  CHECK(r.body.find("<h1>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Q1&quot;</h1>") !=
        std::string::npos);
  CHECK(r.body.find("Tuesday, 2 February 2021<br>13:10 \xe2\x80\x93 13:55 CET") !=
        std::string::npos);
  CHECK(r.body.find("<form method=\"get\">") != std::string::npos);
  CHECK(r.body.find("name=\"name\"") != std::string::npos);
  CHECK(r.body.find("Join meeting") != std::string::npos);

  CurlReply css = s.get("/room/join/style.css");
  CHECK(css.status == 200);
  CHECK(css.header("Content-Type") == "text/css; charset=utf-8");
  CHECK(css.body.find(".card") != std::string::npos);
  CHECK(s.get("/room/join/icon.svg").header("Content-Type") == "image/svg+xml");
  CHECK(r.body.find("href=\"../style.css\"") != std::string::npos);
  CHECK(r.body.find("href=\"../icon.svg\"") != std::string::npos);
}

TEST_CASE("The page speaks German or English as Accept-Language prefers", "[api][join]") {
  Setup s;
  std::string link = s.browser_link(s.create(kOpenStart));
  auto lang = [&](const std::string& header) {
    CurlReply r = s.get(link, {"-H", "Accept-Language: " + header});
    return r.header("Content-Language");
  };
  CHECK(lang("de") == "de");
  CHECK(lang("de-DE,de;q=0.9,en;q=0.8") == "de");
  CHECK(lang("en-US,en;q=0.9,de;q=0.8") == "en");
  CHECK(lang("en;q=0.4, DE-at;q=0.7") == "de");
  CHECK(lang("fr-FR, de;q=0") == "en");
  CHECK(lang("fr") == "en");
  CurlReply de = s.get(link, {"-H", "Accept-Language: de"});
  CHECK(de.body.find("<html lang=\"de\">") != std::string::npos);
  CHECK(de.body.find("Dienstag, 2. Februar 2021") != std::string::npos);
  CHECK(de.body.find("Meeting beitreten") != std::string::npos);
  CHECK(de.header("Vary") == "Accept-Language");
}

TEST_CASE("Before the window the page says when joining opens and offers no way in",
          "[api][join]") {
  Setup s;
  std::string link = s.browser_link(s.create(kEarlyStart));
  for (const std::string& path : {link, link + "?name=Eve"}) {
    CurlReply r = s.get(path);
    CHECK(r.status == 200);
    CHECK(r.header("Location").empty());
    CHECK(r.body.find("Not open yet") != std::string::npos);
    CHECK(r.body.find("You can join from Tuesday, 2 February 2021 at 13:30 CET, 30 minutes "
                      "before the start.") != std::string::npos);
    CHECK(r.body.find("<form") == std::string::npos);
  }
  CurlReply de = s.get(link, {"-H", "Accept-Language: de"});
  CHECK(de.body.find("Sie k\xc3\xb6nnen ab Dienstag, 2. Februar 2021 um 13:30 Uhr CET beitreten") !=
        std::string::npos);
}

TEST_CASE("After the end the page says so and offers no way in", "[api][join]") {
  Setup s;
  std::string link = s.browser_link(s.create(kPastStart));
  CurlReply r = s.get(link + "?name=Eve");
  CHECK(r.status == 200);
  CHECK(r.header("Location").empty());
  CHECK(r.body.find("This meeting ended on Tuesday, 2 February 2021 at 12:00 CET.") !=
        std::string::npos);
  CHECK(r.body.find("<form") == std::string::npos);
}

TEST_CASE("The window opens --join-early-minutes before the start", "[api][join]") {
  roombus::http::ApiOptions options;
  options.join.early_minutes = 5;
  Setup s(options);
  std::string link = s.browser_link(s.create(kOpenStart));  // 13:10 now opens at 13:05
  CurlReply r = s.get(link + "?name=Eve");
  CHECK(r.status == 200);
  CHECK(r.body.find("13:05 CET, 5 minutes before the start") != std::string::npos);
}

TEST_CASE("A name in the window redirects into Jitsi with a JWT that PyJWT verifies",
          "[api][join]") {
  Setup s;
  std::string uid = s.create(kOpenStart);
  std::string link = s.browser_link(uid);
  CurlReply b = s.get(link + "?name=J%C3%BCrgen+M%C3%BCller");
  REQUIRE(b.status == 302);
  CHECK(b.header("Referrer-Policy") == "no-referrer");
  CHECK(b.header("Cache-Control") == "no-store");
  std::smatch m;
  std::string location = b.header("Location");
  REQUIRE(std::regex_match(location, m,
                           std::regex(R"(https://meet\.example\.test/([a-z2-7]{26})\?jwt=(.+))")));
  std::string jitsi_name = m[1];
  std::string claims = pyjwt_decode(m[2], kSecret);
  // 2021-02-02 12:40 CET (window opens) .. 14:10 CET (end), issued at 13:00 CET.
  CHECK(claims == R"({"aud":"jitsi_admin","context":{"user":{"name":"Jürgen Müller"}},)"
                  R"("exp":1612271400,"iat":1612267200,"iss":"roombus-app","moderator":false,)"
                  R"("nbf":1612266000,"room":")" +
                      jitsi_name + R"(","sub":"meet.example.test"})");
  CHECK(pyjwt_decode(m[2], "another-secret") == "invalid: InvalidSignatureError");

  CurlReply a = s.get("/room/join/a/" + link.substr(13) + "?name=Eve");
  REQUIRE(a.status == 302);
  CHECK(a.header("Location").rfind("jitsi-meet://meet.example.test/" + jitsi_name + "?jwt=", 0) ==
        0);
  CHECK(pyjwt_decode(jwt_of(a.header("Location")), kSecret).find(R"("name":"Eve")") !=
        std::string::npos);
}

TEST_CASE("A server without app id and secret gets no JWT, and the name goes in the URL fragment",
          "[api][join]") {
  Setup s({}, false);
  std::string link = s.browser_link(s.create(kOpenStart));
  CurlReply r = s.get(link + "?name=Ann%20%22A%22");
  REQUIRE(r.status == 302);
  std::string location = r.header("Location");
  CHECK(location.find("jwt") == std::string::npos);
  CHECK(std::regex_match(location.substr(0, location.find('#')),
                         std::regex(R"(https://meet\.example\.test/[a-z2-7]{26})")));
  // The fragment carries a JSON string (Jitsi parses it): quotes escaped, then percent-encoded.
  CHECK(location.substr(location.find('#')) == "#userInfo.displayName=%22Ann%20%5C%22A%5C%22%22");
}

TEST_CASE("An empty or too long name gets the page again with an error", "[api][join]") {
  Setup s;
  std::string link = s.browser_link(s.create(kOpenStart));
  struct Case {
    std::string query;
    std::string error;
  };
  std::string long_name(81, 'x');
  std::string umlauts;
  for (int i = 0; i < 80; ++i) umlauts += "\xc3\xbc";
  for (const Case& c :
       {Case{"name=", "Please enter your name."}, Case{"name=+%20+", "Please enter your name."},
        Case{"name[]=x", "Please enter your name."},
        Case{"name=" + long_name, "Please use at most 80 characters."},
        Case{"name=a%01b", "Your name contains characters that cannot be used."},
        Case{"name=%FF", "Your name contains characters that cannot be used."}}) {
    CAPTURE(c.query);
    CurlReply r = s.get(link + "?" + c.query);
    CHECK(r.status == 400);
    CHECK(r.header("Location").empty());
    CHECK(r.body.find(c.error) != std::string::npos);
    CHECK(r.body.find("<form") != std::string::npos);
  }
  // 80 characters are fine even when they take 160 bytes.
  std::string encoded;
  for (int i = 0; i < 80; ++i) encoded += "%C3%BC";
  CHECK(s.get(link + "?name=" + encoded).status == 302);
}

TEST_CASE("Deleted rooms, altered tokens and tokens of another key answer 404", "[api][join]") {
  Setup s;
  Setup other;
  std::string uid = s.create(kOpenStart);
  std::string link = s.browser_link(uid);
  std::string token = link.substr(13);
  std::string altered = token;
  altered[5] = altered[5] == 'A' ? 'B' : 'A';
  CHECK(s.get("/room/join/b/" + altered + "?name=Eve").status == 404);
  CHECK(s.get("/room/join/b/" + token.substr(1) + "?name=Eve").status == 404);
  CHECK(s.get("/room/join/c/" + token).status == 404);
  CHECK(s.get("/room/join/b/" + token + "/x").status == 404);
  // The same uid's token under another deployment's key leads nowhere here.
  CHECK(s.get("/room/join/b/" + other.api.join_cipher().seal_uid(uid) + "?name=Eve").status == 404);
  CHECK(s.api.curl("POST", link).status == 405);

  s.v1("DELETE", "/api/v1/room", {"uid=" + uid});
  CurlReply gone = s.get(link + "?name=Eve");
  CHECK(gone.status == 404);
  CHECK(gone.header("Location").empty());
  CHECK(gone.body.find("This link does not work") != std::string::npos);
}

TEST_CASE("Personal links need the admin token or the room server's key", "[api][join]") {
  Setup s;
  Setup other;
  std::string uid = s.create(kOpenStart);
  std::string admin_path = "/admin/v1/rooms/" + uid + "/join-links";
  std::string v1_path = "/api/v1/room/" + uid + "/join-links";
  CHECK(s.get(admin_path).status == 401);
  CHECK(s.get(admin_path, {"-H", "Authorization: Bearer wrong-token-0123456789"}).status == 401);
  CHECK(s.get(v1_path).status == 403);
  CHECK(s.get(v1_path, {"-H", other.bearer}).status == 403);
  CurlReply by_admin = s.get(admin_path, {"-H", kAdmin});
  CurlReply by_key = s.get(v1_path, {"-H", s.bearer});
  CHECK(by_admin.status == 200);
  CHECK(by_key.status == 200);
  CHECK(by_key.header("Cache-Control") == "no-store");
  CHECK(
      s.get("/admin/v1/rooms/0123456789abcdef0123456789abcdef/join-links", {"-H", kAdmin}).status ==
      404);
  CHECK(
      s.get("/api/v1/room/0123456789abcdef0123456789abcdef/join-links", {"-H", s.bearer}).status ==
      404);
  CHECK(json_field(by_key.body, "uid") == uid);
  CHECK(path_of(unslash(json_field(by_key.body, "joinBrowser"))) == s.browser_link(uid));
}

TEST_CASE("Personal links let the moderator and each participant in with their own JWT",
          "[api][join]") {
  Setup s;
  std::string uid = s.create(kOpenStart);
  s.v1("POST", "/api/v1/user", {"uid=" + uid, "email=Pat@Example.com"});
  auto list = people(s.get("/api/v1/room/" + uid + "/join-links", {"-H", s.bearer}).body);
  REQUIRE(list.size() == 2);  // the moderator once, though jitsi-admin also lists them
  CHECK(list[0][0] == "mod@example.com");
  CHECK(list[0][1] == "moderator");
  CHECK(list[1][0] == "Pat@Example.com");
  CHECK(list[1][1] == "participant");
  for (const auto& p : list) CHECK(p[2].size() > 13 + 60);
  CHECK(list[0][2].find("mod") == std::string::npos);  // nothing readable in the token

  // No name needed; the local part of the email stands in, and a name still overrides it.
  CurlReply mod = s.get(list[0][2]);
  REQUIRE(mod.status == 302);
  std::string claims = pyjwt_decode(jwt_of(mod.header("Location")), kSecret);
  CHECK(claims.find(R"("context":{"user":{"email":"mod@example.com","name":"mod"}})") !=
        std::string::npos);
  CHECK(claims.find(R"("moderator":true)") != std::string::npos);
  CurlReply pat = s.get(list[1][2] + "?name=Pat+Doe");
  REQUIRE(pat.status == 302);
  claims = pyjwt_decode(jwt_of(pat.header("Location")), kSecret);
  CHECK(claims.find(R"("context":{"user":{"email":"Pat@Example.com","name":"Pat Doe"}})") !=
        std::string::npos);
  CHECK(claims.find(R"("moderator":false)") != std::string::npos);
  // A personal link is a join link too: the app variant and the window apply.
  std::string app = "/room/join/a/" + list[1][2].substr(13);
  CHECK(s.get(app).header("Location").rfind("jitsi-meet://", 0) == 0);
}

TEST_CASE("Removing a participant, moving or deleting the room stops personal links",
          "[api][join]") {
  Setup s;
  std::string uid = s.create(kOpenStart);
  s.v1("POST", "/api/v1/user", {"uid=" + uid, "email=pat@example.com"});
  s.v1("POST", "/api/v1/user", {"uid=" + uid, "email=sam@example.com"});
  auto list = people(s.get("/api/v1/room/" + uid + "/join-links", {"-H", s.bearer}).body);
  REQUIRE(list.size() == 3);
  const std::string mod = list[0][2], pat = list[1][2], sam = list[2][2];
  std::string shared = s.browser_link(uid);
  for (const auto& link : {mod, pat, sam}) CHECK(s.get(link).status == 302);

  s.v1("DELETE", "/api/v1/user", {"uid=" + uid, "email=pat@example.com"});
  CHECK(s.get(pat).status == 404);
  CHECK(s.get(sam).status == 302);

  // A clone under the same key, then a move there.
  s.v1("POST", "/api/v1/server/create",
       {"url=meet2.example.test", "name=Meet 2", "app_id=roombus-app",
        std::string("app_secret=") + kSecret});
  auto moved =
      s.api.curl("POST", "/api/v1/room/move",
                 {"-H", s.bearer, "--data", "uid=" + uid, "--data", "server=meet2.example.test"});
  REQUIRE(moved.status == 200);
  CHECK(s.get(mod).status == 404);
  CHECK(s.get(sam).status == 404);
  CurlReply fresh = s.get(shared + "?name=Eve");  // the shared link follows the room
  REQUIRE(fresh.status == 302);
  CHECK(fresh.header("Location").rfind("https://meet2.example.test/", 0) == 0);
  auto again = people(s.get("/api/v1/room/" + uid + "/join-links", {"-H", s.bearer}).body);
  REQUIRE(again.size() == 2);
  CHECK(s.get(again[0][2]).status == 302);

  s.v1("DELETE", "/api/v1/room", {"uid=" + uid});
  CHECK(s.get(again[0][2]).status == 404);
  CHECK(s.get(again[1][2]).status == 404);
  CHECK(s.get("/api/v1/room/" + uid + "/join-links", {"-H", s.bearer}).status == 404);
}

TEST_CASE("A sealed payload for someone who was never invited does not open the room",
          "[api][join]") {
  Setup s;
  std::string uid = s.create(kOpenStart);
  std::string sid = std::to_string(s.server_id);
  std::string forged = s.api.join_cipher().seal("p|" + sid + "|" + uid + "|eve@example.com");
  CHECK(s.get("/room/join/b/" + forged).status == 404);
  std::string promoted = s.api.join_cipher().seal("m|" + sid + "|" + uid + "|pat@example.com");
  CHECK(s.get("/room/join/b/" + promoted).status == 404);
  std::string real = s.api.join_cipher().seal("m|" + sid + "|" + uid + "|MOD@example.com");
  CHECK(s.get("/room/join/b/" + real).status == 302);
}

TEST_CASE("Join outcomes are counted in /metrics by link kind", "[api][join]") {
  Setup s;
  std::string open = s.browser_link(s.create(kOpenStart));
  std::string early = s.browser_link(s.create(kEarlyStart));
  std::string past = s.browser_link(s.create(kPastStart));
  s.get(open);
  s.get(open + "?name=Eve");
  s.get(open + "?name=Ada");
  s.get(open + "?name=");
  s.get(early);
  s.get(past);
  s.get("/room/join/b/1");
  std::string metrics = s.get("/metrics").body;
  for (const char* line : {"roombus_joins_total{link=\"shared\",outcome=\"form\"} 1\n",
                           "roombus_joins_total{link=\"shared\",outcome=\"joined\"} 2\n",
                           "roombus_joins_total{link=\"shared\",outcome=\"bad_name\"} 1\n",
                           "roombus_joins_total{link=\"shared\",outcome=\"too_early\"} 1\n",
                           "roombus_joins_total{link=\"shared\",outcome=\"ended\"} 1\n",
                           "roombus_joins_total{link=\"unknown\",outcome=\"not_found\"} 1\n"}) {
    CAPTURE(line);
    CHECK(metrics.find(line) != std::string::npos);
  }
}
