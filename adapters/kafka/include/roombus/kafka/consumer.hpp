// A consumer-group member whose messages, rebalances and errors are served on the io_context.
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "roombus/kafka/handles.hpp"
#include "roombus/kafka/producer.hpp"
#include "roombus/kafka/queue_waker.hpp"
#include "roombus/kafka/settings.hpp"

namespace roombus::kafka {

using TopicPartition = std::pair<std::string, std::int32_t>;

// One consumed record, copied out of librdkafka (so it can outlive the poll).
struct Message {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::string key;
  std::string value;
  std::vector<Header> headers;
};

// A consumed record copied out of librdkafka, headers included.
Message copy_message(const rd_kafka_message_t& message);

struct ConsumerStatus {
  int brokers_up = 0;
  bool statistics_seen = false;
  std::size_t assigned = 0;  // partitions assigned to this member
  bool paused = false;
  std::string last_error;
  // Per assigned partition: messages not consumed yet (high watermark - committed), from the
  // statistics; -1 while unknown.
  std::map<TopicPartition, std::int64_t> lag;
};

// The configuration of roombus's consumers: offsets stored by hand only after a message is done
// (then committed in the background and on every revoke), from the earliest offset for a new
// group. Throws std::invalid_argument like make_conf().
ConfPtr consumer_conf(const Settings& settings, const std::string& group);

// Threads: every member on the io_context's thread, except status() (any thread) and the
// constructor/destructor (before run / after). Handlers run on the io_context's thread.
class Consumer {
 public:
  using MessageHandler = std::function<void(Message)>;
  // Partitions taken away (rebalance or close): their messages in progress will not be
  // committed by this member.
  using RevokeHandler = std::function<void(const std::vector<TopicPartition>&)>;

  Consumer(asio::io_context& io, const Settings& settings, std::string group,
           std::vector<std::string> topics, LogFunction log);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // How many messages to hand out in the next turn of the io_context; asked at every turn.
  using BatchSize = std::function<std::size_t()>;

  // Subscribes and starts serving the queue. At most `batch()` messages per turn of the
  // io_context (the rest after other work), so a flood of messages does not starve HTTP.
  void start(MessageHandler on_message, RevokeHandler on_revoke, BatchSize batch);
  // Backpressure, in two steps. hold(): hand out no more messages (what librdkafka fetched
  // waits in its bounded fetch queue). pause(): stop fetching too (Kafka keeps the records;
  // librdkafka drops what it had fetched and fetches it again after resume(), a round trip, so
  // pause only when holding lasts). resume() ends both.
  void hold();
  void pause();
  void resume();
  bool held() const { return held_; }
  bool paused() const { return paused_; }
  // Marks everything before `next_offset` of the partition as done: committed in the background
  // (auto-commit of stored offsets) and at every revoke. Ignored for a partition no longer ours.
  void store_offset(const TopicPartition& partition, std::int64_t next_offset);
  // Commits what is stored and leaves the group (serving the revoke). Blocking, bounded by
  // librdkafka's session timeout; call with the io_context stopped or from its thread.
  void close();

  ConsumerStatus status() const;

 private:
  void drain();
  void tick();
  void set_paused(bool paused);
  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t error,
                           rd_kafka_topic_partition_list_t* partitions, void* opaque);
  static void on_error(rd_kafka_t* rk, int error, const char* reason, void* opaque);
  static int on_statistics(rd_kafka_t* rk, char* json, std::size_t length, void* opaque);
  static void on_log(const rd_kafka_t* rk, int level, const char* facility, const char* message);

  asio::io_context& io_;
  std::vector<std::string> topics_;
  LogFunction log_;
  HandlePtr rk_;
  QueuePtr queue_;
  std::unique_ptr<QueueWaker> waker_;
  // librdkafka takes a member that has not polled for max.poll.interval.ms out of its group; the
  // pipe only wakes us for queued events, so an idle (or paused) consumer polls on a timer too.
  asio::steady_timer poll_timer_;
  MessageHandler on_message_;
  RevokeHandler on_revoke_;
  BatchSize batch_;
  bool paused_ = false;
  bool held_ = false;
  bool drain_posted_ = false;
  bool closed_ = false;
  std::vector<TopicPartition> assignment_;

  mutable std::mutex mutex_;  // guards status_
  ConsumerStatus status_;
};

}  // namespace roombus::kafka
