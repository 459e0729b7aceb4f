// Sha256KeyHasher, sha256_hex and constant_time_equal on OpenSSL's EVP and CRYPTO_memcmp.
#include "roombus/crypto/hashing.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <stdexcept>

#include "encoding.hpp"

namespace roombus::crypto {

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("EVP_Digest(SHA-256) failed");
  }
  return detail::to_hex(std::span<const unsigned char>(digest.data(), length));
}

std::string Sha256KeyHasher::hash(std::string_view key) const { return sha256_hex(key); }

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace roombus::crypto
