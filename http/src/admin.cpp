// The admin API (/admin/v1): JSON management of servers behind the operator's bearer token.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

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

// The forecast the server-demand topic carries, computed now from the same state.
Response demand_view(Api& api, core::ServerId id) {
  const core::Service& service = api.service();
  const core::Server* s = service.state().server(id);
  if (s == nullptr || s->deleted) {
    return admin_error(404, "server_not_found", "no server with id " + std::to_string(id));
  }
  const core::Demand demand =
      core::forecast_demand(service.state(), id, service.now(), api.options().demand_horizon);
  return json(200, json::encode_demand(demand));
}

Response list_servers(const core::Service& service) {
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

asio::awaitable<Response> dispatch(Api& api, const Request& request, std::string_view path,
                                   std::string& route) {
  const std::string& method = request.method;
  if (path == "servers") {
    route = "admin_servers";
    if (method == "GET") co_return list_servers(api.service());
    if (method != "POST") co_return admin_error(405, "method_not_allowed", "use GET or POST");
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
  if (path.starts_with("rooms/") && path.ends_with("/join-links") && path.size() > 17) {
    route = "admin_join_links";
    if (method != "GET") co_return admin_error(405, "method_not_allowed", "use GET");
    std::string uid = core::lowercase(path.substr(6, path.size() - 6 - 11));
    const core::Room* room = api.service().state().room(uid);
    if (room == nullptr || room->deleted) {
      co_return admin_error(404, "room_not_found", "no room with uid '" + uid + "'");
    }
    co_return personal_links(api, request, *room);
  }
  if (!path.starts_with("servers/")) {
    route = "not_found";
    co_return admin_error(404, "not_found", "no route for " + request.path);
  }
  path.remove_prefix(8);
  auto slash = path.find('/');
  auto id = parse_id(path.substr(0, slash));
  std::string_view rest = slash == std::string_view::npos ? "" : path.substr(slash + 1);
  if (!id) {
    route = "not_found";
    co_return admin_error(404, "server_not_found", "server ids are positive integers");
  }
  if (rest.empty()) {
    route = "admin_server";
    if (method == "GET") co_return server_view(api.service(), *id);
    if (method == "DELETE") {
      auto cmd_id = command_id(api, request, bearer_token(request));
      if (!cmd_id) co_return admin_error(400, "invalid_argument", "bad Idempotency-Key");
      core::Command remove = core::DeleteServer{*id};
      auto r = co_await submit(api.service(), std::move(*cmd_id), std::move(remove));
      if (!r) co_return from_core_error(r.error());
      Response gone;
      gone.status = 204;
      co_return gone;
    }
    if (method != "PATCH" && method != "PUT") {
      co_return admin_error(405, "method_not_allowed", "use GET, PATCH or DELETE");
    }
    Body body;
    if (auto bad = parse_body(request, body,
                              {"url", "name", "app_id", "app_secret", "members", "allow_clone"})) {
      co_return *bad;
    }
    core::UpdateServer c;
    c.id = *id;
    c.url = body.string("url");
    c.name = body.string("name");
    c.app_id = body.string("app_id");
    c.app_secret = body.string("app_secret");
    c.members = body.strings("members");
    c.allow_clone = body.boolean("allow_clone");
    if (!body.error.empty()) co_return admin_error(400, "invalid_argument", body.error);
    core::Command command = std::move(c);
    co_return co_await run(api, request, std::move(command), *id);
  }
  if (rest == "demand") {
    route = "admin_demand";
    if (method != "GET") co_return admin_error(405, "method_not_allowed", "use GET");
    co_return demand_view(api, *id);
  }
  if (rest == "rotate-key") {
    route = "admin_rotate_key";
    if (method != "POST") co_return admin_error(405, "method_not_allowed", "use POST");
    core::Command rotate = core::RotateServerKey{*id};
    co_return co_await run(api, request, std::move(rotate), *id);
  }
  if (rest == "state" || rest == "clone") {
    route = rest == "state" ? "admin_state" : "admin_clone";
    if (method != "PUT") co_return admin_error(405, "method_not_allowed", "use PUT");
    Body body;
    if (rest == "state") {
      if (auto bad = parse_body(request, body, {"state"})) co_return *bad;
      auto text = body.string("state");
      auto state = text ? core::server_state_from_string(*text) : std::nullopt;
      if (!state) {
        co_return admin_error(400, "invalid_argument",
                              "state must be \"enabled\", \"cordoned\" or \"disabled\"");
      }
      core::Command set = core::SetServerState{*id, *state};
      co_return co_await run(api, request, std::move(set), *id);
    }
    if (auto bad = parse_body(request, body, {"allow_clone"})) co_return *bad;
    auto allow = body.boolean("allow_clone");
    if (!allow) co_return admin_error(400, "invalid_argument", "allow_clone must be true or false");
    core::UpdateServer c;
    c.id = *id;
    c.allow_clone = allow;
    core::Command command = std::move(c);
    co_return co_await run(api, request, std::move(command), *id);
  }
  if (rest == "members" || rest.starts_with("members/")) {
    route = "admin_members";
    if (rest == "members") {
      if (method == "GET") co_return server_view(api.service(), *id);
      Body body;
      if (method == "PUT") {
        if (auto bad = parse_body(request, body, {"members"})) co_return *bad;
        auto members = body.strings("members");
        if (!members) {
          co_return admin_error(400, "invalid_argument",
                                body.error.empty() ? "members is required" : body.error);
        }
        core::UpdateServer c;
        c.id = *id;
        c.members = std::move(members);
        core::Command command = std::move(c);
        co_return co_await run(api, request, std::move(command), *id);
      }
      if (method == "POST") {
        if (auto bad = parse_body(request, body, {"member"})) co_return *bad;
        auto member = body.string("member");
        if (!member) co_return admin_error(400, "invalid_argument", "member must be a string");
        core::Command add = core::AddServerMember{*id, *member};
        co_return co_await run(api, request, std::move(add), *id);
      }
      co_return admin_error(405, "method_not_allowed", "use GET, PUT or POST");
    }
    if (method != "DELETE") co_return admin_error(405, "method_not_allowed", "use DELETE");
    std::string member(rest.substr(8));
    core::Command remove = core::RemoveServerMember{*id, member};
    co_return co_await run(api, request, std::move(remove), *id);
  }
  route = "not_found";
  co_return admin_error(404, "not_found", "no route for " + request.path);
}

}  // namespace

asio::awaitable<Routed> route_admin(Api& api, Request& request) {
  std::string route = "admin";
  const ApiOptions& options = api.options();
  auto token = bearer_token(request);
  if (options.admin_token_hash.empty() || !token ||
      !core::same_key_hash(options.hash_token(*token), options.admin_token_hash)) {
    Response r = admin_error(401, "unauthorized", "a valid admin bearer token is required");
    r.set_header("WWW-Authenticate", "Bearer realm=\"roombus-admin\"");
    co_return Routed{route, std::move(r)};
  }
  std::string_view path = request.path;
  path.remove_prefix(kPrefix.size());
  Response response = co_await dispatch(api, request, path, route);
  co_return Routed{std::move(route), std::move(response)};
}

}  // namespace roombus::http::detail
