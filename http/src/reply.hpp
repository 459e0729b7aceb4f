// Responses as bytes on the wire: the head the server writes, and its canned error responses.
#pragma once

#include <string>
#include <string_view>

#include "roombus/http/request.hpp"

namespace roombus::http::detail {

// The reason phrase as a plain-text body: what the server answers by itself (400, 408, 503, ...).
Response error_response(int status);

// Why `res` cannot be sent (its status or a field would break framing), or an empty view.
std::string_view invalid_response_reason(const Response& res);

// The handler asked for the connection to close after this response.
bool wants_close(const Response& res);

// The status line and fields of `res` into `head`, which is cleared first (and reused by the
// caller for its capacity). Content-Length, Date and Connection are the server's own: a
// handler's framing fields are dropped. The body is not copied; the caller writes it after.
void serialize_head(const Response& res, bool keep_alive, int request_minor, std::string& head);

// Whether a response with `status` carries a body (not 204, not 304).
constexpr bool has_body(int status) { return status != 204 && status != 304; }

}  // namespace roombus::http::detail
