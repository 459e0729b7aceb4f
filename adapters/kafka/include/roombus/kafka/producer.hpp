// One idempotent librdkafka producer whose callbacks run on the io_context's thread.
#pragma once

#include <asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "roombus/kafka/handles.hpp"
#include "roombus/kafka/queue_waker.hpp"
#include "roombus/kafka/settings.hpp"

namespace roombus::kafka {

using LogFunction = std::function<void(std::string_view)>;

struct Header {
  std::string name;
  std::string value;
  friend bool operator==(const Header&, const Header&) = default;
};

struct Record {
  std::string topic;
  std::string key;
  std::string value;
  std::vector<Header> headers;
  // A null value (compacted topics: the key's record is deleted); `value` is ignored.
  bool tombstone = false;
};

// What the producer knows of Kafka, for /readyz and /metrics.
struct ProducerStatus {
  int brokers_up = 0;            // brokers with an open connection (statistics, once a second)
  bool statistics_seen = false;  // false until the first statistics arrived
  std::int64_t queued = 0;       // records queued or in flight, not yet acknowledged
  std::uint64_t delivered = 0;   // acknowledged records
  std::uint64_t delivery_errors = 0;
  std::string last_error;  // the last client or delivery error, empty if none
  bool fatal = false;      // the client hit a fatal error and must be recreated
};

// Queues one record on any producer handle (librdkafka copies it; `opaque` comes back in its
// delivery report). NO_ERROR, or why librdkafka refused it. Never blocks.
rd_kafka_resp_err_t produce_record(rd_kafka_t* rk, const Record& record, void* opaque);

// The configuration of roombus's producers (idempotent, acks=all, never giving up on a record).
// Throws std::invalid_argument like make_conf().
ConfPtr producer_conf(const Settings& settings);

// Threads: produce(), status() and purge() from any thread; delivery reports, errors and
// statistics (librdkafka's event API: delivery reports come a produce request at a time) are
// served on the io_context's thread (QueueWaker) — or, in flush(), on the calling thread. start(),
// stop(), restart() and the destructor on the io_context's thread, or while it does not run.
class Producer {
 public:
  // (tag given to produce(), the delivery's error or RD_KAFKA_RESP_ERR_NO_ERROR).
  using DeliveryHandler = std::function<void(std::uint64_t tag, rd_kafka_resp_err_t error)>;
  struct Delivery {
    std::uint64_t tag;
    rd_kafka_resp_err_t error;
  };
  // The reports of one produce request at once (librdkafka's delivery-report events): for a
  // handler with a lock to take, one acquisition per batch instead of per record.
  using BatchHandler = std::function<void(std::span<const Delivery> deliveries)>;

  Producer(asio::io_context& io, Settings settings, LogFunction log);
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  void on_delivery(DeliveryHandler handler) { on_delivery_ = std::move(handler); }
  void on_deliveries(BatchHandler handler) { on_deliveries_ = std::move(handler); }
  void start();
  void stop();
  // Replaces a client that hit a fatal error by a new one. What the old one held is lost
  // without delivery reports: the caller must have written it off (purge(), then wait).
  void restart();

  // Queues one record (librdkafka copies it); never blocks. NO_ERROR, or why it was refused
  // (queue full, fatal error, ...): then no delivery report comes for it.
  rd_kafka_resp_err_t produce(const Record& record, std::uint64_t tag);
  // Fails every queued and in-flight record with a delivery report (ERR__PURGE_*), at once.
  void purge();
  // Waits until every record is acknowledged, or the timeout; serves callbacks on this thread.
  bool flush(std::chrono::milliseconds timeout);

  // Makes sure the topics exist: asks the cluster's metadata and creates the missing ones with
  // the settings' partitions and replication factor and the topic `configs` (e.g.
  // cleanup.policy=compact; a topic that exists is left as it is).
  // Blocking: never on the io_context's thread. Throws std::runtime_error when Kafka cannot be
  // reached or refuses; a cluster without the CreateTopics API is logged and left to create
  // topics on first use. `give_up`, when set, is asked every half second while no broker
  // answers the metadata request (librdkafka's call cannot be interrupted): a caller that is
  // stopping then waits half a second, not the whole `timeout`.
  void ensure_topics(const std::vector<std::string>& topics, std::chrono::milliseconds timeout,
                     const std::vector<Property>& configs = {},
                     const std::function<bool()>& give_up = {});

  ProducerStatus status() const;

 private:
  struct Client;
  std::unique_ptr<Client> make_client();
  // Serves the main queue's events (delivery reports, errors, statistics) on this thread.
  void serve(rd_kafka_t* rk, rd_kafka_queue_t* queue, int timeout_ms);
  void delivered(std::span<const Delivery> deliveries);
  void on_error(rd_kafka_t* rk, rd_kafka_resp_err_t error, const char* reason, bool fatal);
  void on_statistics(const char* json, std::size_t length);
  static void on_log(const rd_kafka_t* rk, int level, const char* facility, const char* message);
  void note_error(std::string text);

  asio::io_context& io_;
  Settings settings_;
  LogFunction log_;
  DeliveryHandler on_delivery_;
  BatchHandler on_deliveries_;
  std::vector<Delivery> batch_;  // reused by serve()
  // Shared by produce()/purge()/status() on any thread; restart() replaces it exclusively.
  mutable std::shared_mutex client_mutex_;
  std::unique_ptr<Client> client_;
  bool started_ = false;

  mutable std::mutex mutex_;  // guards the status below
  ProducerStatus status_;
  std::string last_logged_;
  std::chrono::steady_clock::time_point last_logged_at_{};
};

}  // namespace roombus::kafka
