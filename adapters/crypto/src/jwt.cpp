// sign_jwt_hs256 on libjwt (Debian's libjwt-dev): no hand-written JWS.
#include "roombus/crypto/jwt.hpp"

#include <jwt.h>

#include <climits>
#include <cstdlib>
#include <memory>
#include <stdexcept>

namespace roombus::crypto {
namespace {

struct JwtDeleter {
  void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};
// libjwt 1.10 allocates with malloc unless told otherwise (jwt_set_alloc, which we do not use).
struct StringDeleter {
  void operator()(char* s) const { std::free(s); }
};

}  // namespace

std::string sign_jwt_hs256(std::string_view claims_json, std::string_view secret) {
  if (secret.empty() || secret.size() > INT_MAX) {
    throw std::invalid_argument("an HS256 JWT needs a non-empty secret");
  }
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) throw std::runtime_error("jwt_new failed");
  std::unique_ptr<jwt_t, JwtDeleter> jwt(raw);
  // libjwt reads C strings: a NUL inside the claims would silently cut them short.
  std::string claims(claims_json);
  if (claims.find('\0') != std::string::npos || claims.empty() || claims.front() != '{' ||
      jwt_add_grants_json(jwt.get(), claims.c_str()) != 0) {
    throw std::invalid_argument("JWT claims must be a JSON object");
  }
  if (jwt_set_alg(jwt.get(), JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret.data()),
                  static_cast<int>(secret.size())) != 0) {
    throw std::runtime_error("jwt_set_alg(HS256) failed");
  }
  std::unique_ptr<char, StringDeleter> encoded(jwt_encode_str(jwt.get()));
  if (encoded == nullptr) throw std::runtime_error("jwt_encode_str failed");
  return std::string(encoded.get());
}

}  // namespace roombus::crypto
