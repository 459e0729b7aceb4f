// HTTP message types exchanged between the server and the request handlers.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roombus::http {

struct Header {
  std::string name;
  std::string value;
};

// In wire order; repeated fields stay separate entries (no comma merging).
using Headers = std::vector<Header>;

// ASCII case-insensitive comparison, as HTTP field names require.
bool iequals(std::string_view a, std::string_view b) noexcept;

// One parsed request. Owned by the connection; a handler may read or move from it until its
// awaitable completes.
struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // request-target exactly as sent
  std::string path;    // percent-decoded path of the target ('+' stays '+')
  std::string query;   // raw query string, without '?'; empty when absent
  Headers headers;
  std::string body;  // de-chunked
  int version_minor = 1;
  bool keep_alive = true;  // what the client asked for (HTTP/1.1 default, HTTP/1.0 opt-in)
  std::string remote;      // peer "ip:port" ("[v6]:port" for IPv6)

  // First field with that name (case-insensitive), trailing whitespace removed.
  std::optional<std::string_view> header(std::string_view name) const;
  std::vector<std::string_view> header_values(std::string_view name) const;
};

// Reason phrase for a status code ("" when unknown, which HTTP/1.1 allows).
std::string_view reason_phrase(int status) noexcept;

struct Response {
  int status = 200;
  // The server writes Date, Content-Length and Connection itself and drops handler values for
  // Content-Length, Transfer-Encoding and Date; `Connection: close` from a handler is honoured.
  Headers headers;
  std::string body;
  // When set, the body sent instead of `body`: an answer kept by a cache goes out without a copy
  // (a getRooms answer is ~2 KB, and copying it showed in profiles). Immutable once shared.
  std::shared_ptr<const std::string> shared_body;

  // The bytes to send: the shared body when there is one, else `body`.
  std::string_view content() const noexcept {
    return shared_body ? std::string_view(*shared_body) : std::string_view(body);
  }
  std::optional<std::string_view> header(std::string_view name) const;
  // Replaces every field with that name by one field.
  Response& set_header(std::string_view name, std::string value);

  // A response with a body and a Content-Type.
  static Response text(int status, std::string body,
                       std::string content_type = "text/plain; charset=utf-8");
};

}  // namespace roombus::http
