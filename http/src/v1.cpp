// jitsi-admin API v1, wire-compatible: routes, parameters, literal texts and PHP-style JSON.
#include <cstdio>

#include "api_internal.hpp"
#include "roombus/core/queries.hpp"
#include "roombus/core/rules.hpp"
#include "roombus/json/php_json_writer.hpp"

namespace roombus::http::detail {
namespace {

using core::Errc;
using json::PhpJsonWriter;

constexpr std::string_view kPrefix = "/api/v1/";

// {"error":true,"text":"..."}: the v1 error shape of the room and user endpoints.
Response v1_error(std::string_view text) {
  return json(200, PhpJsonWriter()
                       .start_object()
                       .key("error")
                       .boolean(true)
                       .key("text")
                       .string(text)
                       .end_object()
                       .take());
}

// A defined error where jitsi-admin crashed with a 500: same shape, plus what was wrong.
Response v1_defined_error(std::string_view text, std::string_view detail, int status = 200) {
  return json(status, PhpJsonWriter()
                          .start_object()
                          .key("error")
                          .boolean(true)
                          .key("text")
                          .string(text)
                          .key("detail")
                          .string(detail)
                          .end_object()
                          .take());
}

// {"error":false,"uid":"...","text":"..."}: create's and update's success.
Response uid_reply(std::string_view uid, std::string_view text) {
  return json(200, PhpJsonWriter()
                       .start_object()
                       .key("error")
                       .boolean(false)
                       .key("uid")
                       .string(uid)
                       .key("text")
                       .string(text)
                       .end_object()
                       .take());
}

// {"error":true,"message":"..."} with a real status: room/move only.
Response move_reply(int status, bool error, std::string_view message) {
  return json(status, PhpJsonWriter()
                          .start_object()
                          .key("error")
                          .boolean(error)
                          .key("message")
                          .string(message)
                          .end_object()
                          .take());
}

// What every endpoint answers when the log could not make the change durable.
Response unavailable(const core::Error& e) {
  return v1_defined_error("Service unavailable", e.text, 503);
}

// Defined answers for the input errors jitsi-admin turned into HTTP 500s.
std::optional<Response> input_error(const core::Error& e) {
  switch (e.code) {
    case Errc::invalid_start:
      return v1_defined_error("Invalid start", e.text);
    case Errc::invalid_duration:
      return v1_defined_error("Invalid duration", e.text);
    case Errc::invalid_minutes:
      return v1_defined_error("Invalid minutes", e.text);
    case Errc::invalid_argument:
      return v1_defined_error("Invalid parameter", e.text);
    case Errc::conflict:
      return v1_defined_error("Conflict", e.text);
    case Errc::server_unavailable:
      return v1_defined_error("Server not available", e.text);
    case Errc::storage_failed:
      return unavailable(e);
    default:
      return std::nullopt;
  }
}

bool is_auth_error(Errc code) {
  return code == Errc::missing_key || code == Errc::access_denied ||
         code == Errc::server_not_found || code == Errc::not_a_member ||
         code == Errc::invalid_email;
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

// Uids are lower-case hex; jitsi-admin's MySQL collation matched them in any case.
std::string room_uid(const std::optional<std::string>& given) {
  return core::lowercase(given.value_or(""));
}

// host[:port] as a URL authority may carry it; anything else (quotes, slashes, spaces) is not put
// into links.
bool is_plain_host(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
    if (!ok) return false;
  }
  return true;
}

std::string link_base(const Api& api, const Request& request) {
  if (!api.options().public_url.empty()) {
    std::string base = api.options().public_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    return base;
  }
  std::string_view host = request.header("Host").value_or("localhost");
  return "http://" + std::string(is_plain_host(host) ? host : "localhost");
}

Response array_error(const std::string& name) {
  return v1_defined_error("Invalid parameter", name + " must be a single value, not an array");
}

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
  w.key("joinBrowser").string(base + "/room/join/b/" + std::to_string(room.number));
  w.key("joinApp").string(base + "/room/join/a/" + std::to_string(room.number));
  if (room.deleted) w.key("deleted").boolean(true);
  w.end_object();
  Response r = json(200, w.take());
  r.set_header("Access-Control-Allow-Origin", "*");
  return r;
}

// getRooms' answer to a question it could not take: a defined input error, else no server.
Response rooms_error(const core::Error& e) {
  if (auto defined = input_error(e)) return *defined;
  return v1_error("No Server found");
}

Response rooms_reply(core::ServerId server, const std::vector<const core::Room*>& rooms) {
  PhpJsonWriter w;
  w.start_object().key("server_id").integer(server);
  w.key("success").boolean(true).key("error").boolean(false).key("room_ids").start_array();
  for (const core::Room* room : rooms) w.string(room->uid);
  w.end_array().end_object();
  return json(200, w.take());
}

bool include_running(const Inputs& in) {
  auto include = in.get("includeRunning");
  return include && (*include == "1" || *include == "true");
}

// getRooms without an index: from memory.
Response get_rooms(Api& api, const Request& request, const Inputs& in) {
  if (auto arr = in.array_field({"minutes"})) return array_error(*arr);
  auto result = core::upcoming_rooms(
      api.service().state(), api.service().hash_key(bearer_token(request)), api.service().now(),
      in.get("minutes").value_or(""), include_running(in));
  if (!result) return rooms_error(result.error());
  api.metrics().count_rooms_answer(false, false);
  return rooms_reply(result->server_id, result->rooms);
}

// getRooms with an index (Redis): the same bytes as from memory. The index answers when it can
// (in sync with the log, up, within its deadline); its rendered answers are reused while neither
// the second nor the server's index version changes. Memory answers otherwise.
asio::awaitable<Response> get_rooms_indexed(Api& api, const Request& request, const Inputs& in) {
  if (auto arr = in.array_field({"minutes"})) co_return array_error(*arr);
  const core::Service& service = api.service();
  auto window =
      core::upcoming_window(service.state(), service.hash_key(bearer_token(request)), service.now(),
                            in.get("minutes").value_or(""), include_running(in));
  if (!window) co_return rooms_error(window.error());
  UpcomingIndex& index = *api.options().upcoming_index;
  const RoomsAnswerCache::Key key{window->server_id, (window->to - window->from).count(),
                                  window->include_running};
  // Read before asking: an event during the query makes the stored answer stale at once.
  const std::uint64_t version = index.version(window->server_id);
  if (const std::string* body = api.rooms_cache().find(key, window->from, version)) {
    api.metrics().count_rooms_answer(true, true);
    co_return json(200, *body);
  }
  const core::UpcomingWindow asked = *window;
  std::optional<std::vector<const core::Room*>> rooms = co_await index.rooms(asked);
  if (!rooms) {
    api.metrics().count_rooms_answer(false, false);
    const auto from_memory = core::rooms_in_window(service.state(), asked.server_id, asked.from,
                                                   asked.to, asked.include_running);
    co_return rooms_reply(asked.server_id, from_memory);
  }
  Response reply = rooms_reply(asked.server_id, *rooms);
  api.rooms_cache().store(key, asked.from, version, reply.body);
  api.metrics().count_rooms_answer(true, false);
  co_return reply;
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

asio::awaitable<Response> create_room(Api& api, const Request& request, const Inputs& in,
                                      CommandId id) {
  if (auto arr = in.array_field({"email", "server", "name", "start", "duration", "keycloakId"})) {
    co_return array_error(*arr);
  }
  core::Command c = core::CreateRoom{bearer_token(request),
                                     in.get("server").value_or(""),
                                     in.get("email").value_or(""),
                                     in.get("name"),
                                     in.get("start"),
                                     in.get("duration")};
  auto r = co_await submit(api.service(), std::move(id), std::move(c));
  if (!r) {
    if (is_auth_error(r.error().code)) co_return v1_error("No Server found");
    if (auto defined = input_error(r.error())) co_return *defined;
    co_return v1_error("No Server found");
  }
  co_return uid_reply(r->reply.room_uid, "Meeting erfolgreich angelegt");
}

asio::awaitable<Response> update_room(Api& api, const Request& request, const Inputs& in,
                                      CommandId id) {
  if (auto arr = in.array_field({"uid", "server", "name", "start", "duration"})) {
    co_return array_error(*arr);
  }
  std::string uid = room_uid(in.get("uid"));
  core::Command c = core::UpdateRoom{bearer_token(request), uid,
                                     in.get("server"),      in.get("name"),
                                     in.get("start"),       in.get("duration")};
  auto r = co_await submit(api.service(), std::move(id), std::move(c));
  if (!r) {
    Errc code = r.error().code;
    if (code == Errc::room_not_found || code == Errc::room_deleted)
      co_return v1_error("Room no found");
    if (is_auth_error(code)) co_return v1_error("No Server found");
    if (auto defined = input_error(r.error())) co_return *defined;
    co_return v1_error("No Server found");
  }
  co_return uid_reply(uid, "Meeting erfolgreich ge\xc3\xa4ndert");
}

asio::awaitable<Response> delete_room(Api& api, const Request& request, const Inputs& in,
                                      CommandId id) {
  if (auto arr = in.array_field({"uid"})) co_return array_error(*arr);
  core::Command c = core::DeleteRoom{bearer_token(request), room_uid(in.get("uid"))};
  auto r = co_await submit(api.service(), std::move(id), std::move(c));
  if (!r) {
    Errc code = r.error().code;
    if (code == Errc::room_not_found || code == Errc::room_deleted) {
      co_return v1_error("Room not found ");  // sic: trailing space
    }
    if (auto defined = input_error(r.error())) co_return *defined;
    co_return v1_error("No Server found");
  }
  co_return json(200, PhpJsonWriter()
                          .start_object()
                          .key("error")
                          .boolean(false)
                          .key("text")
                          .string("Erfolgreich gel\xc3\xb6scht")
                          .end_object()
                          .take());
}

// Both routes: /room/move/{uid} with serverId (the code), /room/move with uid and server (the
// documentation). `server` may be the numeric id or the server's URL.
asio::awaitable<Response> move_room(Api& api, const Request& request, const Inputs& in,
                                    std::optional<std::string> path_uid, CommandId id) {
  if (auto arr = in.array_field({"uid", "serverId", "server"})) {
    co_return move_reply(400, true, *arr + " must be a single value, not an array");
  }
  std::string uid = room_uid(path_uid ? path_uid : in.get("uid"));
  std::optional<core::ServerId> target;
  if (auto server_id = in.get("serverId")) {
    target = parse_id(*server_id);
  } else if (auto server = in.get("server")) {
    target = parse_id(*server);
    if (!target) {
      if (const core::Server* s = api.service().state().live_server_by_url(*server)) target = s->id;
    }
  }
  // Named, not a temporary: GCC 12 destroys non-trivial temporaries of a co_await twice.
  core::Command move = core::MoveRoom{bearer_token(request), uid, target};
  auto r = co_await submit(api.service(), std::move(id), std::move(move));
  if (!r) {
    switch (r.error().code) {
      case Errc::room_not_found:
      case Errc::room_deleted:
        co_return move_reply(404, true, "Room not found");
      case Errc::missing_key:
      case Errc::access_denied:
        co_return move_reply(403, true, "Access denied");
      case Errc::target_not_found:
        co_return move_reply(404, true, "New Server not found");
      case Errc::server_unavailable:
        co_return move_reply(409, true, "New Server not available");
      case Errc::storage_failed:
        co_return move_reply(503, true, "Service unavailable");
      default:
        co_return move_reply(404, true, "New Server not found");
    }
  }
  co_return move_reply(200, false, "Room moved");
}

asio::awaitable<Response> participant(Api& api, const Request& request, const Inputs& in, bool add,
                                      CommandId id) {
  if (auto arr = in.array_field({"uid", "email"})) co_return array_error(*arr);
  std::string uid = room_uid(in.get("uid"));
  std::string email = in.get("email").value_or("");
  core::Command c = add ? core::Command{core::AddParticipant{bearer_token(request), uid, email}}
                        : core::Command{core::RemoveParticipant{bearer_token(request), uid, email}};
  auto r = co_await submit(api.service(), std::move(id), std::move(c));
  if (!r) {
    switch (r.error().code) {
      case Errc::room_not_found:
      case Errc::room_deleted:
        co_return v1_error("no Room found");
      case Errc::invalid_email:
        co_return v1_error("Email incorrect");
      case Errc::not_a_participant:
        co_return v1_error("User incorrect");
      default:
        if (auto defined = input_error(r.error())) co_return *defined;
        co_return v1_error("No Server found");
    }
  }
  std::string text = "Teilnehmer " + email +
                     (add ? " erfolgreich hinzugef\xc3\xbcgt" : " erfolgreich gel\xc3\xb6scht");
  co_return json(200, PhpJsonWriter()
                          .start_object()
                          .key("uid")
                          .string(uid)
                          .key("user")
                          .string(email)
                          .key("error")
                          .boolean(false)
                          .key("text")
                          .string(text)
                          .end_object()
                          .take());
}

asio::awaitable<Response> clone_server(Api& api, const Request& request, const Inputs& in,
                                       CommandId id) {
  if (auto arr = in.array_field({"url", "name", "app_id", "app_secret"})) {
    co_return array_error(*arr);
  }
  core::Command c =
      core::CloneServer{bearer_token(request), in.get("url"), in.get("name"),
                        in.get("app_id").value_or(""), in.get("app_secret").value_or("")};
  auto r = co_await submit(api.service(), std::move(id), std::move(c));
  if (!r) {
    if (auto defined = input_error(r.error())) co_return *defined;
    co_return json(200,
                   PhpJsonWriter()
                       .start_object()
                       .key("error")
                       .boolean(true)
                       .key("text")
                       .string("No Server found. The server mus be allowed to be cloned to "
                               "autoscale")
                       .key("hint")
                       .string("use the command php bin/console app:server:allowTo #serverid to "
                               "allow to clone")
                       .end_object()
                       .take());
  }
  co_return json(200, PhpJsonWriter()
                          .start_object()
                          .key("server_id")
                          .integer(r->reply.server_id.value_or(0))
                          .key("sucess")  // sic
                          .boolean(true)
                          .key("error")
                          .boolean(false)
                          .end_object()
                          .take());
}

Response method_not_allowed(std::string_view allow) {
  Response r = v1_defined_error("Method Not Allowed", "allowed: " + std::string(allow), 405);
  r.set_header("Allow", std::string(allow));
  return r;
}

}  // namespace

asio::awaitable<Routed> route_v1(Api& api, Request& request) {
  std::string_view path = request.path;
  path.remove_prefix(kPrefix.size());
  // Symfony answers HEAD wherever it answers GET; the server sends no body for HEAD.
  const std::string method = request.method == "HEAD" ? "GET" : request.method;
  auto has_segment = [](std::string_view s) {
    return !s.empty() && s.find('/') == std::string_view::npos;
  };

  // Read-only routes need no command id.
  if (path.starts_with("info/") && has_segment(path.substr(5))) {
    if (method != "GET") co_return Routed{"v1_info", method_not_allowed("GET")};
    co_return Routed{"v1_info", info(api, request, room_uid(std::string(path.substr(5))))};
  }
  Inputs in(request);
  if (path == "server/getRooms" || path == "serverInfo") {
    std::string route = path == "serverInfo" ? "v1_server_info" : "v1_get_rooms";
    if (method != "GET") co_return Routed{route, method_not_allowed("GET")};
    if (!in.error().empty())
      co_return Routed{route, v1_defined_error("Bad Request", in.error(), 400)};
    if (path == "serverInfo") co_return Routed{route, server_info(api, request, in)};
    if (api.options().upcoming_index == nullptr)
      co_return Routed{route, get_rooms(api, request, in)};
    Response rooms = co_await get_rooms_indexed(api, request, in);
    co_return Routed{route, std::move(rooms)};
  }

  std::string route;
  std::string allow;
  if (path == "room") {
    route = method == "POST"  ? "v1_room_create"
            : method == "PUT" ? "v1_room_update"
                              : "v1_room_delete";
    allow = "POST, PUT, DELETE";
    if (method != "POST" && method != "PUT" && method != "DELETE") route = "v1_room";
  } else if (path == "user") {
    route = method == "POST" ? "v1_user_add" : "v1_user_remove";
    allow = "POST, DELETE";
    if (method != "POST" && method != "DELETE") route = "v1_user";
  } else if (path == "room/move" ||
             (path.starts_with("room/move/") && has_segment(path.substr(10)))) {
    route = "v1_room_move";
    allow = "POST";
  } else if (path == "server/create") {
    route = "v1_server_create";
    allow = "POST";
  } else {
    co_return Routed{"not_found",
                     v1_defined_error("Not Found", "no route for " + request.path, 404)};
  }
  if ((", " + allow + ",").find(", " + method + ",") == std::string::npos) {
    co_return Routed{route, method_not_allowed(allow)};
  }
  if (!in.error().empty())
    co_return Routed{route, v1_defined_error("Bad Request", in.error(), 400)};
  auto id = command_id(api, request);
  if (!id) {
    co_return Routed{route, v1_defined_error("Bad Request",
                                             "Idempotency-Key must be 1 to 200 visible ASCII "
                                             "characters",
                                             400)};
  }

  Response response;
  if (path == "room") {
    if (method == "POST") response = co_await create_room(api, request, in, std::move(*id));
    if (method == "PUT") response = co_await update_room(api, request, in, std::move(*id));
    if (method == "DELETE") response = co_await delete_room(api, request, in, std::move(*id));
  } else if (path == "user") {
    response = co_await participant(api, request, in, method == "POST", std::move(*id));
  } else if (path == "server/create") {
    response = co_await clone_server(api, request, in, std::move(*id));
  } else {
    std::optional<std::string> uid;
    if (path.size() > 10) uid = std::string(path.substr(10));
    response = co_await move_room(api, request, in, std::move(uid), std::move(*id));
  }
  co_return Routed{std::move(route), std::move(response)};
}

}  // namespace roombus::http::detail
