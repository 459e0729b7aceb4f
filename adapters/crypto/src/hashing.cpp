// Sha256KeyHasher, sha256_hex and constant_time_equal on OpenSSL's EVP and CRYPTO_memcmp.
#include "roombus/crypto/hashing.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <functional>
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

// Every v1 request hashes its bearer key, and a deployment's requests carry a handful of keys:
// hashing each again was ~5% of a getRooms (digest and hex). The hash is a pure function of
// the key, so a remembered one is never stale (a rotated key simply stops being asked for).
// Per thread, so no lock; direct-mapped, so a colliding key only costs a fresh digest.
std::string Sha256KeyHasher::hash(std::string_view key) const {
  struct Entry {
    std::string key;
    std::string hash;
  };
  static constexpr std::size_t kEntries = 64;
  // The keys roombus hands out are 43 characters. The service also hashes idempotency scopes
  // and request fingerprints through this port: texts over 64 bytes, each seen about once,
  // which would only evict keys from the memo.
  static constexpr std::size_t kMaxKeyBytes = 64;
  if (key.size() > kMaxKeyBytes) return sha256_hex(key);
  thread_local std::array<Entry, kEntries> memo;
  Entry& slot = memo[std::hash<std::string_view>{}(key) % kEntries];
  // Timing-safe: how long the comparison takes must not tell how much of a key was right.
  if (!slot.hash.empty() && constant_time_equal(slot.key, key)) return slot.hash;
  std::string hashed = sha256_hex(key);
  // The slot is invalid (empty hash) until both parts are in: an allocation failing half-way
  // leaves no key paired with another key's hash.
  slot.hash.clear();
  slot.key.assign(key);
  slot.hash = hashed;
  return hashed;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace roombus::crypto
