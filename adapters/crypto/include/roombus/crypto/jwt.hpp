// Signed JSON Web Tokens (RFC 7519) on libjwt: what Jitsi's token authentication verifies.
#pragma once

#include <string>
#include <string_view>

namespace roombus::crypto {

// A compact JWS of `claims_json` (a JSON object) with the header {"alg":"HS256","typ":"JWT"},
// signed with HMAC-SHA256 under the bytes of `secret`. Throws std::invalid_argument for an empty
// secret or claims that are not a JSON object, std::runtime_error if libjwt fails.
std::string sign_jwt_hs256(std::string_view claims_json, std::string_view secret);

}  // namespace roombus::crypto
