// `roombus serve --kafka-brokers` (the real binary) against librdkafka's mock cluster: events on
// the topics, outages, SIGKILL and SIGTERM, an outside consumer (kcat), bad configuration.
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/kafka_serve.hpp"

using namespace roombus::test;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kAdminToken = kKafkaAdminToken;
const std::vector<std::string> kTopics = {"roombus.room-events", "roombus.server-events"};

std::optional<std::string> create_room(HttpConnection& c, const std::string& key, int n) {
  auto reply = c.request("POST", "/api/v1/room", {bearer(key)},
                         "server=meet.example.com&email=alice%40x.de&name=Room+" +
                             std::to_string(n) + "&start=2030-01-01T10%3A00&duration=30",
                         "application/x-www-form-urlencoded");
  if (!reply || reply->status != 200) return std::nullopt;
  return json_string_field(reply->body, "uid");
}

std::int64_t position_of(const ConsumedRecord& r) {
  const std::string id = r.header("ce_id");
  return std::stoll(id.substr(id.find('-') + 1));
}

// ce_id -> value, checking that a ce_id seen twice carried the same value both times.
std::map<std::string, std::string> by_id(const std::vector<ConsumedRecord>& records,
                                         bool& consistent) {
  std::map<std::string, std::string> out;
  consistent = true;
  for (const auto& r : records) {
    auto [it, fresh] = out.emplace(r.header("ce_id"), r.value);
    if (!fresh && it->second != r.value) consistent = false;
  }
  return out;
}

std::set<std::int64_t> positions(const std::vector<ConsumedRecord>& records) {
  std::set<std::int64_t> out;
  for (const auto& r : records) out.insert(position_of(r));
  return out;
}

std::set<std::int64_t> one_to(std::int64_t n) {
  std::set<std::int64_t> out;
  for (std::int64_t p = 1; p <= n; ++p) out.insert(p);
  return out;
}

}  // namespace

TEST_CASE_METHOD(ServedCluster, "every acknowledged change is on its topic with a stable ce_id",
                 "[kafka][serve]") {
  REQUIRE(serve.ready());
  const std::string key = serve.key;
  HttpConnection c(serve.port);
  std::vector<std::string> uids;
  for (int i = 0; i < 10; ++i) uids.push_back(create_room(c, key, i).value_or("?"));

  TopicReader reader(cluster.mock.bootstraps(), kTopics);
  const auto& records = reader.read_until(11, 15s);
  REQUIRE(records.size() == 11);
  CHECK(positions(records) == one_to(11));
  const std::string source = records.front().header("ce_source");
  CHECK(source.size() == std::string("/roombus/").size() + 32);
  for (const auto& r : records) {
    CHECK(r.header("ce_source") == source);
    CHECK(r.header("ce_id") == source.substr(9) + "-" + std::to_string(position_of(r)));
    if (r.topic == kTopics[0]) {
      CHECK(r.header("ce_type") == "roombus.room.created.v1");
      CHECK(std::find(uids.begin(), uids.end(), r.key) != uids.end());
    } else {
      CHECK(r.header("ce_type") == "roombus.server.registered.v1");
      CHECK(r.key == "1");
    }
  }
  auto metrics = HttpConnection(serve.port).request("GET", "/metrics", {}, "");
  REQUIRE(metrics);
  CHECK(metrics->body.find("roombus_kafka_relay_delivered_position 11\n") != std::string::npos);
  CHECK(metrics->body.find("roombus_subscriber_lag_events{subscriber=\"kafka_relay\"} 0\n") !=
        std::string::npos);
  serve.child->signal(SIGTERM);
  CHECK(serve.child->wait(15s) == 0);
}

TEST_CASE_METHOD(ServedCluster,
                 "while Kafka is down HTTP answers at once, and the events follow once it is back",
                 "[kafka][serve]") {
  REQUIRE(serve.ready());
  const std::string key = serve.key;

  cluster.mock.set_down();
  CHECK(wait_for_kafka(serve.port, "down", 15s));
  CHECK(kafka_check(serve.port).first == 200);  // degraded, not unready
  HttpConnection c(serve.port);
  auto slowest = Clock::duration::zero();
  int created = 0;
  for (int i = 0; i < 50; ++i) {
    const auto started = Clock::now();
    created += create_room(c, key, i) ? 1 : 0;
    slowest = std::max(slowest, Clock::now() - started);
  }
  CHECK(created == 50);
  CHECK(slowest < 1s);

  cluster.mock.set_up();
  TopicReader reader(cluster.mock.bootstraps(), kTopics);
  const auto& records = reader.read_until(51, 30s);
  bool consistent = false;
  auto ids = by_id(records, consistent);
  CHECK(consistent);
  CHECK(ids.size() == 51);
  CHECK(positions(records) == one_to(51));
  CHECK(wait_for_kafka(serve.port, "ok", 15s));
}

TEST_CASE(
    "after SIGKILL nothing is sent under a new ce_id and the last acknowledged change "
    "is still published",
    "[kafka][serve]") {
  Cluster cluster;
  TempDir temp;
  std::string key;
  std::string last_uid;
  {
    Serve first(cluster, temp.dir() / "data", temp.dir() / "first.log");
    REQUIRE(first.ready());
    key = first.key;
    HttpConnection c(first.port);
    for (int i = 0; i < 20; ++i) REQUIRE(create_room(c, key, i));
    TopicReader reader(cluster.mock.bootstraps(), kTopics);
    REQUIRE(reader.read_until(21, 15s).size() == 21);
    // Acknowledged to the client, then killed before the relay can be sure of it.
    last_uid = create_room(c, key, 99).value_or("");
    REQUIRE_FALSE(last_uid.empty());
    first.child->signal(SIGKILL);
    REQUIRE(first.child->wait(10s) == 128 + SIGKILL);
  }
  Serve second(cluster, temp.dir() / "data", temp.dir() / "second.log");
  REQUIRE(second.port != 0);
  HttpConnection c(second.port);
  REQUIRE(create_room(c, key, 100));

  TopicReader reader(cluster.mock.bootstraps(), kTopics);
  const auto& records = reader.read_until(23, 30s);
  reader.read_for(1s);  // anything sent twice arrives too
  bool consistent = false;
  auto ids = by_id(records, consistent);
  CHECK(consistent);  // a ce_id seen twice is the same event
  CHECK(positions(records) == one_to(23));
  CHECK(ids.size() == 23);
  bool found = false;
  for (const auto& r : records) found = found || r.key == last_uid;
  CHECK(found);
}

TEST_CASE_METHOD(ServedCluster,
                 "SIGTERM under load: every acknowledged change is on the topic before the exit",
                 "[kafka][serve]") {
  REQUIRE(serve.ready());
  const std::string key = serve.key;

  std::mutex mutex;
  std::set<std::string> acked;
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      HttpConnection c(serve.port);
      for (int i = 0; !stop; ++i) {
        auto uid = create_room(c, key, t * 100000 + i);
        if (!uid) return;  // the server closed the connection: stopping
        std::lock_guard lock(mutex);
        acked.insert(*uid);
      }
    });
  }
  // Under load: writes acknowledged and more in flight when the signal comes.
  CHECK(eventually([&] {
    std::lock_guard lock(mutex);
    return acked.size() >= 100;
  }));
  serve.child->signal(SIGTERM);
  stop = true;
  for (auto& t : clients) t.join();
  CHECK(serve.child->wait(30s) == 0);
  REQUIRE(acked.size() > 10);

  TopicReader reader(cluster.mock.bootstraps(), kTopics);
  const auto& records = reader.read_until(acked.size() + 1, 30s);
  std::set<std::string> published;
  for (const auto& r : records) {
    if (r.header("ce_type") == "roombus.room.created.v1") published.insert(r.key);
  }
  std::size_t missing = 0;
  for (const auto& uid : acked) missing += published.count(uid) == 0 ? 1u : 0u;
  CHECK(missing == 0);
  // The relay saved its cursor at the end: a restart resumes there and sends nothing again.
  const std::size_t published_before = records.size();
  Serve again(cluster, temp.dir() / "data", temp.dir() / "again.log");
  REQUIRE(again.port != 0);
  const std::string cursor_line = "roombus_kafka_relay_cursor " + std::to_string(published_before);
  CHECK(eventually([&] {
    auto m = HttpConnection(again.port).request("GET", "/metrics", {}, "");
    return m && m->body.find(cursor_line + "\n") != std::string::npos;
  }));
  CHECK(reader.read_for(1500ms).size() == published_before);
}

TEST_CASE("kcat, an outside consumer, reads the events with their CloudEvents headers",
          "[kafka][serve][kcat]") {
  Cluster cluster;
  TempDir temp;
  Serve serve(cluster, temp.dir() / "data", temp.dir() / "out.log");
  REQUIRE(serve.port != 0);
  const std::string key = register_server(serve.port, kAdminToken);
  REQUIRE_FALSE(key.empty());
  HttpConnection c(serve.port);
  const std::string uid = create_room(c, key, 1).value_or("");
  REQUIRE_FALSE(uid.empty());
  TopicReader reader(cluster.mock.bootstraps(), kTopics);
  REQUIRE(reader.read_until(2, 15s).size() == 2);

  const std::string command = std::string(KCAT_BINARY) + " -b " + cluster.mock.bootstraps() +
                              " -C -t roombus.room-events -o beginning -e -q -f '%k|%h|%s\\n' 2>&1";
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  CHECK(::pclose(pipe) == 0);
  INFO(output);
  CHECK(output.find(uid + "|") == 0);
  CHECK(output.find("ce_type=roombus.room.created.v1") != std::string::npos);
  CHECK(output.find("ce_specversion=1.0") != std::string::npos);
  CHECK(output.find("content-type=application/json") != std::string::npos);
  CHECK(output.find("\"type\":\"room.created\"") != std::string::npos);
}

TEST_CASE("bad Kafka configuration is a one-line error naming the option, exit code 2",
          "[kafka][serve][config]") {
  TempDir temp;
  auto refused = [&](std::vector<std::string> extra, std::string_view needle) {
    std::vector<std::string> args{"serve",
                                  "--listen",
                                  "127.0.0.1:0",
                                  "--data-dir",
                                  (temp.dir() / "data").string(),
                                  "--kafka-brokers",
                                  "127.0.0.1:1"};
    args.insert(args.end(), extra.begin(), extra.end());
    Child child(args, temp.dir() / "bad.log");
    const auto code = child.wait(10s);
    const std::string out = child.output();
    INFO(out);
    return code == 2 && out.find(needle) != std::string::npos &&
           std::count(out.begin(), out.end(), '\n') == 1;
  };
  CHECK(refused({"--kafka-config", "no.such.property=1"}, "--kafka-config"));
  CHECK(refused({"--kafka-config", "acks=1"}, "guarantees"));
  CHECK(refused({"--kafka-config", "novalue"}, "key=value"));
  CHECK(refused({"--kafka-topic-prefix", "room bus."}, "--kafka-topic-prefix"));
  CHECK(refused({"--kafka-partitions", "0"}, "--kafka-partitions"));
  CHECK(refused({"--kafka-replication-factor", "0"}, "--kafka-replication-factor"));
}

TEST_CASE("Kafka unreachable at start-up: roombus serves, /readyz says kafka down",
          "[kafka][serve]") {
  TempDir temp;
  // A port nothing listens on.
  Child child({"serve", "--listen", "127.0.0.1:0", "--data-dir", (temp.dir() / "data").string(),
               "--admin-token", std::string(kAdminToken), "--kafka-brokers", "127.0.0.1:9"},
              temp.dir() / "out.log");
  auto port = child.wait_for_port(15s);
  REQUIRE(port);
  const std::string key = register_server(*port, kAdminToken);
  CHECK_FALSE(key.empty());
  auto [status, state] = kafka_check(*port);
  CHECK(status == 200);
  CHECK(state == "down");
  child.signal(SIGTERM);
  CHECK(child.wait(30s) == 0);
}
