// The compacted server-demand topic: the newest demand forecast of each server, keyed by its id.
#pragma once

#include <asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "roombus/core/demand.hpp"
#include "roombus/kafka/cloud_event.hpp"
#include "roombus/kafka/producer.hpp"
#include "roombus/kafka/settings.hpp"

namespace roombus::kafka {

struct DemandTopicStatus {
  bool topic_ready = false;    // the topic was found or created
  std::uint64_t produced = 0;  // records handed to the producer
  std::uint64_t delivered = 0;
  std::uint64_t failed = 0;      // refused or failed deliveries (the next forecast replaces them)
  std::size_t in_flight = 0;     // servers with a record not yet acknowledged
  std::size_t waiting = 0;       // servers whose newest record waits for the previous one
  std::uint64_t superseded = 0;  // records replaced by a newer one before they were produced
  std::string last_error;
};

// Forecasts are derived data: no cursor, no log. What matters is that the topic ends with each
// server's newest forecast, so at most one record per server is in flight; a newer forecast
// waits for the older one's report and replaces whatever already waited. An outage therefore
// holds one record per server, however long it lasts, and order per key is kept. The topic is
// created at start-up with cleanup.policy=compact (by a thread of its own, retried until it
// succeeds: metadata calls block); records wait until then.
//
// It owns its producer (its delivery reports are its own, and only counted). Threads: every
// member on the io_context's thread.
class DemandTopic {
 public:
  DemandTopic(asio::io_context& io, Settings settings, RecordContext context, LogFunction log);
  ~DemandTopic();
  DemandTopic(const DemandTopic&) = delete;
  DemandTopic& operator=(const DemandTopic&) = delete;

  void start();
  // Flushes what is in flight for at most `flush`, then stops the producer.
  void stop(std::chrono::milliseconds flush);

  // The newest forecast of a live server, and its JSON (json::encode_demand).
  void put(const core::Demand& demand, const std::string& json);
  // The server was deleted at `at`: a tombstone removes its forecast from the compacted topic.
  void remove(core::ServerId server, core::Instant at);

  DemandTopicStatus status() const;
  const Producer& producer() const { return producer_; }
  const std::string& topic() const { return topic_; }

 private:
  void send(core::ServerId server, Record record);
  void produce(core::ServerId server, const Record& record);
  void on_delivery(std::uint64_t server, rd_kafka_resp_err_t error);
  void make_topic();  // on topic_thread_
  void note(std::string error);

  asio::io_context& io_;
  RecordContext context_;
  LogFunction log_;
  std::string topic_;
  // Per attempt (metadata, then CreateTopics): short, since a shutdown waits for the attempt
  // under way; a slow cluster only means another attempt, which finds a topic created meanwhile.
  std::chrono::milliseconds topic_timeout_{2'000};
  Producer producer_;

  bool started_ = false;
  bool stopped_ = false;
  std::set<core::ServerId> in_flight_;
  std::map<core::ServerId, Record> waiting_;
  DemandTopicStatus status_;

  std::mutex mutex_;  // stopping_, for the topic thread's waits
  std::condition_variable stop_;
  bool stopping_ = false;
  std::thread topic_thread_;
};

}  // namespace roombus::kafka
