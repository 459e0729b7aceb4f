// Unit tests of the crypto adapter: id formats, randomness sanity, SHA-256 vectors, comparison.
#include <algorithm>
#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

#include "roombus/crypto/hashing.hpp"
#include "roombus/crypto/ids.hpp"

namespace {

bool only(const std::string& s, std::string_view alphabet) {
  return std::all_of(s.begin(), s.end(),
                     [&](char c) { return alphabet.find(c) != std::string_view::npos; });
}

constexpr std::string_view kLowerHex = "0123456789abcdef";
constexpr std::string_view kLowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789";
constexpr std::string_view kBase64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr int kDraws = 2000;

}  // namespace

TEST_CASE("Room uids are 32 lowercase hex characters and never repeat", "[crypto]") {
  roombus::crypto::OpenSslIdSource ids;
  std::set<std::string> seen;
  for (int i = 0; i < kDraws; ++i) {
    const std::string uid = ids.room_uid();
    REQUIRE(uid.size() == 32);
    REQUIRE(only(uid, kLowerHex));
    seen.insert(uid);
  }
  CHECK(seen.size() == kDraws);
}

TEST_CASE("Jitsi names are 26 lowercase letters and digits and never repeat", "[crypto]") {
  roombus::crypto::OpenSslIdSource ids;
  std::set<std::string> seen;
  bool saw_letter_past_f = false;
  for (int i = 0; i < kDraws; ++i) {
    const std::string name = ids.jitsi_name();
    REQUIRE(name.size() == 26);  // 26 * 5 bits >= 128 bits
    REQUIRE(only(name, kLowerAlnum));
    saw_letter_past_f =
        saw_letter_past_f || name.find_first_of("ghijklmnopqrstuvwxyz") != std::string::npos;
    seen.insert(name);
  }
  CHECK(seen.size() == kDraws);
  CHECK(saw_letter_past_f);  // the whole base32 alphabet is used, not just hex
}

TEST_CASE("API keys are 43 URL-safe characters without padding and never repeat", "[crypto]") {
  roombus::crypto::OpenSslIdSource ids;
  std::set<std::string> seen;
  for (int i = 0; i < kDraws; ++i) {
    const std::string key = ids.api_key();
    REQUIRE(key.size() == 43);  // 32 bytes = 256 bits
    REQUIRE(only(key, kBase64Url));
    seen.insert(key);
  }
  CHECK(seen.size() == kDraws);
}

TEST_CASE("Random tokens have the unpadded base64url length of their byte count", "[crypto]") {
  CHECK(roombus::crypto::random_token(0).empty());
  CHECK(roombus::crypto::random_token(1).size() == 2);
  CHECK(roombus::crypto::random_token(2).size() == 3);
  CHECK(roombus::crypto::random_token(3).size() == 4);
  CHECK(roombus::crypto::random_token(16).size() == 22);
  const std::string token = roombus::crypto::random_token(300);
  CHECK(token.size() == 400);
  CHECK(only(token, kBase64Url));
}

TEST_CASE("SHA-256 matches the FIPS 180-2 test vectors", "[crypto]") {
  CHECK(roombus::crypto::sha256_hex("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(roombus::crypto::sha256_hex("") ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(roombus::crypto::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST_CASE("The key hasher is deterministic SHA-256 hex", "[crypto]") {
  const roombus::crypto::Sha256KeyHasher hasher;
  CHECK(hasher.hash("abc") == roombus::crypto::sha256_hex("abc"));
  CHECK(hasher.hash("key-1") == hasher.hash("key-1"));
  CHECK(hasher.hash("key-1") != hasher.hash("key-2"));
}

TEST_CASE("The key hasher's remembered hashes are the digests of their own keys", "[crypto]") {
  // Far more keys than the per-thread memo has slots, each asked three times in an interleaved
  // order, so keys evict each other's slots; every answer must still be its own key's digest.
  const roombus::crypto::Sha256KeyHasher hasher;
  std::vector<std::string> keys;
  for (int i = 0; i < 500; ++i) keys.push_back("key-" + std::to_string(i * 7919));
  keys.push_back("");
  keys.push_back(std::string(65, 'k'));  // longer than any remembered key
  for (int round = 0; round < 3; ++round) {
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const std::string& key = keys[(i * 31 + static_cast<std::size_t>(round)) % keys.size()];
      REQUIRE(hasher.hash(key) == roombus::crypto::sha256_hex(key));
    }
  }
  // A key differing from a remembered one in its last byte is not taken for it.
  const std::string hash = hasher.hash("bearer-key-a");
  CHECK(hasher.hash("bearer-key-b") != hash);
  CHECK(hasher.hash("bearer-key-a") == hash);
}

TEST_CASE("Constant-time comparison is plain equality of length and bytes", "[crypto]") {
  using roombus::crypto::constant_time_equal;
  CHECK(constant_time_equal("", ""));
  CHECK(constant_time_equal("secret", "secret"));
  CHECK_FALSE(constant_time_equal("secret", "secreT"));
  CHECK_FALSE(constant_time_equal("Secret", "secret"));
  CHECK_FALSE(constant_time_equal("secret", "secrets"));
  CHECK_FALSE(constant_time_equal("", "x"));
  CHECK(constant_time_equal(std::string_view("a\0b", 3), std::string_view("a\0b", 3)));
  CHECK_FALSE(constant_time_equal(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
}
