// Join links: the page and the redirect into Jitsi behind /room/join/{b|a}/{token}, the tokens
// in `info`, and the personal links of /admin/v1 and /api/v1 (docs/join.md).
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "api_internal.hpp"
#include "join_page.hpp"
#include "roombus/core/rules.hpp"

namespace roombus::http::detail {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

constexpr std::string_view kPrefix = "/room/join/";

void put(Writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// Whom a personal link admits. Sealed as "<m|p>|<server id>|<uid>|<email>": the server id at
// issue time makes a moved room's links stop working.
struct Person {
  bool moderator = false;
  core::ServerId server_id = 0;
  std::string uid;
  std::string email;
};

std::string personal_payload(const Person& p) {
  return std::string(p.moderator ? "m" : "p") + "|" + std::to_string(p.server_id) + "|" + p.uid +
         "|" + p.email;
}

std::optional<Person> parse_personal(std::string_view payload) {
  Person p;
  if (payload.size() < 2 || (payload[0] != 'm' && payload[0] != 'p') || payload[1] != '|') {
    return std::nullopt;
  }
  p.moderator = payload[0] == 'm';
  payload.remove_prefix(2);
  auto bar = payload.find('|');
  auto id = parse_id(payload.substr(0, bar));
  if (!id || bar == std::string_view::npos) return std::nullopt;
  p.server_id = *id;
  payload.remove_prefix(bar + 1);
  bar = payload.find('|');
  if (bar == std::string_view::npos) return std::nullopt;
  p.uid = std::string(payload.substr(0, bar));
  p.email = std::string(payload.substr(bar + 1));
  return p;
}

// What a token leads to: a live room, and for a personal link the person it admits.
struct Target {
  const core::Room* room = nullptr;
  std::optional<Person> person;
  std::string_view kind = "unknown";  // metrics label
};

bool still_invited(const core::Room& room, const Person& p) {
  if (room.server_id != p.server_id) return false;
  if (p.moderator) return core::lowercase(room.moderator) == core::lowercase(p.email);
  for (const auto& participant : room.participants) {
    if (core::lowercase(participant) == core::lowercase(p.email)) return true;
  }
  return false;
}

Target resolve(Api& api, std::string_view token) {
  const JoinOptions& join = api.options().join;
  const core::State& state = api.service().state();
  Target target;
  if (!join.open_uid || !join.open) return target;
  if (auto uid = join.open_uid(token)) {
    target.kind = "shared";
    const core::Room* room = state.room(*uid);
    if (room != nullptr && !room->deleted) target.room = room;
    return target;
  }
  auto payload = join.open(token);
  auto person = payload ? parse_personal(*payload) : std::nullopt;
  if (!person) return target;
  target.kind = "personal";
  const core::Room* room = state.room(person->uid);
  if (room != nullptr && !room->deleted && still_invited(*room, *person)) {
    target.room = room;
    target.person = std::move(person);
  }
  return target;
}

// RFC 3986 unreserved characters stay, everything else is %XX.
std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '.' || c == '_' || c == '~';
    if (keep) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0x0f]);
    }
  }
  return out;
}

// The claims Jitsi's token authentication reads (lib-jitsi-meet doc/tokens.md), with the
// audience jitsi-admin used, so servers configured for jitsi-admin accept them unchanged.
std::string jwt_claims(const core::Server& server, const core::Room& room, core::Instant now,
                       core::Instant opens, std::string_view name, const Person* person) {
  std::string host = core::lowercase(server.url.substr(0, server.url.find(':')));
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("iss");
  put(w, server.app_id);
  w.Key("aud");
  put(w, "jitsi_admin");
  w.Key("sub");
  put(w, host);
  w.Key("room");
  put(w, room.jitsi_name);
  w.Key("iat");
  w.Int64(now.time_since_epoch().count());
  w.Key("nbf");
  w.Int64(opens.time_since_epoch().count());
  w.Key("exp");
  w.Int64(room.end.time_since_epoch().count());
  w.Key("context");
  w.StartObject();
  w.Key("user");
  w.StartObject();
  w.Key("name");
  put(w, name);
  if (person != nullptr) {
    w.Key("email");
    put(w, person->email);
  }
  w.EndObject();
  w.EndObject();
  w.Key("moderator");
  w.Bool(person != nullptr && person->moderator);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string jitsi_url(Api& api, const core::Server& server, const core::Room& room, bool app,
                      core::Instant opens, std::string_view name, const Person* person) {
  std::string url = std::string(app ? "jitsi-meet://" : "https://") + server.url + "/" +
                    percent_encode(room.jitsi_name);
  const JoinOptions& join = api.options().join;
  if (!server.app_id.empty() && !server.app_secret.empty() && join.sign_jwt) {
    std::string claims = jwt_claims(server, room, api.service().now(), opens, name, person);
    return url + "?jwt=" + join.sign_jwt(claims, server.app_secret);
  }
  // Without token authentication Jitsi still takes the display name from the URL's fragment,
  // where its values are JSON.
  rapidjson::StringBuffer buf;
  Writer w(buf);
  put(w, name);
  return url + "#userInfo.displayName=" + percent_encode({buf.GetString(), buf.GetSize()});
}

// Headers of every join answer: nothing cached, the token never sent on as a Referer, no script,
// and forms may go only here or to the room's Jitsi server (browsers check redirects too).
void secure(Response& r, const core::Server* server) {
  std::string form_action = "form-action 'self'";
  if (server != nullptr && is_plain_host(server->url)) {
    form_action += " https://" + server->url + " jitsi-meet:";
  }
  r.set_header("Content-Security-Policy",
               "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
               "frame-ancestors 'none'; " +
                   form_action);
  r.set_header("Referrer-Policy", "no-referrer");
  r.set_header("Cache-Control", "no-store");
  r.set_header("X-Content-Type-Options", "nosniff");
  r.set_header("X-Frame-Options", "DENY");
}

Response page_response(int status, const JoinPage& page, const core::Server* server) {
  Response r = Response::text(status, render_join_page(page), "text/html; charset=utf-8");
  r.set_header("Content-Language", page.language == Language::de ? "de" : "en");
  r.set_header("Vary", "Accept-Language");
  secure(r, server);
  return r;
}

// A display name: trimmed, 1 to 80 characters of UTF-8 text without control characters.
NameError check_name(std::string& name) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!name.empty() && space(name.back())) name.pop_back();
  std::size_t lead = 0;
  while (lead < name.size() && space(name[lead])) ++lead;
  name.erase(0, lead);
  if (name.empty()) return NameError::empty;
  if (!core::is_valid_utf8_text(name)) return NameError::bad_characters;
  std::size_t characters = 0;
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return NameError::bad_characters;
    if ((u & 0xc0) != 0x80) ++characters;
  }
  return characters > kMaxJoinNameCharacters ? NameError::too_long : NameError::none;
}

Response join(Api& api, const Request& request, bool app, std::string_view token) {
  Metrics& metrics = api.metrics();
  JoinPage page;
  page.language = negotiate_language(request.header("Accept-Language").value_or(""));
  page.zone = &api.service().zone();
  page.early_minutes = api.options().join.early_minutes;
  page.app = app;
  page.token = std::string(token);
  Target target = resolve(api, token);
  // Rooms always have a server (deleted ones stay as tombstones); the check only keeps a broken
  // state from becoming a crash.
  const core::Server* server =
      target.room != nullptr ? api.service().state().server(target.room->server_id) : nullptr;
  if (server == nullptr) {
    metrics.count_join(target.kind, "not_found");
    return page_response(404, page, nullptr);
  }
  const core::Room& room = *target.room;
  page.room = &room;
  page.opens = room.start - std::chrono::minutes{page.early_minutes};
  core::Instant now = api.service().now();
  page.state = now < page.opens  ? JoinState::too_early
               : now >= room.end ? JoinState::ended
                                 : JoinState::open;
  if (page.state != JoinState::open) {
    metrics.count_join(target.kind, page.state == JoinState::ended ? "ended" : "too_early");
    return page_response(200, page, server);
  }
  Params query = parse_query(request.query);
  std::optional<std::string> name;
  if (auto given = query.get("name")) name = std::string(*given);
  if (!name && query.is_array("name")) name = "";
  const Person* person = target.person ? &*target.person : nullptr;
  if (!name && person != nullptr) {
    // A personal link needs no name prompt: the invitee is known (a `name` still overrides).
    name = person->email.substr(0, person->email.find('@'));
  }
  if (!name) {
    metrics.count_join(target.kind, "form");
    return page_response(200, page, server);
  }
  page.error = check_name(*name);
  page.name = *name;
  if (page.error != NameError::none) {
    metrics.count_join(target.kind, "bad_name");
    return page_response(400, page, server);
  }
  Response r;
  r.status = 302;
  r.set_header("Location", jitsi_url(api, *server, room, app, page.opens, *name, person));
  secure(r, server);
  metrics.count_join(target.kind, "joined");
  return r;
}

void links(Writer& w, const std::string& base, const std::string& token) {
  w.Key("joinBrowser");
  put(w, join_link(base, false, token));
  w.Key("joinApp");
  put(w, join_link(base, true, token));
}

}  // namespace

std::string shared_token(Api& api, const core::Room& room) {
  const JoinOptions& join = api.options().join;
  return join.seal_uid ? join.seal_uid(room.uid) : "";
}

std::string join_link(const std::string& base, bool app, const std::string& token) {
  if (token.empty()) return "";
  return base + std::string(kPrefix) + (app ? "a/" : "b/") + token;
}

Routed route_join(Api& api, const Request& request) {
  std::string_view path = request.path;
  path.remove_prefix(kPrefix.size());
  bool read = request.method == "GET" || request.method == "HEAD";
  if (path == "style.css" || path == "icon.svg") {
    if (!read) {
      Response r = Response::text(405, "use GET\n");
      r.set_header("Allow", "GET, HEAD");
      return Routed{"join_asset", std::move(r)};
    }
    bool css = path == "style.css";
    Response asset = Response::text(200, std::string(css ? join_stylesheet() : join_icon()),
                                    css ? "text/css; charset=utf-8" : "image/svg+xml");
    asset.set_header("Cache-Control", "public, max-age=86400");
    asset.set_header("X-Content-Type-Options", "nosniff");
    return Routed{"join_asset", std::move(asset)};
  }
  bool shape = path.size() > 2 && (path[0] == 'a' || path[0] == 'b') && path[1] == '/' &&
               path.find('/', 2) == std::string_view::npos;
  if (!shape) {
    api.metrics().count_join("unknown", "not_found");
    JoinPage page;
    page.language = negotiate_language(request.header("Accept-Language").value_or(""));
    return Routed{"join", page_response(404, page, nullptr)};
  }
  if (!read) {
    Response r = Response::text(405, "use GET\n");
    r.set_header("Allow", "GET, HEAD");
    return Routed{"join", std::move(r)};
  }
  return Routed{"join", join(api, request, path[0] == 'a', path.substr(2))};
}

Response personal_links(Api& api, const Request& request, const core::Room& room) {
  const JoinOptions& join = api.options().join;
  std::string base = link_base(api, request);
  auto seal = [&](bool moderator, const std::string& email) {
    Person p{moderator, room.server_id, room.uid, email};
    return join.seal ? join.seal(personal_payload(p)) : "";
  };
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("uid");
  put(w, room.uid);
  w.Key("name");
  put(w, room.name);
  links(w, base, shared_token(api, room));
  w.Key("people");
  w.StartArray();
  auto person = [&](bool moderator, const std::string& email) {
    w.StartObject();
    w.Key("email");
    put(w, email);
    w.Key("role");
    put(w, moderator ? "moderator" : "participant");
    links(w, base, seal(moderator, email));
    w.EndObject();
  };
  person(true, room.moderator);
  // jitsi-admin lists the moderator among the participants too; one link each is enough.
  for (const auto& p : room.participants) {
    if (core::lowercase(p) != core::lowercase(room.moderator)) person(false, p);
  }
  w.EndArray();
  w.EndObject();
  Response r = json(200, std::string(buf.GetString(), buf.GetSize()));
  // The links are credentials: not for caches.
  r.set_header("Cache-Control", "no-store");
  return r;
}

}  // namespace roombus::http::detail
