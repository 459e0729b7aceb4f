// jitsi-admin API v1, wire-compatible: routes, parameters, literal texts and PHP-style JSON.
#include <cstdio>
#include <memory>
#include <optional>
#include <variant>
#include <vector>

#include "api_internal.hpp"
#include "roombus/core/queries.hpp"
#include "roombus/core/rules.hpp"
#include "roombus/json/php_json_writer.hpp"

namespace roombus::http::detail {
namespace {

using core::Errc;
using json::PhpJsonWriter;

constexpr std::string_view kPrefix = "/api/v1/";

// The v1 shapes (roombus_v1), as responses.
Response v1_error(std::string_view text) { return json(v1::error(text)); }
Response v1_defined_error(std::string_view text, std::string_view detail, int status = 200) {
  return json(v1::defined_error(text, detail, status));
}
std::optional<Response> input_error(const core::Error& e) {
  if (auto reply = v1::input_error(e)) return json(*reply);
  return std::nullopt;
}

std::string two(unsigned v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02u", v);
  return buf;
}

// PHP's 'Y-m-dTH:i:s': an unescaped T is the zone abbreviation, so 13:00 in Berlin's winter is
// "2021-02-02CET13:00:00". Clients parse it, so it stays.
std::string php_ymd_t_his(const core::TimeZone& zone, core::Instant t) {
  core::LocalDateTime l = zone.to_local(t);
  char date[16];
  std::snprintf(date, sizeof date, "%04d-%02u-%02u", l.year, l.month, l.day);
  return std::string(date) + zone.abbreviation(t) + two(l.hour) + ":" + two(l.minute) + ":" +
         two(l.second);
}

using v1::room_uid;

Response array_error(const std::string& name) { return json(v1::array_error(name)); }

// --- handlers ---------------------------------------------------------------------------------

Response info(Api& api, const Request& request, std::string_view uid) {
  const core::State& state = api.service().state();
  auto found = core::room_info(state, uid);
  if (!found) return v1_error("no Room found");
  const core::Room& room = *found->room;
  if (api.options().info_requires_key) {
    auto key = api.service().hash_key(bearer_token(request));
    if (!key || found->server == nullptr || found->server->api_key_hash.empty() ||
        !core::same_key_hash(*key, found->server->api_key_hash)) {
      return v1_error("No Server found");
    }
  }
  const core::TimeZone& zone = api.service().zone();
  std::string base = link_base(api, request);
  PhpJsonWriter w;
  w.start_object().key("timeZone").string(zone.name()).key("error").boolean(false);
  w.key("teilnehmer").start_array();
  if (!room.deleted) {
    for (const auto& p : room.participants) w.string(p);
  }
  w.end_array();
  w.key("start").string(php_ymd_t_his(zone, room.start));
  w.key("end").string(php_ymd_t_his(zone, room.end));
  w.key("duration").integer(room.duration_minutes);
  w.key("name").string(room.name);
  w.key("moderator").string(room.deleted ? "" : room.moderator);
  w.key("server").string(found->server != nullptr ? found->server->url : "");
  // Unguessable tokens, not jitsi-admin's room numbers: the links themselves let people in.
  std::string token = shared_token(api, room);
  w.key("joinBrowser").string(join_link(base, false, token));
  w.key("joinApp").string(join_link(base, true, token));
  if (room.deleted) w.key("deleted").boolean(true);
  w.end_object();
  Response r = json(200, w.take());
  r.set_header("Access-Control-Allow-Origin", "*");
  return r;
}

// Our extension: a room's personal join links for the key of the server it runs on.
Response join_links(Api& api, const Request& request, std::string_view uid) {
  const core::Room* room = api.service().state().room(uid);
  if (room == nullptr || room->deleted) {
    return v1_defined_error("no Room found", "no room with uid '" + std::string(uid) + "'", 404);
  }
  const core::Server* server = api.service().state().server(room->server_id);
  auto key = api.service().hash_key(bearer_token(request));
  if (!key || server == nullptr || server->deleted || server->api_key_hash.empty() ||
      !core::same_key_hash(*key, server->api_key_hash)) {
    return v1_defined_error("Access denied", "the key of the room's server is required", 403);
  }
  return personal_links(api, request, *room);
}

// getRooms' answer to a question it could not take: a defined input error, else no server.
Response rooms_error(const core::Error& e) {
  if (auto defined = input_error(e)) return *defined;
  return v1_error("No Server found");
}

std::string rooms_body(core::ServerId server, const std::vector<const core::Room*>& rooms) {
  PhpJsonWriter w;
  w.start_object().key("server_id").integer(server);
  w.key("success").boolean(true).key("error").boolean(false).key("room_ids").start_array();
  for (const core::Room* room : rooms) w.string(room->uid);
  w.end_array().end_object();
  return w.take();
}

bool include_running(const Inputs& in) {
  auto include = in.get("includeRunning");
  return include && (*include == "1" || *include == "true");
}

// Which cached answer a window's question is (its start is the cache entry's second).
RoomsAnswerCache::Key answer_key(const core::UpcomingWindow& window) {
  return {window.server_id, (window.to - window.from).count(), window.include_running};
}

// getRooms' question: the window a request asks about, or the answer to one that asks none (an
// array `minutes`, no or an unknown key, bad minutes).
using RoomsQuestion = std::variant<core::UpcomingWindow, Response>;

RoomsQuestion rooms_question(Api& api, const Request& request, const Inputs& in) {
  if (auto arr = in.array_field({"minutes"})) return array_error(*arr);
  const core::Service& service = api.service();
  auto window =
      core::upcoming_window(service.state(), service.hash_key(bearer_token(request)), service.now(),
                            in.get("minutes").value_or(""), include_running(in));
  if (!window) return rooms_error(window.error());
  return *window;
}

// The answer rendered earlier for `window` under `version` (counted as reused), or nullopt.
std::optional<Response> reused_rooms_answer(Api& api, const core::UpcomingWindow& window,
                                            std::uint64_t version, bool from_index) {
  auto body = api.rooms_cache().find(answer_key(window), window.from, version);
  if (!body) return std::nullopt;
  api.metrics().count_rooms_answer(from_index, true);
  return json(200, std::move(body));
}

// `rooms` rendered as the answer for `window`, kept for reuse under `version`, and counted.
Response stored_rooms_answer(Api& api, const core::UpcomingWindow& window, std::uint64_t version,
                             const std::vector<const core::Room*>& rooms, bool from_index) {
  auto body = std::make_shared<const std::string>(rooms_body(window.server_id, rooms));
  api.rooms_cache().store(answer_key(window), window.from, version, body);
  api.metrics().count_rooms_answer(from_index, false);
  return json(200, std::move(body));
}

// getRooms without an index: from memory. Rendered answers are reused while neither the second
// nor the server's schedule version changes (the same rule as the index's answers below). Only
// an Api without an index comes here (its options are fixed), so the cache never mixes the
// core's versions with the index's.
Response get_rooms(Api& api, const Request& request, const Inputs& in) {
  RoomsQuestion asked = rooms_question(api, request, in);
  if (auto* answer = std::get_if<Response>(&asked)) return std::move(*answer);
  const auto& window = std::get<core::UpcomingWindow>(asked);
  const core::State& state = api.service().state();
  const std::uint64_t version = state.schedule_version(window.server_id);
  if (auto reused = reused_rooms_answer(api, window, version, false)) return std::move(*reused);
  return stored_rooms_answer(api, window, version,
                             core::rooms_in_window(state, window.server_id, window.from, window.to,
                                                   window.include_running),
                             false);
}

// getRooms with an index (Redis): the same bytes as from memory. The index answers when it can
// (in sync with the log, up, within its deadline); its rendered answers are reused while neither
// the second nor the server's index version changes. Memory answers otherwise.
asio::awaitable<Response> get_rooms_indexed(Api& api, const Request& request, const Inputs& in) {
  RoomsQuestion asked = rooms_question(api, request, in);
  if (auto* answer = std::get_if<Response>(&asked)) co_return std::move(*answer);
  const core::UpcomingWindow window = std::get<core::UpcomingWindow>(asked);
  services::UpcomingIndex& index = *api.options().upcoming_index;
  // Read before asking: an event during the query makes the stored answer stale at once.
  const std::uint64_t version = index.version(window.server_id);
  if (auto reused = reused_rooms_answer(api, window, version, true)) co_return std::move(*reused);
  std::optional<std::vector<const core::Room*>> rooms = co_await index.rooms(window);
  if (!rooms) {
    api.metrics().count_rooms_answer(false, false);
    const auto from_memory = core::rooms_in_window(api.service().state(), window.server_id,
                                                   window.from, window.to, window.include_running);
    co_return json(200, rooms_body(window.server_id, from_memory));
  }
  co_return stored_rooms_answer(api, window, version, *rooms, true);
}

Response server_info(Api& api, const Request& request, const Inputs& in) {
  if (auto arr = in.array_field({"email", "keycloakId"})) return array_error(*arr);
  const core::State& state = api.service().state();
  if (!api.options().server_info_open) {
    auto key = api.service().hash_key(bearer_token(request));
    if (!key || state.live_servers_by_key_hash(*key).empty()) return v1_error("No Server found");
  }
  std::string email = in.get("email").value_or("");
  auto servers = core::servers_for_email(state, email);
  if (!servers) return v1_defined_error("no User found", servers.error().text);
  if (servers->empty()) {
    return v1_defined_error("no User found", "no server admits " + email);
  }
  PhpJsonWriter w;
  w.start_object().key("server").start_array();
  for (const core::Server* s : *servers) w.string(s->url);
  w.end_array().key("email").string(email).key("error").boolean(false).end_object();
  return json(200, w.take());
}

Response method_not_allowed(std::string_view allow) {
  Response r = v1_defined_error("Method Not Allowed", "allowed: " + std::string(allow), 405);
  r.set_header("Allow", std::string(allow));
  return r;
}

// The routes of /api/v1/, one table: reads answer from memory, writes run through roombus_v1.
// A read answers from memory; by uid alone (`in` is null) or from the request's parameters.
using Read = Response (*)(Api&, const Request&, const Inputs* in, std::string_view uid);

Response read_info(Api& api, const Request& request, const Inputs*, std::string_view uid) {
  return info(api, request, room_uid(std::string(uid)));
}
Response read_join_links(Api& api, const Request& request, const Inputs*, std::string_view uid) {
  return join_links(api, request, room_uid(std::string(uid)));
}
Response read_rooms(Api& api, const Request& request, const Inputs* in, std::string_view) {
  return get_rooms(api, request, *in);
}
Response read_server_info(Api& api, const Request& request, const Inputs* in, std::string_view) {
  return server_info(api, request, *in);
}

struct Route {
  std::string_view pattern;  // below /api/v1/; "{uid}" is one path segment
  std::string_view method;
  std::string_view label;  // for metrics
  Read read = nullptr;     // a read, or
  v1::Write write{};       // the write it runs
  bool parameters = true;  // whether it reads the query and body
};

constexpr Route kRoutes[] = {
    {"info/{uid}", "GET", "v1_info", read_info, {}, false},
    {"room/{uid}/join-links", "GET", "v1_join_links", read_join_links, {}, false},
    {"server/getRooms", "GET", "v1_get_rooms", read_rooms},
    {"serverInfo", "GET", "v1_server_info", read_server_info},
    {"room", "POST", "v1_room_create", nullptr, v1::Write::room_create},
    {"room", "PUT", "v1_room_update", nullptr, v1::Write::room_update},
    {"room", "DELETE", "v1_room_delete", nullptr, v1::Write::room_delete},
    {"room/move", "POST", "v1_room_move", nullptr, v1::Write::room_move},
    {"room/move/{uid}", "POST", "v1_room_move", nullptr, v1::Write::room_move},
    {"user", "POST", "v1_user_add", nullptr, v1::Write::participant_add},
    {"user", "DELETE", "v1_user_remove", nullptr, v1::Write::participant_remove},
    {"server/create", "POST", "v1_server_create", nullptr, v1::Write::server_clone},
};

// Whether `path` fits `pattern`; the `{uid}` segment (non-empty, no '/') goes to `uid`.
bool matches(std::string_view pattern, std::string_view path, std::string_view& uid) {
  const auto hole = pattern.find("{uid}");
  if (hole == std::string_view::npos) return pattern == path;
  const std::string_view before = pattern.substr(0, hole);
  const std::string_view after = pattern.substr(hole + 5);
  if (path.size() <= before.size() + after.size() || !path.starts_with(before) ||
      !path.ends_with(after)) {
    return false;
  }
  uid = path.substr(before.size(), path.size() - before.size() - after.size());
  return uid.find('/') == std::string_view::npos;
}

}  // namespace

asio::awaitable<Routed> route_v1(Api& api, Request& request) {
  std::string_view path = request.path;
  path.remove_prefix(kPrefix.size());
  // Symfony answers HEAD wherever it answers GET; the server sends no body for HEAD.
  const std::string method = request.method == "HEAD" ? "GET" : request.method;

  const Route* route = nullptr;
  const Route* first = nullptr;
  std::string_view uid;
  std::string allow;
  int matched = 0;
  for (const Route& r : kRoutes) {
    std::string_view captured;
    if (!matches(r.pattern, path, captured)) continue;
    if (++matched == 1) first = &r;
    if (allow.find(r.method) == std::string::npos) {
      allow += (allow.empty() ? "" : ", ") + std::string(r.method);
    }
    if (route == nullptr && r.method == method) {
      route = &r;
      uid = captured;
    }
  }
  if (first == nullptr) {
    co_return Routed{"not_found",
                     v1_defined_error("Not Found", "no route for " + request.path, 404)};
  }
  if (route == nullptr) {
    // A wrong method on a path of several routes counts for the path ("v1_room", "v1_user").
    const bool shared = matched > 1 && first->pattern.find('{') == std::string_view::npos;
    std::string label = shared ? "v1_" + std::string(first->pattern) : std::string(first->label);
    co_return Routed{std::move(label), method_not_allowed(allow)};
  }
  const std::string label(route->label);
  if (!route->parameters) co_return Routed{label, route->read(api, request, nullptr, uid)};
  Inputs in(request);
  if (!in.error().empty()) {
    co_return Routed{label, v1_defined_error("Bad Request", in.error(), 400)};
  }
  if (route->read == read_rooms && api.options().upcoming_index != nullptr) {
    // getRooms from the index (Redis) awaits it; every other read answers from memory at once.
    Response rooms = co_await get_rooms_indexed(api, request, in);
    co_return Routed{label, std::move(rooms)};
  }
  if (route->read != nullptr) co_return Routed{label, route->read(api, request, &in, uid)};

  std::optional<std::string> bearer = bearer_token(request);
  auto id = command_id(api, request, bearer);
  if (!id) {
    co_return Routed{label, v1_defined_error("Bad Request",
                                             "Idempotency-Key must be 1 to 200 visible ASCII "
                                             "characters",
                                             400)};
  }
  v1::WriteRequest write{route->write, &in, std::move(bearer), std::nullopt, std::move(*id)};
  if (!uid.empty()) write.path_uid = std::string(uid);
  v1::Reply reply = co_await v1::run(api.service(), std::move(write));
  co_return Routed{label, json(reply)};
}

}  // namespace roombus::http::detail
