// The v1 reply shapes, literal texts and typos included, and core errors mapped onto them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "roombus/core/result.hpp"

namespace roombus::v1 {

// A v1 answer: the HTTP status jitsi-admin used and the JSON body (PHP-style escaping).
struct Reply {
  int status = 200;
  std::string body;
  bool ok = false;  // a success ("error":false), as opposed to a rejection
};

// {"error":true,"text":"..."}: the error shape of the room and user endpoints (HTTP 200).
Reply error(std::string_view text);
// A defined error where jitsi-admin crashed with a 500: the same shape plus what was wrong.
Reply defined_error(std::string_view text, std::string_view detail, int status = 200);
// A parameter sent as an array (`a[]=`) or an object where one value is needed.
Reply array_error(std::string_view name);
// Defined answers for input and infrastructure errors (invalid start/duration/minutes/argument,
// conflict, server not available, the log failed: 503, a reused Idempotency-Key: 422).
std::optional<Reply> input_error(const core::Error& e);
// Errors v1 answers with "No Server found": no key, a wrong key, an unknown server, not a member.
bool is_auth_error(core::Errc code);

}  // namespace roombus::v1
