// The Kafka command record: what is a command, and why anything else is a dead letter.
#include "roombus/consumers/command_record.hpp"

#include <catch2/catch.hpp>

using namespace roombus;
using consumers::decode_command;
using consumers::Refusal;

namespace {

const std::vector<kafka::Header> kAuth = {{"authorization", "Bearer key-123"}};

Refusal refusal_of(std::string_view value, const std::vector<kafka::Header>& headers = kAuth) {
  auto d = decode_command(value, headers);
  REQUIRE_FALSE(d.record);
  return d.refusal;
}

}  // namespace

TEST_CASE("a command record gives its id, type, data as v1 parameters and the key", "[consumers]") {
  auto d = decode_command(
      R"({"id":"c-1","type":"room.create","data":{"server":"meet.example.com","email":"a@x.de",)"
      R"("duration":30,"start":"2030-01-07T09:00","flag":true,"nothing":null,"list":[1]}})",
      kAuth);
  REQUIRE(d.record);
  CHECK(d.record->id == "c-1");
  CHECK(d.record->type == "room.create");
  CHECK(d.record->key == "key-123");
  // Numbers as JSON numbers or as strings mean the same; null is "not given"; an array is
  // "given, but not a single value" (refused by name when the command runs, as over HTTP).
  CHECK(json::find_field(d.record->data, "duration") == std::optional<std::string>("30"));
  CHECK(json::find_field(d.record->data, "flag") == std::optional<std::string>("1"));
  CHECK_FALSE(json::find_field(d.record->data, "nothing"));
  auto list = json::find_field(d.record->data, "list");
  REQUIRE(list);
  CHECK_FALSE(*list);
}

TEST_CASE("the authorization header takes jitsi-admin's two forms, in any case of its name",
          "[consumers]") {
  const std::string value = R"({"id":"c","type":"room.delete","data":{"uid":"x"}})";
  CHECK(decode_command(value, {{"Authorization", "Bearer:abc"}}).record->key == "abc");
  CHECK(decode_command(value, {{"AUTHORIZATION", "Bearer abc"}}).record->key == "abc");
  CHECK(refusal_of(value, {}) == Refusal::missing_key);
  CHECK(refusal_of(value, {{"authorization", "bearer abc"}}) == Refusal::missing_key);
  CHECK(refusal_of(value, {{"authorization", "Bearer  abc"}}) == Refusal::missing_key);
  CHECK(refusal_of(value, {{"authorization", "Bearer "}}) == Refusal::missing_key);
  CHECK(refusal_of(value, {{"authorization", "Bearer a"}, {"authorization", "Bearer b"}}) ==
        Refusal::missing_key);
}

TEST_CASE("anything but a command record is refused with its reason", "[consumers]") {
  CHECK(refusal_of("") == Refusal::undecodable);
  CHECK(refusal_of("garbage") == Refusal::undecodable);
  CHECK(refusal_of("[1,2]") == Refusal::undecodable);
  CHECK(refusal_of(std::string("\xff\xfe{", 3)) == Refusal::undecodable);
  CHECK(refusal_of(R"({"id":1,"type":"room.create","data":{}})") == Refusal::undecodable);
  CHECK(refusal_of(R"({"id":"c","type":"room.create","data":{},"extra":1})") ==
        Refusal::undecodable);
  CHECK(refusal_of(R"({"type":"room.create","data":{}})") == Refusal::bad_id);
  CHECK(refusal_of(R"({"id":"","type":"room.create","data":{}})") == Refusal::bad_id);
  CHECK(refusal_of(R"({"id":"has space","type":"room.create","data":{}})") == Refusal::bad_id);
  CHECK(refusal_of(R"({"id":")" + std::string(201, 'a') + R"(","type":"room.create","data":{}})") ==
        Refusal::bad_id);
  CHECK(refusal_of(R"({"id":"c","type":"room.explode","data":{}})") == Refusal::unknown_type);
  CHECK(refusal_of(R"({"id":"c","data":{}})") == Refusal::unknown_type);
  CHECK(refusal_of(R"({"id":"c","type":"room.create"})") == Refusal::bad_data);
  CHECK(refusal_of(R"({"id":"c","type":"room.create","data":"uid=x"})") == Refusal::bad_data);
  // Deep nesting is parsed without recursion, then refused like any other bad value.
  CHECK(refusal_of(std::string(100000, '[')) == Refusal::undecodable);
}

TEST_CASE("every v1 write has its command type", "[consumers]") {
  for (std::string_view type :
       {"room.create", "room.update", "room.delete", "room.move", "room.participant.add",
        "room.participant.remove", "server.clone"}) {
    const std::string value = R"({"id":"c","type":")" + std::string(type) + R"(","data":{}})";
    CHECK(decode_command(value, kAuth).record);
  }
  CHECK(consumers::to_string(Refusal::wrong_key) == "wrong-key");
  CHECK(consumers::to_string(Refusal::missing_key) == "missing-key");
}
