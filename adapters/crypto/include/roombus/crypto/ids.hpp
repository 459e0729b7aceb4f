// The IdSource port and random tokens on OpenSSL's cryptographically secure generator.
#pragma once

#include <cstddef>
#include <string>

#include "roombus/core/ports.hpp"

namespace roombus::crypto {

// Every call draws fresh bytes with RAND_bytes; throws std::runtime_error if the generator
// fails (it cannot be seeded), because an id must never be guessable.
class OpenSslIdSource final : public core::IdSource {
 public:
  // 16 random bytes as 32 lowercase hex characters.
  std::string room_uid() override;
  // 16 random bytes as 26 characters of lowercase RFC 4648 base32 ([a-z2-7]), no padding.
  std::string jitsi_name() override;
  // random_token(32): 43 characters.
  std::string api_key() override;
};

// `bytes` random bytes as unpadded base64url ([A-Za-z0-9_-]): safe in URLs, headers and files.
std::string random_token(std::size_t bytes);

}  // namespace roombus::crypto
