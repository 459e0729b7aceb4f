// The outbox relay: every durable event becomes a Kafka record; its cursor only moves past what
// Kafka has acknowledged.
#pragma once

#include <asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "roombus/core/subscriber.hpp"
#include "roombus/kafka/cloud_event.hpp"
#include "roombus/kafka/in_order_tracker.hpp"
#include "roombus/kafka/producer.hpp"

namespace roombus::kafka {

struct RelayOptions {
  // Records produced and not yet acknowledged, at most. Beyond it deliver() waits, so a Kafka
  // outage holds this many records in memory and no more (the subscription helper queues a
  // bounded number of events meanwhile, then reads the rest back from the log).
  std::size_t max_in_flight = 20'000;
  std::chrono::milliseconds topic_timeout{10'000};   // metadata and topic creation
  std::chrono::milliseconds settle_timeout{30'000};  // purged records' reports after a failure
};

struct RelayStatus {
  std::int64_t delivered = 0;     // last position handed to the producer
  std::int64_t acknowledged = 0;  // every position up to here is acknowledged by Kafka
  std::int64_t saved = 0;         // the durable cursor
  std::size_t in_flight = 0;
  std::uint64_t rewinds = 0;  // times it went back to its cursor after a failed delivery
  bool topics_ready = false;
  bool failing = false;
  std::string last_error;
};

// A core::EventSubscriber ("kafka_relay"). Its durable cursor lives in a core::CursorStore (beside
// the log) and is saved as acknowledgements arrive, one save at a time. After a crash the records
// after the saved cursor are sent again with the same ce_id: consumers de-duplicate on it.
// A record that Kafka refuses for good (or a fatal producer error) makes the relay purge what is
// in flight, recreate the producer if needed, and start again from its acknowledged position.
//
// Threads: the EventSubscriber members on the subscription's thread; delivery reports on the
// io_context's thread (Producer); status() anywhere.
class OutboxRelay final : public core::EventSubscriber {
 public:
  OutboxRelay(asio::io_context& io, Producer& producer, core::CursorStore& cursors,
              RecordContext context, RelayOptions options, LogFunction log);
  ~OutboxRelay() override;

  std::string_view name() const override { return "kafka_relay"; }
  std::int64_t resume_position() override;
  void deliver(std::span<const core::Event* const> events) override;
  std::int64_t handled_position() const override;
  void finish(std::chrono::steady_clock::time_point deadline) override;
  void interrupt() override;

  RelayStatus status() const;

 private:
  void on_deliveries(std::span<const Producer::Delivery> deliveries);  // io thread
  // Under mutex_: the acknowledged position, if it is to be saved now.
  std::optional<std::int64_t> save_due();
  void save(std::int64_t position);
  void restart_producer();

  asio::io_context& io_;
  Producer& producer_;
  core::CursorStore& cursors_;
  RecordContext context_;
  RelayOptions options_;
  LogFunction log_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool loaded_ = false;
  bool topics_ready_ = false;
  std::int64_t delivered_ = 0;
  // The positions produced, settled by their delivery reports; done_through() is the acknowledged
  // position. Made anew from it at every (re)start, which forgets the slots of a failed run.
  InOrderTracker deliveries_{0};
  std::int64_t saved_ = 0;
  bool save_in_flight_ = false;
  bool failed_ = false;
  bool interrupted_ = false;
  std::uint64_t rewinds_ = 0;
  std::string last_error_;
};

}  // namespace roombus::kafka
