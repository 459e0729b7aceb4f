// Unit tests of join-link tokens and HS256 JWTs: formats, round trips, forgery and tampering.
#include "roombus/crypto/join_links.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <set>
#include <string>

#include "roombus/crypto/ids.hpp"
#include "roombus/crypto/jwt.hpp"

namespace {

using roombus::crypto::JoinLinkCipher;

JoinLinkCipher cipher_for(const std::string& key_text) {
  auto key = roombus::crypto::parse_join_key(key_text);
  REQUIRE(key);
  return JoinLinkCipher(*key);
}

}  // namespace

TEST_CASE("A join key is 43 base64url characters and only that parses", "[crypto][join]") {
  const std::string key = roombus::crypto::generate_join_key();
  CHECK(key.size() == 43);
  CHECK(roombus::crypto::parse_join_key(key));
  CHECK(roombus::crypto::generate_join_key() != key);
  CHECK_FALSE(roombus::crypto::parse_join_key(""));
  CHECK_FALSE(roombus::crypto::parse_join_key(key.substr(0, 42)));
  CHECK_FALSE(roombus::crypto::parse_join_key(key + "A"));
  CHECK_FALSE(roombus::crypto::parse_join_key(" " + key.substr(1)));
  CHECK_FALSE(roombus::crypto::parse_join_key(key.substr(0, 42) + "="));
  // The last character carries 4 unused bits: only the spelling with them zero is the key.
  std::string other_spelling = key;
  other_spelling.back() = other_spelling.back() == 'A' ? 'B' : 'A';
  auto a = roombus::crypto::parse_join_key(key);
  auto b = roombus::crypto::parse_join_key(other_spelling);
  CHECK((!b || *a != *b));
}

TEST_CASE("Shared-link tokens are 22 characters, reversible only with their key",
          "[crypto][join]") {
  JoinLinkCipher cipher = cipher_for(roombus::crypto::generate_join_key());
  JoinLinkCipher other = cipher_for(roombus::crypto::generate_join_key());
  roombus::crypto::OpenSslIdSource ids;
  std::set<std::string> tokens;
  for (int i = 0; i < 500; ++i) {
    const std::string uid = ids.room_uid();
    const std::string token = cipher.seal_uid(uid);
    REQUIRE(token.size() == JoinLinkCipher::kUidTokenLength);
    CHECK(cipher.seal_uid(uid) == token);  // stable: links in calendars keep working
    CHECK(cipher.open_uid(token) == uid);
    CHECK(other.open_uid(token) != uid);
    CHECK(token.find(uid.substr(0, 8)) == std::string::npos);
    tokens.insert(token);
  }
  CHECK(tokens.size() == 500);
}

TEST_CASE("Only uids of 32 hex digits get a shared token, and upper case gives the same one",
          "[crypto][join]") {
  JoinLinkCipher cipher = cipher_for(roombus::crypto::generate_join_key());
  const std::string uid = "0123456789abcdef0123456789abcdef";
  CHECK(cipher.seal_uid("0123456789ABCDEF0123456789ABCDEF") == cipher.seal_uid(uid));
  CHECK(cipher.seal_uid("") == "");
  CHECK(cipher.seal_uid(uid.substr(1)) == "");
  CHECK(cipher.seal_uid("0123456789abcdef0123456789abcdeg") == "");
  CHECK_FALSE(cipher.open_uid(""));
  CHECK_FALSE(cipher.open_uid("1"));
  CHECK_FALSE(cipher.open_uid(std::string(22, '=')));
  CHECK_FALSE(cipher.open_uid(cipher.seal_uid(uid) + "A"));
}

TEST_CASE("Sealed payloads open with their key only and detect every change", "[crypto][join]") {
  JoinLinkCipher cipher = cipher_for(roombus::crypto::generate_join_key());
  JoinLinkCipher other = cipher_for(roombus::crypto::generate_join_key());
  const std::string payload = "m|7|0123456789abcdef0123456789abcdef|anna@example.com";
  const std::string token = cipher.seal(payload);
  CHECK(token.size() > JoinLinkCipher::kUidTokenLength);
  CHECK(token.find("anna") == std::string::npos);
  CHECK(cipher.open(token) == payload);
  CHECK(cipher.seal(payload) != token);  // a fresh nonce each time
  CHECK(cipher.open(cipher.seal(payload)) == payload);
  CHECK_FALSE(other.open(token));
  CHECK_FALSE(cipher.open(token.substr(0, token.size() - 1)));
  CHECK_FALSE(cipher.open(token + "AA"));
  for (std::size_t i = 0; i < token.size(); i += 7) {
    std::string changed = token;
    changed[i] = changed[i] == 'A' ? 'B' : 'A';
    CHECK_FALSE(cipher.open(changed));
  }
  CHECK(cipher.open(cipher.seal("")) == "");
}

TEST_CASE("HS256 JWTs carry the claims and refuse what cannot be signed", "[crypto][jwt]") {
  const std::string jwt = roombus::crypto::sign_jwt_hs256("{\"iss\":\"app\",\"n\":1}", "secret");
  CHECK(std::count(jwt.begin(), jwt.end(), '.') == 2);
  // {"alg":"HS256","typ":"JWT"} in either member order starts with "eyJ".
  CHECK(jwt.rfind("eyJ", 0) == 0);
  CHECK(roombus::crypto::sign_jwt_hs256("{\"iss\":\"app\",\"n\":1}", "other") != jwt);
  CHECK_THROWS_AS(roombus::crypto::sign_jwt_hs256("{}", ""), std::invalid_argument);
  CHECK_THROWS_AS(roombus::crypto::sign_jwt_hs256("[1]", "s"), std::invalid_argument);
  CHECK_THROWS_AS(roombus::crypto::sign_jwt_hs256("{\"a\":", "s"), std::invalid_argument);
}
