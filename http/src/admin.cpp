// The admin API (/admin/v1): JSON management of servers behind the operator's bearer token.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <string_view>
#include <vector>

#include "api_internal.hpp"
#include "roombus/core/demand.hpp"
#include "roombus/core/rules.hpp"
#include "roombus/json/demand_codec.hpp"

namespace roombus::http::detail {
namespace {

using core::Errc;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

constexpr std::string_view kPrefix = "/admin/v1/";

void put(Writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

Response admin_error(int status, std::string_view code, std::string_view message) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("error");
  w.StartObject();
  w.Key("code");
  put(w, code);
  w.Key("message");
  put(w, message);
  w.EndObject();
  w.EndObject();
  return json(status, std::string(buf.GetString(), buf.GetSize()));
}

Response from_core_error(const core::Error& e) {
  switch (e.code) {
    case Errc::server_not_found:
    case Errc::not_a_member:
      return admin_error(404, core::to_string(e.code), e.text);
    case Errc::conflict:
      return admin_error(409, core::to_string(e.code), e.text);
    case Errc::storage_failed:
      return admin_error(503, core::to_string(e.code), e.text);
    case Errc::command_id_reused:
      return admin_error(422, core::to_string(e.code),
                         "this Idempotency-Key was sent before with a different request");
    default:
      return admin_error(400, core::to_string(e.code), e.text);
  }
}

void write_server(Writer& w, const core::State& state, const core::Server& s, core::Instant now) {
  w.StartObject();
  w.Key("id");
  w.Int64(s.id);
  w.Key("url");
  put(w, s.url);
  w.Key("name");
  put(w, s.name);
  w.Key("app_id");
  put(w, s.app_id);
  w.Key("members");
  w.StartArray();
  for (const auto& m : s.members) put(w, m);
  w.EndArray();
  w.Key("allow_clone");
  w.Bool(s.allow_clone);
  w.Key("state");
  put(w, core::to_string(s.state));
  w.Key("prototype_id");
  if (s.prototype_id) {
    w.Int64(*s.prototype_id);
  } else {
    w.Null();
  }
  w.Key("version");
  w.Int64(s.version);
  w.Key("open_rooms");
  w.Uint64(state.open_room_count(s.id, now));
  w.EndObject();
}

Response server_view(const core::Service& service, core::ServerId id, int status = 200,
                     const std::optional<std::string>& api_key = std::nullopt) {
  const core::State& state = service.state();
  core::Instant now = service.now();
  const core::Server* s = state.server(id);
  if (s == nullptr || s->deleted) {
    return admin_error(404, "server_not_found", "no server with id " + std::to_string(id));
  }
  rapidjson::StringBuffer buf;
  Writer w(buf);
  if (!api_key) {
    write_server(w, state, *s, now);
  } else {
    // The key is shown once, next to the server it opens.
    w.StartObject();
    w.Key("id");
    w.Int64(id);
    w.Key("api_key");
    put(w, *api_key);
    w.Key("server");
    write_server(w, state, *s, now);
    w.EndObject();
  }
  return json(status, std::string(buf.GetString(), buf.GetSize()));
}

// The typed body of a write: a JSON object with only the allowed members.
struct Body {
  rapidjson::Document doc;
  std::string error;

  std::optional<std::string> string(const char* name) {
    auto it = doc.FindMember(name);
    if (it == doc.MemberEnd()) return std::nullopt;
    if (!it->value.IsString()) {
      error = std::string(name) + " must be a string";
      return std::nullopt;
    }
    return std::string(it->value.GetString(), it->value.GetStringLength());
  }
  std::optional<bool> boolean(const char* name) {
    auto it = doc.FindMember(name);
    if (it == doc.MemberEnd()) return std::nullopt;
    if (!it->value.IsBool()) {
      error = std::string(name) + " must be true or false";
      return std::nullopt;
    }
    return it->value.GetBool();
  }
  std::optional<std::vector<std::string>> strings(const char* name) {
    auto it = doc.FindMember(name);
    if (it == doc.MemberEnd()) return std::nullopt;
    if (!it->value.IsArray()) {
      error = std::string(name) + " must be an array of strings";
      return std::nullopt;
    }
    std::vector<std::string> out;
    for (const auto& v : it->value.GetArray()) {
      if (!v.IsString()) {
        error = std::string(name) + " must be an array of strings";
        return std::nullopt;
      }
      out.emplace_back(v.GetString(), v.GetStringLength());
    }
    return out;
  }
};

std::optional<Response> parse_body(const Request& request, Body& body,
                                   std::initializer_list<std::string_view> allowed) {
  // Iterative: a deeply nested body must not exhaust the stack.
  body.doc.Parse<rapidjson::kParseIterativeFlag>(request.body.data(), request.body.size());
  if (body.doc.HasParseError() || !body.doc.IsObject()) {
    return admin_error(400, "invalid_json", "the body must be a JSON object");
  }
  for (auto it = body.doc.MemberBegin(); it != body.doc.MemberEnd(); ++it) {
    std::string_view name(it->name.GetString(), it->name.GetStringLength());
    bool known = false;
    for (std::string_view a : allowed) known = known || a == name;
    if (!known) {
      std::string list;
      for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return admin_error(400, "invalid_argument",
                         "unknown field '" + std::string(name) + "' (allowed: " + list + ")");
    }
  }
  return std::nullopt;
}

asio::awaitable<Response> run(Api& api, const Request& request, core::Command command,
                              core::ServerId id_for_view, int status = 200) {
  auto cmd_id = command_id(api, request, bearer_token(request));
  if (!cmd_id) {
    co_return admin_error(400, "invalid_argument",
                          "Idempotency-Key must be 1 to 200 visible ASCII characters");
  }
  auto r = co_await submit(api.service(), std::move(*cmd_id), std::move(command));
  if (!r) co_return from_core_error(r.error());
  core::ServerId id = r->reply.server_id.value_or(id_for_view);
  co_return server_view(api.service(), id, status, r->reply.api_key);
}

// The holes of a route's pattern, as the request's path filled them.
struct Target {
  core::ServerId id = 0;    // {id}
  std::string_view uid;     // {uid}, as sent
  std::string_view member;  // {member}
};

// --- reads: answered from memory at once -----------------------------------------------------

Response read_servers(Api& api, const Request&, const Target&) {
  const core::Service& service = api.service();
  const core::State& state = service.state();
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("servers");
  w.StartArray();
  for (const auto& [id, s] : state.servers()) {
    if (!s.deleted) write_server(w, state, s, service.now());
  }
  w.EndArray();
  w.EndObject();
  return json(200, std::string(buf.GetString(), buf.GetSize()));
}

Response read_server(Api& api, const Request&, const Target& at) {
  return server_view(api.service(), at.id);
}

// The forecast the server-demand topic carries, computed now from the same state.
Response read_demand(Api& api, const Request&, const Target& at) {
  const core::Service& service = api.service();
  const core::Server* s = service.state().server(at.id);
  if (s == nullptr || s->deleted) {
    return admin_error(404, "server_not_found", "no server with id " + std::to_string(at.id));
  }
  const core::Demand demand =
      core::forecast_demand(service.state(), at.id, service.now(), api.options().demand_horizon);
  return json(200, json::encode_demand(demand));
}

Response read_join_links(Api& api, const Request& request, const Target& at) {
  std::string uid = core::lowercase(at.uid);
  const core::Room* room = api.service().state().room(uid);
  if (room == nullptr || room->deleted) {
    return admin_error(404, "room_not_found", "no room with uid '" + uid + "'");
  }
  return personal_links(api, request, *room);
}

// --- writes: a command from the body, answered once it is durable ----------------------------

asio::awaitable<Response> create_server(Api& api, const Request& request, const Target&) {
  Body body;
  if (auto bad = parse_body(
          request, body,
          {"url", "name", "app_id", "app_secret", "members", "allow_clone", "api_key"})) {
    co_return *bad;
  }
  core::RegisterServer c;
  c.url = body.string("url").value_or("");
  c.name = body.string("name").value_or("");
  c.app_id = body.string("app_id").value_or("");
  c.app_secret = body.string("app_secret").value_or("");
  c.members = body.strings("members").value_or(std::vector<std::string>{});
  c.allow_clone = body.boolean("allow_clone").value_or(false);
  c.api_key = body.string("api_key");
  if (!body.error.empty()) co_return admin_error(400, "invalid_argument", body.error);
  core::Command command = std::move(c);
  co_return co_await run(api, request, std::move(command), 0, 201);
}

// PATCH, and PUT as its synonym: only the fields sent change.
asio::awaitable<Response> update_server(Api& api, const Request& request, const Target& at) {
  Body body;
  if (auto bad = parse_body(request, body,
                            {"url", "name", "app_id", "app_secret", "members", "allow_clone"})) {
    co_return *bad;
  }
  core::UpdateServer c;
  c.id = at.id;
  c.url = body.string("url");
  c.name = body.string("name");
  c.app_id = body.string("app_id");
  c.app_secret = body.string("app_secret");
  c.members = body.strings("members");
  c.allow_clone = body.boolean("allow_clone");
  if (!body.error.empty()) co_return admin_error(400, "invalid_argument", body.error);
  core::Command command = std::move(c);
  co_return co_await run(api, request, std::move(command), at.id);
}

// 204: there is no server left to show.
asio::awaitable<Response> delete_server(Api& api, const Request& request, const Target& at) {
  auto cmd_id = command_id(api, request, bearer_token(request));
  if (!cmd_id) co_return admin_error(400, "invalid_argument", "bad Idempotency-Key");
  core::Command remove = core::DeleteServer{at.id};
  auto r = co_await submit(api.service(), std::move(*cmd_id), std::move(remove));
  if (!r) co_return from_core_error(r.error());
  Response gone;
  gone.status = 204;
  co_return gone;
}

asio::awaitable<Response> rotate_key(Api& api, const Request& request, const Target& at) {
  core::Command rotate = core::RotateServerKey{at.id};
  co_return co_await run(api, request, std::move(rotate), at.id);
}

asio::awaitable<Response> set_state(Api& api, const Request& request, const Target& at) {
  Body body;
  if (auto bad = parse_body(request, body, {"state"})) co_return *bad;
  auto text = body.string("state");
  auto state = text ? core::server_state_from_string(*text) : std::nullopt;
  if (!state) {
    co_return admin_error(400, "invalid_argument",
                          "state must be \"enabled\", \"cordoned\" or \"disabled\"");
  }
  core::Command set = core::SetServerState{at.id, *state};
  co_return co_await run(api, request, std::move(set), at.id);
}

asio::awaitable<Response> set_clone(Api& api, const Request& request, const Target& at) {
  Body body;
  if (auto bad = parse_body(request, body, {"allow_clone"})) co_return *bad;
  auto allow = body.boolean("allow_clone");
  if (!allow) co_return admin_error(400, "invalid_argument", "allow_clone must be true or false");
  core::UpdateServer c;
  c.id = at.id;
  c.allow_clone = allow;
  core::Command command = std::move(c);
  co_return co_await run(api, request, std::move(command), at.id);
}

asio::awaitable<Response> set_members(Api& api, const Request& request, const Target& at) {
  Body body;
  if (auto bad = parse_body(request, body, {"members"})) co_return *bad;
  auto members = body.strings("members");
  if (!members) {
    co_return admin_error(400, "invalid_argument",
                          body.error.empty() ? "members is required" : body.error);
  }
  core::UpdateServer c;
  c.id = at.id;
  c.members = std::move(members);
  core::Command command = std::move(c);
  co_return co_await run(api, request, std::move(command), at.id);
}

asio::awaitable<Response> add_member(Api& api, const Request& request, const Target& at) {
  Body body;
  if (auto bad = parse_body(request, body, {"member"})) co_return *bad;
  auto member = body.string("member");
  if (!member) co_return admin_error(400, "invalid_argument", "member must be a string");
  core::Command add = core::AddServerMember{at.id, *member};
  co_return co_await run(api, request, std::move(add), at.id);
}

asio::awaitable<Response> remove_member(Api& api, const Request& request, const Target& at) {
  core::Command remove = core::RemoveServerMember{at.id, std::string(at.member)};
  co_return co_await run(api, request, std::move(remove), at.id);
}

// --- the routes of /admin/v1/, one table ------------------------------------------------------

using Read = Response (*)(Api&, const Request&, const Target&);
using Write = asio::awaitable<Response> (*)(Api&, const Request&, const Target&);

struct Route {
  std::string_view pattern;  // below /admin/v1/; holes as matches() reads them
  std::string_view method;
  std::string_view label;  // for metrics
  Read read = nullptr;     // a read, or
  Write write = nullptr;   // a write
  bool listed = true;      // named in a 405's "use ..."; PUT on a server is taken as PATCH
};

constexpr Route kRoutes[] = {
    {"servers", "GET", "admin_servers", read_servers},
    {"servers", "POST", "admin_servers", nullptr, create_server},
    {"rooms/{uid}/join-links", "GET", "admin_join_links", read_join_links},
    {"servers/{id}", "GET", "admin_server", read_server},
    {"servers/{id}", "PATCH", "admin_server", nullptr, update_server},
    {"servers/{id}", "DELETE", "admin_server", nullptr, delete_server},
    {"servers/{id}", "PUT", "admin_server", nullptr, update_server, false},
    {"servers/{id}/demand", "GET", "admin_demand", read_demand},
    {"servers/{id}/rotate-key", "POST", "admin_rotate_key", nullptr, rotate_key},
    {"servers/{id}/state", "PUT", "admin_state", nullptr, set_state},
    {"servers/{id}/clone", "PUT", "admin_clone", nullptr, set_clone},
    {"servers/{id}/members", "GET", "admin_members", read_server},
    {"servers/{id}/members", "PUT", "admin_members", nullptr, set_members},
    {"servers/{id}/members", "POST", "admin_members", nullptr, add_member},
    {"servers/{id}/members/{member}", "DELETE", "admin_members", nullptr, remove_member},
};

// Whether `path` fits `pattern`, its holes going to `at`: "{id}" is a segment that parses as a
// server id (a slash after it that ends the path is ignored: servers/5/ is servers/5), "{uid}"
// any non-empty text before the literal ending the pattern, "{member}" the rest of the path,
// possibly empty. Neither of the last two stops at a slash.
bool matches(std::string_view pattern, std::string_view path, Target& at) {
  for (;;) {
    const auto hole = pattern.find('{');
    const std::string_view literal = pattern.substr(0, hole);
    if (!path.starts_with(literal)) return false;
    path.remove_prefix(literal.size());
    if (hole == std::string_view::npos) return path.empty();
    pattern.remove_prefix(hole);
    const std::string_view name = pattern.substr(0, pattern.find('}') + 1);
    pattern.remove_prefix(name.size());
    if (name == "{uid}") {
      if (path.size() <= pattern.size() || !path.ends_with(pattern)) return false;
      at.uid = path.substr(0, path.size() - pattern.size());
      return true;
    }
    if (name == "{member}") {
      at.member = path;
      return pattern.empty();
    }
    const std::string_view segment = path.substr(0, path.find('/'));
    const auto id = parse_id(segment);
    if (!id) return false;
    at.id = *id;
    path.remove_prefix(segment.size());
    if (pattern.empty() && path == "/") return true;
  }
}

// "use GET", "use GET or POST", "use GET, PATCH or DELETE".
std::string use_one_of(const std::vector<std::string_view>& methods) {
  std::string text = "use ";
  for (std::size_t i = 0; i < methods.size(); ++i) {
    if (i > 0) text += i + 1 == methods.size() ? " or " : ", ";
    text += methods[i];
  }
  return text;
}

}  // namespace

asio::awaitable<Routed> route_admin(Api& api, Request& request) {
  const ApiOptions& options = api.options();
  auto token = bearer_token(request);
  if (options.admin_token_hash.empty() || !token ||
      !core::same_key_hash(options.hash_token(*token), options.admin_token_hash)) {
    Response r = admin_error(401, "unauthorized", "a valid admin bearer token is required");
    r.set_header("WWW-Authenticate", "Bearer realm=\"roombus-admin\"");
    co_return Routed{"admin", std::move(r)};
  }
  std::string_view path = request.path;
  path.remove_prefix(kPrefix.size());
  // Below servers/ the path names a server first: a segment that cannot be an id is answered as
  // such, whatever follows it.
  if (path.starts_with("servers/") && !parse_id(path.substr(8, path.find('/', 8) - 8))) {
    co_return Routed{"not_found",
                     admin_error(404, "server_not_found", "server ids are positive integers")};
  }

  const Route* route = nullptr;
  const Route* first = nullptr;
  Target at;
  std::vector<std::string_view> listed;
  for (const Route& r : kRoutes) {
    Target captured;
    if (!matches(r.pattern, path, captured)) continue;
    if (first == nullptr) first = &r;
    if (r.listed) listed.push_back(r.method);
    if (route == nullptr && r.method == request.method) {
      route = &r;
      at = captured;
    }
  }
  if (first == nullptr) {
    co_return Routed{"not_found", admin_error(404, "not_found", "no route for " + request.path)};
  }
  if (route == nullptr) {
    co_return Routed{std::string(first->label),
                     admin_error(405, "method_not_allowed", use_one_of(listed))};
  }
  const std::string label(route->label);
  if (route->read != nullptr) co_return Routed{label, route->read(api, request, at)};
  Response response = co_await route->write(api, request, at);
  co_return Routed{label, std::move(response)};
}

}  // namespace roombus::http::detail
