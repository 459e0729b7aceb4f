// Sha256KeyHasher, sha256_hex and constant_time_equal on OpenSSL's EVP and CRYPTO_memcmp.
#include "roombus/crypto/hashing.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <memory>
#include <stdexcept>

#include "encoding.hpp"

namespace roombus::crypto {

namespace {

// OpenSSL 3's EVP_sha256() is only a name: every EVP_Digest() with it fetches the
// implementation again from the provider store, under a lock (about 2 µs per call here, a few
// per cent of a request). Fetching once and reusing a context per thread avoids both.
const EVP_MD* sha256_md() {
  static const EVP_MD* const md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (fetched == nullptr) throw std::runtime_error("OpenSSL has no SHA-256 implementation");
    return fetched;  // lives as long as the process
  }();
  return md;
}

struct ContextDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

EVP_MD_CTX* thread_context() {
  // Out of memory at the first use leaves this thread without a context for good: every hash on
  // it then throws, which the request path answers with 500s rather than crashing.
  thread_local const std::unique_ptr<EVP_MD_CTX, ContextDeleter> ctx(EVP_MD_CTX_new());
  if (ctx == nullptr) throw std::runtime_error("EVP_MD_CTX_new failed");
  return ctx.get();
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_MD_CTX* ctx = thread_context();
  if (EVP_DigestInit_ex(ctx, sha256_md(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx, data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx, digest.data(), &length) != 1) {
    throw std::runtime_error("SHA-256 digest failed");
  }
  return detail::to_hex(std::span<const unsigned char>(digest.data(), length));
}

std::string Sha256KeyHasher::hash(std::string_view key) const { return sha256_hex(key); }

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace roombus::crypto
