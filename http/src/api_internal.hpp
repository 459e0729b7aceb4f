// Shared plumbing of the API handlers: inputs, bearer tokens, command ids, JSON replies, links.
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
#include "roombus/v1/replies.hpp"
#include "roombus/v1/submit.hpp"
#include "roombus/v1/writes.hpp"

namespace roombus::http::detail {

// The parameters of one request, looked up like Symfony's Request::get(): query string first,
// then the parsed body (urlencoded for every method with a body, multipart for POST only), then
// a JSON object body (our extension; jitsi-admin never reads JSON).
class Inputs final : public v1::Parameters {
 public:
  explicit Inputs(const Request& request);

  // nullopt when absent. Array-valued fields (`a[]=x`) are reported by array_field().
  std::optional<std::string> get(std::string_view name) const override;
  bool is_array(std::string_view name) const override { return array_field({name}).has_value(); }
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

using v1::CommandId;
using v1::parse_id;
using v1::submit;

// The Idempotency-Key header (1..200 visible ASCII characters), or a fresh id; nullopt when the
// header is present but unusable. A chosen key is scoped to the method, the path and the
// presented credential (`bearer`: bearer_token(request), which the caller has at hand), so one
// caller's key never answers for another caller or endpoint.
std::optional<CommandId> command_id(Api& api, const Request& request,
                                    const std::optional<std::string>& bearer);

Response json(int status, std::string body);
// The same with a body shared with a cache (sent without a copy).
Response json(int status, std::shared_ptr<const std::string> body);

// A v1 reply as an HTTP response (JSON, not cacheable).
Response json(const v1::Reply& reply);

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

}  // namespace roombus::http::detail
