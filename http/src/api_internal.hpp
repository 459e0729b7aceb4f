// Shared plumbing of the API handlers: inputs, bearer tokens, JSON replies, the durable submit.
#pragma once

#include <asio/awaitable.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "roombus/core/commands.hpp"
#include "roombus/core/decide.hpp"
#include "roombus/core/service.hpp"
#include "roombus/http/api.hpp"
#include "roombus/http/params.hpp"
#include "roombus/http/request.hpp"
#include "roombus/json/flat_fields.hpp"

namespace roombus::http::detail {

// The parameters of one request, looked up like Symfony's Request::get(): query string first,
// then the parsed body (urlencoded for every method with a body, multipart for POST only), then
// a JSON object body (our extension; jitsi-admin never reads JSON).
class Inputs {
 public:
  explicit Inputs(const Request& request);

  // nullopt when absent. Array-valued fields (`a[]=x`) are reported by array_field().
  std::optional<std::string> get(std::string_view name) const;
  // The first requested field that was sent as an array or an object, if any.
  std::optional<std::string> array_field(std::initializer_list<std::string_view> names) const;
  // Non-empty when the body could not be decoded (bad multipart, malformed JSON).
  const std::string& error() const { return error_; }

 private:
  Params query_;
  Params form_;
  json::FlatFields json_fields_;
  std::string error_;
};

// jitsi-admin's /^Bearer[ :](?<token>\S+)$/ on the first Authorization field (one trailing
// newline tolerated, as PHP's `$` does).
std::optional<std::string> bearer_token(const Request& request);

// A command id: the caller's Idempotency-Key (remembered with its outcome), or a fresh one.
struct CommandId {
  std::string value;
  bool chosen = false;
  // For a chosen key: method, path and credential, which submit() fingerprints together with
  // the command (the request's decoded parameters) so that a reused key is told apart.
  std::string request_scope;
};

// The Idempotency-Key header (1..200 visible ASCII characters), or a fresh id; nullopt when the
// header is present but unusable. A chosen key is scoped to the method, the path and the
// presented credential, so one caller's key never answers for another caller or endpoint.
std::optional<CommandId> command_id(Api& api, const Request& request);

Response json(int status, std::string body);

// Runs a command through the core and resumes once its outcome is final (durable on success).
// The Decision carries the reply only, not the events. A chosen key that comes again with
// another request (other parameters) is Errc::command_id_reused: answer 422.
asio::awaitable<core::Result<core::Decision>> submit(core::Service& service, CommandId id,
                                                     core::Command command);

struct Routed {
  std::string route;  // metrics label
  Response response;
};

asio::awaitable<Routed> route_v1(Api& api, Request& request);
asio::awaitable<Routed> route_admin(Api& api, Request& request);
// /room/join/...: the join page, the redirect into Jitsi, the page's stylesheet and icon.
Routed route_join(Api& api, const Request& request);

// host[:port] as a URL authority may carry it; anything else (quotes, slashes, spaces) is not put
// into links or headers.
bool is_plain_host(std::string_view host);
// Base of the links roombus hands out: --public-url, else "http://" + a plain Host header.
std::string link_base(const Api& api, const Request& request);
// The shared-link token of a room ("" when join links are not configured).
std::string shared_token(Api& api, const core::Room& room);
// base + "/room/join/{a|b}/" + token; "" for an empty token.
std::string join_link(const std::string& base, bool app, const std::string& token);
// 200 with the room's shared links and one personal link pair per invitee (moderator first).
Response personal_links(Api& api, const Request& request, const core::Room& room);

// Parses a decimal id; nullopt for anything else (signs, spaces, overflow).
std::optional<std::int64_t> parse_id(std::string_view text);

}  // namespace roombus::http::detail
