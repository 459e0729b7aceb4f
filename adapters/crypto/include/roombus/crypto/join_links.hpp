// Join-link tokens on OpenSSL: a keyed permutation of room uids and sealed personal-link payloads.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace roombus::crypto {

// A deployment's join key: 32 random bytes, written as 43 characters of unpadded base64url.
// Join links sit in calendars for months, so the key must outlive restarts and be shared by
// every instance that answers the same links.
inline constexpr std::size_t kJoinKeyBytes = 32;
using JoinKey = std::array<unsigned char, kJoinKeyBytes>;

// A fresh key from OpenSSL's CSPRNG, as text; throws std::runtime_error if the generator fails.
std::string generate_join_key();
// The key a text names; nullopt unless it is exactly 43 base64url characters (32 bytes).
std::optional<JoinKey> parse_join_key(std::string_view text);

// Turns room uids into shared-link tokens and back, and seals personal-link payloads, without
// remembering anything per room: a token is reversible only with the key.
//
// Two subkeys are derived from the join key with HKDF-SHA256 (one per use, so no key serves
// two modes):
// - shared links: AES-128 applied to the 16 bytes of the uid, one block, no mode: a
//   pseudo-random permutation of 128-bit values. The token (22 base64url characters) reveals
//   nothing about the uid and cannot be forged without the key; decrypting it gives the uid back.
// - personal links: AES-256-GCM with a random 96-bit nonce over an opaque payload: the token is
//   unreadable and any change to it is detected.
//
// Not thread-safe (it keeps OpenSSL contexts): one per thread; roombus uses it on the io thread.
// Throws std::runtime_error from the constructor if OpenSSL cannot set up the ciphers.
class JoinLinkCipher {
 public:
  explicit JoinLinkCipher(const JoinKey& key);
  ~JoinLinkCipher();
  JoinLinkCipher(const JoinLinkCipher&) = delete;
  JoinLinkCipher& operator=(const JoinLinkCipher&) = delete;

  // The token of a uid of 32 hex characters (either case); "" for anything else.
  std::string seal_uid(std::string_view uid) const;
  // The uid (32 lowercase hex characters) of a token seal_uid made; nullopt for any other text.
  std::optional<std::string> open_uid(std::string_view token) const;

  // Base64url of nonce || ciphertext || tag; a fresh nonce each call, so sealing the same
  // payload twice gives two different tokens that both open. Throws if encryption fails.
  std::string seal(std::string_view payload) const;
  // The payload of a token seal made with this key; nullopt for a token that was altered,
  // truncated, made with another key, or is not base64url.
  std::optional<std::string> open(std::string_view token) const;

  // Length of the tokens seal_uid makes; seal's tokens are always longer.
  static constexpr std::size_t kUidTokenLength = 22;

 private:
  struct Contexts;
  std::unique_ptr<Contexts> contexts_;
  std::array<unsigned char, 32> personal_key_{};
};

}  // namespace roombus::crypto
