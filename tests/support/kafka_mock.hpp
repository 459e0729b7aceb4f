// Test support: librdkafka's mock cluster (the real Kafka protocol, in-process, on loopback) and a
// reader of topics. The only place that uses the experimental rdkafka_mock.h API.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "roombus/kafka/consumer.hpp"

namespace roombus::test {

using std::chrono::milliseconds;

class MockCluster {
 public:
  explicit MockCluster(int brokers = 1);
  ~MockCluster();
  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;

  // "127.0.0.1:port[,...]": what clients take as bootstrap.servers.
  const std::string& bootstraps() const { return bootstraps_; }
  void create_topic(const std::string& name, int partitions);
  // Every broker: connections dropped and refused (down), accepted again (up).
  void set_down();
  void set_up();
  void set_rtt(milliseconds rtt);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string bootstraps_;
};

struct ConsumedRecord : kafka::Message {
  std::int64_t timestamp_ms = 0;

  // The first header of that name, or "" if none.
  std::string header(std::string_view name) const;
};

// Reads whole topics from their beginning with an explicit assignment of every partition (no
// consumer group, so no rebalance wait).
class TopicReader {
 public:
  TopicReader(const std::string& bootstraps, std::vector<std::string> topics);
  ~TopicReader();
  TopicReader(const TopicReader&) = delete;
  TopicReader& operator=(const TopicReader&) = delete;

  // Polls until `count` records were read in all (since construction) or `timeout` passed;
  // returns every record read so far, in arrival order.
  const std::vector<ConsumedRecord>& read_until(std::size_t count, milliseconds timeout);
  // Polls for `how_long` (to see that nothing more comes).
  const std::vector<ConsumedRecord>& read_for(milliseconds how_long);

 private:
  void poll(milliseconds timeout);

  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::vector<ConsumedRecord> records_;
};

}  // namespace roombus::test
