// Shared plumbing of the API handlers: inputs, bearer tokens, command ids, JSON replies, links.
#include <rapidjson/document.h>

#include <string>

#include "api_internal.hpp"

namespace roombus::http::detail {

Inputs::Inputs(const Request& request) {
  query_ = parse_query(request.query);
  if (request.body.empty()) return;
  auto content_type = std::string(request.header("Content-Type").value_or(""));
  std::string media = media_type(content_type);
  if (media == "application/json" || (media.size() > 5 && media.ends_with("+json"))) {
    rapidjson::Document doc;
    // Iterative: a deeply nested body must not exhaust the stack.
    doc.Parse<rapidjson::kParseIterativeFlag>(request.body.data(), request.body.size());
    if (doc.HasParseError() || !doc.IsObject()) {
      error_ = "the body is not a JSON object";
      return;
    }
    json_fields_ = json::flat_fields(doc);
    return;
  }
  // PHP fills $_POST for POST only; Symfony re-parses urlencoded bodies of PUT/DELETE/PATCH.
  if (media == "multipart/form-data" && request.method != "POST") return;
  FormResult form = parse_form_body(content_type, request.body);
  if (!form.ok()) {
    error_ = form.error;
    return;
  }
  form_ = std::move(form.params);
}

std::optional<std::string> Inputs::get(std::string_view name) const {
  if (auto v = query_.get(name)) return std::string(*v);
  if (query_.is_array(name)) return std::nullopt;
  if (auto v = form_.get(name)) return std::string(*v);
  if (form_.is_array(name)) return std::nullopt;
  if (auto field = json::find_field(json_fields_, name)) return *field;
  return std::nullopt;
}

std::optional<std::string> Inputs::array_field(
    std::initializer_list<std::string_view> names) const {
  for (std::string_view name : names) {
    if (query_.get(name)) continue;
    if (query_.is_array(name)) return std::string(name);
    if (form_.get(name)) continue;
    if (form_.is_array(name)) return std::string(name);
    if (auto field = json::find_field(json_fields_, name); field && !*field) {
      return std::string(name);
    }
  }
  return std::nullopt;
}

std::optional<std::string> bearer_token(const Request& request) {
  // The raw field value: Request::header() trims trailing whitespace, which the regex forbids.
  for (const auto& h : request.headers) {
    if (iequals(h.name, "Authorization")) return v1::parse_bearer(h.value);
  }
  return std::nullopt;
}

std::optional<CommandId> command_id(Api& api, const Request& request,
                                    const std::optional<std::string>& bearer) {
  auto key = request.header("Idempotency-Key");
  if (!key) return CommandId{api.options().new_command_id(), false, {}};
  if (key->empty() || key->size() > 200) return std::nullopt;
  for (char c : *key) {
    if (c < 0x21 || c > 0x7e) return std::nullopt;
  }
  // Hashed, so neither the credential nor the caller's key ends up in events and logs.
  const std::string_view credential = bearer ? std::string_view(*bearer) : "";
  std::string scope;
  scope.reserve(request.method.size() + request.path.size() + credential.size() + 3);
  scope.append(request.method).append(1, ' ').append(request.path).append(1, '\n');
  scope.append(credential).append(1, '\n');
  std::string scoped_key;
  scoped_key.reserve(scope.size() + key->size());
  scoped_key.append(scope).append(*key);
  std::string id = "idem:";
  id += api.service().hash_key(std::move(scoped_key)).value_or("");
  return CommandId{std::move(id), true, std::move(scope)};
}

Response json(const v1::Reply& reply) { return json(reply.status, reply.body); }

namespace {

Response json_head(int status) {
  Response r;
  r.status = status;
  r.headers.reserve(2);
  r.headers.push_back(Header{"Content-Type", "application/json"});
  // What Symfony adds to every response: API answers are per caller and must not be cached.
  r.headers.push_back(Header{"Cache-Control", "no-cache, private"});
  return r;
}

}  // namespace

Response json(int status, std::string body) {
  Response r = json_head(status);
  r.body = std::move(body);
  return r;
}

Response json(int status, std::shared_ptr<const std::string> body) {
  Response r = json_head(status);
  r.shared_body = std::move(body);
  return r;
}

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

}  // namespace roombus::http::detail
