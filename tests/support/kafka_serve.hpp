// Test support: `roombus serve --kafka-brokers` as a child process on a mock cluster that has every
// topic roombus uses (the mock has no CreateTopics API), and its /readyz "kafka" check.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "support/kafka_mock.hpp"
#include "support/roombus_process.hpp"

namespace roombus::test {

inline constexpr std::string_view kKafkaAdminToken = "kafka-test-admin-token-0123456789";

struct Cluster {
  Cluster() {
    mock.create_topic("roombus.room-events", 3);
    mock.create_topic("roombus.server-events", 1);
    mock.create_topic("roombus.commands", 2);
    mock.create_topic("roombus.command-results", 1);
    mock.create_topic("roombus.commands.dlq", 1);
    mock.create_topic("roombus.server-demand", 1);
  }
  MockCluster mock;
};

// The "kafka" check of /readyz ("ok", "down", "off"), and its status code.
inline std::pair<int, std::string> kafka_check(std::uint16_t port) {
  HttpConnection c(port);
  auto reply = c.request("GET", "/readyz", {}, "");
  if (!reply) return {0, ""};
  const auto at = reply->body.find("\"kafka\"");
  if (at == std::string::npos) return {reply->status, ""};
  auto state = json_string_field(reply->body.substr(at), "kafka");
  return {reply->status, state.value_or("")};
}

inline bool wait_for_kafka(std::uint16_t port, std::string_view state,
                           std::chrono::milliseconds limit = kPatience) {
  return eventually([&] { return kafka_check(port).second == state; }, limit);
}

// `roombus serve --kafka-brokers <the mock>` (a RoombusServe) with `kKafkaAdminToken`.
struct Serve : RoombusServe {
  Serve(const Cluster& cluster, const std::filesystem::path& data_dir,
        const std::filesystem::path& log, std::vector<std::string> extra = {})
      : RoombusServe(data_dir, log, kafka_flags(cluster, std::move(extra)), kKafkaAdminToken) {}
  // Up, Kafka reachable, and meet.example.com registered (its API key in `key`).
  bool ready() {
    if (port == 0 || !wait_for_kafka(port, "ok")) return false;
    key = register_server();
    return !key.empty();
  }
  std::string key;

 private:
  static std::vector<std::string> kafka_flags(const Cluster& cluster,
                                              std::vector<std::string> extra) {
    std::vector<std::string> flags{"--kafka-brokers", cluster.mock.bootstraps()};
    flags.insert(flags.end(), extra.begin(), extra.end());
    return flags;
  }
};

// The common start of a test: a mock cluster with roombus's topics, a temp directory and
// `roombus serve` on them, as members of a TEST_CASE_METHOD fixture (the test REQUIREs
// `serve.ready()`).
struct ServedCluster {
  Cluster cluster;
  TempDir temp{"kafka"};
  Serve serve{cluster, temp.dir() / "data", temp.dir() / "out.log"};
};

}  // namespace roombus::test
