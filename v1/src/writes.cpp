// The v1 writes: parameters to core commands, outcomes to jitsi-admin's replies, literal texts
// and typos included.
#include "roombus/v1/writes.hpp"

#include <array>
#include <charconv>
#include <initializer_list>

#include "roombus/core/rules.hpp"
#include "roombus/json/php_json_writer.hpp"

namespace roombus::v1 {
namespace {

using core::Errc;
using json::PhpJsonWriter;

constexpr std::array<std::pair<Write, std::string_view>, 7> kTypes = {{
    {Write::room_create, "room.create"},
    {Write::room_update, "room.update"},
    {Write::room_delete, "room.delete"},
    {Write::room_move, "room.move"},
    {Write::participant_add, "room.participant.add"},
    {Write::participant_remove, "room.participant.remove"},
    {Write::server_clone, "server.clone"},
}};

// The first of `names` sent as an array, if any.
std::optional<std::string_view> array_among(const Parameters& in,
                                            std::initializer_list<std::string_view> names) {
  for (std::string_view name : names) {
    if (in.is_array(name)) return name;
  }
  return std::nullopt;
}

Reply ok(std::string body) { return {200, std::move(body), true}; }

// {"error":false,"uid":"...","text":"..."}: create's and update's success.
Reply uid_reply(std::string_view uid, std::string_view text) {
  return ok(PhpJsonWriter()
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

// {"error":..,"message":"..."} with a real status: room/move only.
Reply move_reply(int status, bool failed, std::string_view message) {
  return {status,
          PhpJsonWriter()
              .start_object()
              .key("error")
              .boolean(failed)
              .key("message")
              .string(message)
              .end_object()
              .take(),
          !failed};
}

asio::awaitable<Reply> create_room(core::Service& service, const Parameters& in, core::Text key,
                                   CommandId id) {
  if (auto name = array_among(in, {"email", "server", "name", "start", "duration", "keycloakId"})) {
    co_return array_error(*name);
  }
  core::Command c = core::CreateRoom{std::move(key),
                                     in.get("server").value_or(""),
                                     in.get("email").value_or(""),
                                     in.get("name"),
                                     in.get("start"),
                                     in.get("duration")};
  auto r = co_await submit(service, std::move(id), std::move(c));
  if (!r) {
    if (is_auth_error(r.error().code)) co_return error("No Server found");
    if (auto defined = input_error(r.error())) co_return *defined;
    co_return error("No Server found");
  }
  co_return uid_reply(r->reply.room_uid, "Meeting erfolgreich angelegt");
}

asio::awaitable<Reply> update_room(core::Service& service, const Parameters& in, core::Text key,
                                   CommandId id) {
  if (auto name = array_among(in, {"uid", "server", "name", "start", "duration"})) {
    co_return array_error(*name);
  }
  std::string uid = room_uid(in.get("uid"));
  core::Command c = core::UpdateRoom{
      std::move(key), uid, in.get("server"), in.get("name"), in.get("start"), in.get("duration")};
  auto r = co_await submit(service, std::move(id), std::move(c));
  if (!r) {
    Errc code = r.error().code;
    if (code == Errc::room_not_found || code == Errc::room_deleted) {
      co_return error("Room no found");  // sic
    }
    if (is_auth_error(code)) co_return error("No Server found");
    if (auto defined = input_error(r.error())) co_return *defined;
    co_return error("No Server found");
  }
  co_return uid_reply(uid, "Meeting erfolgreich ge\xc3\xa4ndert");
}

asio::awaitable<Reply> delete_room(core::Service& service, const Parameters& in, core::Text key,
                                   CommandId id) {
  if (auto name = array_among(in, {"uid"})) co_return array_error(*name);
  core::Command c = core::DeleteRoom{std::move(key), room_uid(in.get("uid"))};
  auto r = co_await submit(service, std::move(id), std::move(c));
  if (!r) {
    Errc code = r.error().code;
    if (code == Errc::room_not_found || code == Errc::room_deleted) {
      co_return error("Room not found ");  // sic: trailing space
    }
    if (auto defined = input_error(r.error())) co_return *defined;
    co_return error("No Server found");
  }
  co_return ok(PhpJsonWriter()
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
asio::awaitable<Reply> move_room(core::Service& service, const Parameters& in, core::Text key,
                                 std::optional<std::string> path_uid, CommandId id) {
  if (auto name = array_among(in, {"uid", "serverId", "server"})) {
    co_return move_reply(400, true, std::string(*name) + " must be a single value, not an array");
  }
  std::string uid = room_uid(path_uid ? path_uid : in.get("uid"));
  std::optional<core::ServerId> target;
  if (auto server_id = in.get("serverId")) {
    target = parse_id(*server_id);
  } else if (auto server = in.get("server")) {
    target = parse_id(*server);
    if (!target) {
      if (const core::Server* s = service.state().live_server_by_url(*server)) target = s->id;
    }
  }
  // Named, not a temporary: GCC 12 destroys non-trivial temporaries of a co_await twice.
  core::Command move = core::MoveRoom{std::move(key), uid, target};
  auto r = co_await submit(service, std::move(id), std::move(move));
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
      case Errc::command_id_reused:
        co_return *input_error(r.error());
      default:
        co_return move_reply(404, true, "New Server not found");
    }
  }
  co_return move_reply(200, false, "Room moved");
}

asio::awaitable<Reply> participant(core::Service& service, const Parameters& in, core::Text key,
                                   bool add, CommandId id) {
  if (auto name = array_among(in, {"uid", "email"})) co_return array_error(*name);
  std::string uid = room_uid(in.get("uid"));
  std::string email = in.get("email").value_or("");
  core::Command c = add ? core::Command{core::AddParticipant{std::move(key), uid, email}}
                        : core::Command{core::RemoveParticipant{std::move(key), uid, email}};
  auto r = co_await submit(service, std::move(id), std::move(c));
  if (!r) {
    switch (r.error().code) {
      case Errc::room_not_found:
      case Errc::room_deleted:
        co_return error("no Room found");
      case Errc::invalid_email:
        co_return error("Email incorrect");
      case Errc::not_a_participant:
        co_return error("User incorrect");
      default:
        if (auto defined = input_error(r.error())) co_return *defined;
        co_return error("No Server found");
    }
  }
  std::string text = "Teilnehmer " + email +
                     (add ? " erfolgreich hinzugef\xc3\xbcgt" : " erfolgreich gel\xc3\xb6scht");
  co_return ok(PhpJsonWriter()
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

asio::awaitable<Reply> clone_server(core::Service& service, const Parameters& in, core::Text key,
                                    CommandId id) {
  if (auto name = array_among(in, {"url", "name", "app_id", "app_secret"})) {
    co_return array_error(*name);
  }
  core::Command c =
      core::CloneServer{std::move(key), in.get("url"), in.get("name"),
                        in.get("app_id").value_or(""), in.get("app_secret").value_or("")};
  auto r = co_await submit(service, std::move(id), std::move(c));
  if (!r) {
    if (auto defined = input_error(r.error())) co_return *defined;
    co_return Reply{200,
                    PhpJsonWriter()
                        .start_object()
                        .key("error")
                        .boolean(true)
                        .key("text")
                        .string("No Server found. The server mus be allowed to be cloned to "
                                "autoscale")  // sic
                        .key("hint")
                        .string("use the command php bin/console app:server:allowTo #serverid to "
                                "allow to clone")
                        .end_object()
                        .take(),
                    false};
  }
  co_return ok(PhpJsonWriter()
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

}  // namespace

std::string_view command_type(Write write) {
  for (const auto& [w, type] : kTypes) {
    if (w == write) return type;
  }
  return {};
}

std::optional<Write> write_of(std::string_view type) {
  for (const auto& [w, name] : kTypes) {
    if (name == type) return w;
  }
  return std::nullopt;
}

std::optional<std::string> JsonParameters::get(std::string_view name) const {
  auto field = json::find_field(fields_, name);
  if (!field) return std::nullopt;
  return *field;
}

bool JsonParameters::is_array(std::string_view name) const {
  auto field = json::find_field(fields_, name);
  return field && !*field;
}

std::optional<std::string> parse_bearer(std::string_view v) {
  if (!v.empty() && v.back() == '\n') v.remove_suffix(1);
  if (v.size() < 8 || v.substr(0, 6) != "Bearer" || (v[6] != ' ' && v[6] != ':')) {
    return std::nullopt;
  }
  std::string_view token = v.substr(7);
  for (char c : token) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      return std::nullopt;
    }
  }
  return std::string(token);
}

std::string room_uid(const std::optional<std::string>& given) {
  return core::lowercase(given.value_or(""));
}

std::optional<std::int64_t> parse_id(std::string_view text) {
  std::int64_t value = 0;
  if (text.empty() || text.front() < '0' || text.front() > '9') return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

asio::awaitable<Reply> run(core::Service& service, WriteRequest request) {
  const Parameters& in = *request.parameters;
  switch (request.write) {
    case Write::room_create:
      co_return co_await create_room(service, in, std::move(request.api_key),
                                     std::move(request.id));
    case Write::room_update:
      co_return co_await update_room(service, in, std::move(request.api_key),
                                     std::move(request.id));
    case Write::room_delete:
      co_return co_await delete_room(service, in, std::move(request.api_key),
                                     std::move(request.id));
    case Write::room_move:
      co_return co_await move_room(service, in, std::move(request.api_key),
                                   std::move(request.path_uid), std::move(request.id));
    case Write::participant_add:
    case Write::participant_remove:
      co_return co_await participant(service, in, std::move(request.api_key),
                                     request.write == Write::participant_add,
                                     std::move(request.id));
    case Write::server_clone:
      co_return co_await clone_server(service, in, std::move(request.api_key),
                                      std::move(request.id));
  }
  co_return error("No Server found");
}

}  // namespace roombus::v1
