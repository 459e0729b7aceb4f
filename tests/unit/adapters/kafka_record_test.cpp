// The Kafka forms: CloudEvents records of events, settings and their validation (no broker).
#include <catch2/catch.hpp>
#include <stdexcept>

#include "roombus/json/event_codec.hpp"
#include "roombus/kafka/cloud_event.hpp"
#include "roombus/kafka/producer.hpp"
#include "roombus/kafka/settings.hpp"
#include "support/core_fakes.hpp"

using namespace roombus;

namespace {

const kafka::RecordContext kContext{"roombus.", "0123456789abcdef0123456789abcdef"};

}  // namespace

TEST_CASE("a room event is a CloudEvents record on room-events keyed by the room's uid",
          "[kafka]") {
  testing::World world;
  auto server = world.register_server("meet.example.com", {"alice@example.com"});
  std::string uid = world.create_room(server.key, "meet.example.com", "alice@example.com");
  const core::Event& created = world.log.appended.back();
  kafka::Record r = kafka::to_record(created, kContext);
  CHECK(r.topic == "roombus.room-events");
  CHECK(r.key == uid);
  CHECK(r.value == json::encode_public_event(created));
  CHECK(r.value.find("app_secret") == std::string::npos);
  std::vector<kafka::Header> expected = {
      {"ce_specversion", "1.0"},
      {"ce_id", "0123456789abcdef0123456789abcdef-2"},
      {"ce_source", "/roombus/0123456789abcdef0123456789abcdef"},
      {"ce_type", "roombus.room.created.v1"},
      {"ce_time", "2021-02-02T12:00:00Z"},
      {"ce_subject", "room:" + uid},
      {"content-type", "application/json"},
  };
  CHECK(r.headers == expected);
}

TEST_CASE("a server event goes to server-events keyed by the server's id, without secrets",
          "[kafka]") {
  testing::World world;
  world.register_server("meet.example.com", {"alice@example.com"});
  const core::Event& registered = world.log.appended.back();
  kafka::RecordContext context{"acme.", "feed"};
  kafka::Record r = kafka::to_record(registered, context);
  CHECK(r.topic == "acme.server-events");
  CHECK(r.key == "1");
  CHECK(r.value.find("\"app_secret\"") == std::string::npos);
  CHECK(r.value.find("\"api_key_hash\"") == std::string::npos);
  CHECK(kafka::cloud_event_type(registered) == "roombus.server.registered.v1");
  CHECK(r.headers[1] == kafka::Header{"ce_id", "feed-1"});
}

TEST_CASE("a lifecycle event is a room record of its own type, with due and late_seconds",
          "[kafka]") {
  testing::World world;
  auto server = world.register_server("meet.example.com", {"alice@example.com"});
  std::string uid = world.create_room(server.key, "meet.example.com", "alice@example.com",
                                      "2021-02-02T12:05:00Z");
  const core::Event& starting = world.log.appended.back();
  kafka::Record r = kafka::to_record(starting, kContext);
  CHECK(r.topic == "roombus.room-events");
  CHECK(r.key == uid);
  CHECK(r.headers[3] == kafka::Header{"ce_type", "roombus.room.starting.v1"});
  CHECK(r.headers[1] == kafka::Header{"ce_id", "0123456789abcdef0123456789abcdef-3"});
  CHECK(r.value.find(R"("due":"2021-02-02T12:00:00Z","late_seconds":0})") != std::string::npos);
}

TEST_CASE("a demand forecast goes to server-demand keyed by the server, with a derived ce_id",
          "[kafka]") {
  core::Demand d;
  d.server_id = 3;
  d.at = testing::at(2021, 2, 2, 12, 2, 30);
  kafka::Record r = kafka::demand_record(d, "{}", kContext);
  CHECK(r.topic == "roombus.server-demand");
  CHECK(r.key == "3");
  CHECK(r.value == "{}");
  CHECK_FALSE(r.tombstone);
  std::vector<kafka::Header> expected = {
      {"ce_specversion", "1.0"},
      {"ce_id", "0123456789abcdef0123456789abcdef-demand-3-1612267350"},
      {"ce_source", "/roombus/0123456789abcdef0123456789abcdef"},
      {"ce_type", "roombus.server.demand.v1"},
      {"ce_time", "2021-02-02T12:02:30Z"},
      {"ce_subject", "server:3"},
      {"content-type", "application/json"},
  };
  CHECK(r.headers == expected);
  kafka::Record gone = kafka::demand_tombstone(3, testing::at(2021, 2, 2, 13), kContext);
  CHECK(gone.tombstone);
  CHECK(gone.key == "3");
  CHECK(gone.headers[4] == kafka::Header{"ce_time", "2021-02-02T13:00:00Z"});
  CHECK(gone.headers[1] ==
        kafka::Header{"ce_id", "0123456789abcdef0123456789abcdef-demand-3-deleted"});
}

TEST_CASE("the same event always gets the same ce_id, another log's event another", "[kafka]") {
  CHECK(kafka::cloud_event_id("abc", 7) == kafka::cloud_event_id("abc", 7));
  CHECK(kafka::cloud_event_id("abc", 7) != kafka::cloud_event_id("abd", 7));
  CHECK(kafka::cloud_event_id("abc", 7) != kafka::cloud_event_id("abc", 8));
}

TEST_CASE("a Kafka property is key=value, anything else is refused", "[kafka][config]") {
  CHECK(kafka::parse_property("security.protocol=SASL_SSL") ==
        kafka::Property{"security.protocol", "SASL_SSL"});
  CHECK(kafka::parse_property("sasl.password=a=b") == kafka::Property{"sasl.password", "a=b"});
  CHECK(kafka::parse_property("client.rack=") == kafka::Property{"client.rack", ""});
  CHECK_THROWS_AS(kafka::parse_property("novalue"), std::invalid_argument);
  CHECK_THROWS_AS(kafka::parse_property("=x"), std::invalid_argument);
}

TEST_CASE("properties librdkafka does not know, or that the guarantees rest on, are refused",
          "[kafka][config]") {
  kafka::Settings settings;
  settings.brokers = "127.0.0.1:9092";
  settings.properties = {{"linger.ms", "10"}};
  CHECK_NOTHROW(kafka::producer_conf(settings));
  auto refused = [&](kafka::Property p, std::string_view needle) {
    settings.properties = {p};
    try {
      (void)kafka::producer_conf(settings);
      return false;
    } catch (const std::invalid_argument& e) {
      return std::string(e.what()).find(needle) != std::string::npos;
    }
  };
  CHECK(refused({"no.such.property", "1"}, "no.such.property"));
  CHECK(refused({"linger.ms", "soon"}, "linger.ms"));
  CHECK(refused({"enable.idempotence", "false"}, "guarantees"));
  CHECK(refused({"acks", "1"}, "guarantees"));
  CHECK(refused({"bootstrap.servers", "x:1"}, "--kafka-brokers"));
}

TEST_CASE("brokers are host[:port] entries separated by commas", "[kafka][config]") {
  CHECK_NOTHROW(kafka::validate_brokers("kafka:9092"));
  CHECK_NOTHROW(kafka::validate_brokers("b1:9092,b2:9093,b3"));
  CHECK_NOTHROW(kafka::validate_brokers("SASL_SSL://b1.example.com:9094"));
  CHECK_NOTHROW(kafka::validate_brokers("[::1]:9092,127.0.0.1:9092"));
  CHECK_THROWS_AS(kafka::validate_brokers("b1:notaport"), std::invalid_argument);
  CHECK_THROWS_AS(kafka::validate_brokers("b1:0"), std::invalid_argument);
  CHECK_THROWS_AS(kafka::validate_brokers("b1:70000"), std::invalid_argument);
  CHECK_THROWS_AS(kafka::validate_brokers("a b:9092"), std::invalid_argument);
  CHECK_THROWS_AS(kafka::validate_brokers("b1:9092,,b2:9092"), std::invalid_argument);
  CHECK_THROWS_AS(kafka::validate_brokers(":9092"), std::invalid_argument);
}

TEST_CASE("a topic prefix follows Kafka's rules for topic names", "[kafka][config]") {
  CHECK_NOTHROW(kafka::validate_topic_prefix("roombus."));
  CHECK_NOTHROW(kafka::validate_topic_prefix(""));
  CHECK_NOTHROW(kafka::validate_topic_prefix("prod_eu-1."));
  CHECK_THROWS_AS(kafka::validate_topic_prefix("room bus."), std::invalid_argument);
  CHECK_THROWS_AS(kafka::validate_topic_prefix("räume."), std::invalid_argument);
  CHECK_THROWS_AS(kafka::validate_topic_prefix(std::string(240, 'a')), std::invalid_argument);
}
