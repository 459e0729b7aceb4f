// Unit tests of the outcome codec: remembered command outcomes, in today's form and the older one.
#include "roombus/json/outcome_codec.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <string>

namespace {

using roombus::core::Errc;
using roombus::core::Instant;
using roombus::core::Outcome;
using roombus::json::decode_outcome;
using roombus::json::encode_outcome;

const Instant kAt{std::chrono::seconds{1612267200}};  // 2021-02-02T12:00:00Z

}  // namespace

TEST_CASE("outcomes round-trip with their fingerprint and time", "[json][outcome]") {
  Outcome success;
  success.command_id = "idem:abc";
  success.reply.room_uid = "00000000000000000000000000000001";
  success.reply.server_id = 7;
  success.reply.api_key = "never-written";
  success.fingerprint = "f00d";
  success.at = kAt;
  const std::string json = encode_outcome(success);
  CHECK(json == R"({"reply":{"room_uid":"00000000000000000000000000000001","server_id":7},)"
                R"("fingerprint":"f00d","at":1612267200})");
  auto back = decode_outcome("idem:abc", json);
  REQUIRE(back.ok());
  CHECK(back->command_id == "idem:abc");
  CHECK(back->reply.room_uid == success.reply.room_uid);
  CHECK(back->reply.server_id == 7);
  CHECK_FALSE(back->reply.api_key);
  CHECK(back->fingerprint == "f00d");
  CHECK(back->at == kAt);

  Outcome rejection;
  rejection.error = roombus::core::make_error(Errc::invalid_duration, "duration \"x\"");
  rejection.at = kAt;
  auto rejected = decode_outcome("c", encode_outcome(rejection));
  REQUIRE(rejected.ok());
  REQUIRE(rejected->error);
  CHECK(rejected->error->code == Errc::invalid_duration);
  CHECK(rejected->error->text == "duration \"x\"");
  CHECK(rejected->fingerprint.empty());
  CHECK(rejected->at == kAt);
}

TEST_CASE("outcomes written before fingerprints and times still decode", "[json][outcome]") {
  // Exactly what the previous version wrote into the commands table.
  auto reply = decode_outcome("c1", R"({"reply":{"room_uid":"ab","server_id":null}})");
  REQUIRE(reply.ok());
  CHECK(reply->reply.room_uid == "ab");
  CHECK_FALSE(reply->reply.server_id);
  CHECK(reply->fingerprint.empty());
  CHECK_FALSE(reply->at);
  auto error = decode_outcome("c2", R"({"error":{"code":"room_not_found","text":"t"}})");
  REQUIRE(error.ok());
  CHECK(error->error->code == Errc::room_not_found);
  CHECK_FALSE(error->at);
}

TEST_CASE("malformed outcomes are refused", "[json][outcome]") {
  for (const char* json : {
           R"({"reply":{"room_uid":"ab","server_id":null},"at":"yesterday"})",
           R"({"reply":{"room_uid":"ab","server_id":null},"fingerprint":7})",
           R"({"reply":{"room_uid":"ab","server_id":null},"fingerprint":""})",
           R"({"reply":{"room_uid":"ab","server_id":null},"api_key":"k"})",
           R"({"at":1})",
           R"([])",
       }) {
    INFO(json);
    auto r = decode_outcome("c", json);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == Errc::invalid_argument);
  }
}
