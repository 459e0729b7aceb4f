// The IdSource port and random tokens on OpenSSL's cryptographically secure generator.
#pragma once

#include <array>
#include <cstddef>
#include <span>
#include <string>

#include "roombus/core/ports.hpp"

namespace roombus::crypto {

// Ids come from RAND_bytes, drawn 4 KiB at a time (one DRBG call per ~128 rooms instead of two
// per room) and never reused; throws std::runtime_error if the generator fails (it cannot be
// seeded), because an id must never be guessable. Not thread-safe: one per thread.
class OpenSslIdSource final : public core::IdSource {
 public:
  // 16 random bytes as 32 lowercase hex characters.
  std::string room_uid() override;
  // 16 random bytes as 26 characters of lowercase RFC 4648 base32 ([a-z2-7]), no padding.
  std::string jitsi_name() override;
  // random_token(32): 43 characters.
  std::string api_key() override;

 private:
  // Fills `out` from the pool, refilling it from RAND_bytes when it runs dry; used bytes are
  // wiped so that no id can be read back from memory later.
  void take(std::span<unsigned char> out);

  std::array<unsigned char, 4096> pool_{};
  std::size_t next_ = pool_.size();
};

// `bytes` random bytes as unpadded base64url ([A-Za-z0-9_-]): safe in URLs, headers and files.
std::string random_token(std::size_t bytes);

}  // namespace roombus::crypto
