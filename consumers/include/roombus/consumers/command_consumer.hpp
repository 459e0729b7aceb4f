// The command consumer: runs every record of `<prefix>commands` through the core, answers on
// `<prefix>command-results`, sends what it cannot run to `<prefix>commands.dlq`.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "roombus/consumers/command_record.hpp"
#include "roombus/core/service.hpp"
#include "roombus/kafka/consumer.hpp"
#include "roombus/kafka/in_order_tracker.hpp"
#include "roombus/kafka/producer.hpp"

namespace roombus::consumers {

// Topic names, after the prefix.
inline constexpr std::string_view kCommands = "commands";
inline constexpr std::string_view kCommandResults = "command-results";
inline constexpr std::string_view kDeadLetters = "commands.dlq";

// What running a command produced.
struct CommandResult {
  std::string body;  // the v1 endpoint's JSON body, byte for byte
  int status = 200;  // the v1 endpoint's HTTP status
  bool ok = false;   // success (roombus-outcome: ok) or a rejection (roombus-outcome: error)
};

// Runs one command to its final outcome: for a success only once it is durable. The record's id
// is the idempotency key: running the same record twice has one effect and the same result.
// Called on the io_context's thread.
using Runner = std::function<asio::awaitable<CommandResult>(CommandRecord)>;
// Whether a presented API key belongs to a live server (io_context's thread; never blocks).
using KeyCheck = std::function<bool(std::string_view key)>;

// The Runner of roombus serve: the record's v1 write through roombus_v1, exactly as the matching
// HTTP endpoint runs it, with the record's id as the idempotency key scoped to the type and the
// credential ("kafka:" + a hash, so neither the key nor the id is kept in the log).
asio::awaitable<CommandResult> run_command(core::Service& service, CommandRecord record);

struct CommandConsumerOptions {
  std::string group = "roombus";     // consumer group id
  std::size_t max_in_flight = 1024;  // commands taken and not yet done (result acknowledged)
  // Of those, how many are in the core at once (submitted, outcome not yet durable). Small: a
  // group commit's completions run in one handler of the io_context, and HTTP requests wait for
  // it. The many commands awaiting their result's ack cost the io_context nothing.
  std::size_t max_running = 64;
  // HTTP first: while `busy()` says HTTP requests are being (or were just) served on the
  // io_context, at most this many. A flood of commands then costs HTTP reads little (with 64 in
  // the core getRooms' p99 during a flood was 6.7x its value alone), and commands still run at
  // full speed whenever HTTP is quiet (docs/performance.md). Unset `busy`: always max_running.
  std::size_t max_running_busy = 4;
  std::function<bool()> busy;
  std::size_t batch = 64;                // records taken per turn of the io_context
  std::size_t batch_busy = 8;            // the same while `busy()`
  std::chrono::milliseconds retry{500};  // before sending a refused result again
  // At max_in_flight the consumer stops taking records; still full after this long, it pauses
  // its partitions (a pause makes librdkafka fetch again on resume: not worth it for a blip).
  std::chrono::milliseconds pause_after{200};
};

struct CommandConsumerStatus {
  kafka::ConsumerStatus consumer;
  std::size_t in_flight = 0;
  std::size_t running = 0;
  // (type, outcome) -> count; outcome "ok", "error" or "dead_letter".
  std::map<std::pair<std::string, std::string>, std::uint64_t> commands;
  std::map<std::string, std::uint64_t> dead_letters;  // reason -> count
  std::uint64_t output_retries = 0;
  bool topics_ready = false;
  std::string topics_error;
};

// Threads: start(), stop_taking(), idle(), when_idle() and close() on the io_context's thread;
// status() on it too. A thread of its own makes sure the output topics exist (blocking metadata
// calls). Offsets: a record's offset is stored (then committed) only when it and every record
// before it in its partition are done — the outcome durable and the result (or dead letter)
// acknowledged by Kafka. A rebalance or crash in between runs the command again: it is idempotent.
// Backpressure: at `max_in_flight` the consumer stops taking records (librdkafka's bounded fetch
// queue holds them) and, if that lasts `pause_after`, pauses its partitions (Kafka keeps them);
// it takes up again at half. Records are taken in batches between other work, and at most
// `max_running` of them are in the core at once (the rest wait their turn in order), so a flood of
// commands shares the io_context with HTTP instead of queueing thousands of handlers before it.
class CommandConsumer {
 public:
  CommandConsumer(asio::io_context& io, const kafka::Settings& settings, Runner runner,
                  KeyCheck key_known, CommandConsumerOptions options, kafka::LogFunction log);
  ~CommandConsumer();
  CommandConsumer(const CommandConsumer&) = delete;
  CommandConsumer& operator=(const CommandConsumer&) = delete;

  void start();
  // Shutdown: takes no more records; idle() once everything taken is done or given up.
  void stop_taking();
  bool idle() const { return in_flight_ == 0; }
  // Runs `then` once idle() (at once if it is): how a stop waits for it without polling.
  void when_idle(std::function<void()> then);
  // Commits what is done and leaves the group; flushes the outputs (bounded). Blocking.
  void close(std::chrono::milliseconds flush_timeout);

  CommandConsumerStatus status() const;

  // For the record's coroutine (a named function taking the consumer).
  void finish_run(std::uint64_t tag, const CommandRecord& record, const CommandResult& result);
  const Runner& runner() const { return runner_; }

 private:
  struct Pending {
    kafka::TopicPartition partition;
    std::int64_t offset = 0;
    std::string type;
    std::optional<kafka::Record> output;  // result or dead letter, kept until acknowledged
  };

  struct Waiting {
    std::uint64_t tag = 0;
    CommandRecord record;
    kafka::Message message;  // for a dead letter if running it throws
  };

  // Lifecycle (command_consumer.cpp).
  void ensure_topics();
  // Admission (admission.cpp): taking records, the running and in-flight limits, backpressure.
  void on_message(kafka::Message message);
  void run(Waiting waiting);
  void run_done(std::uint64_t tag, const kafka::Message& message, std::exception_ptr error);
  void run_waiting();
  bool busy() const;
  std::size_t running_limit() const;
  void hold();
  void release();
  // Outputs (outputs.cpp): results and dead letters, sent again until acknowledged.
  void dead_letter(std::uint64_t tag, const kafka::Message& message, Refusal refusal,
                   const std::string& detail);
  void send(std::uint64_t tag);
  void send_later(std::uint64_t tag);
  void on_output(std::uint64_t tag, rd_kafka_resp_err_t error);
  // Offsets (offsets.cpp): a record from taken to done, its partition's offset stored in order.
  std::uint64_t track(const kafka::Message& message);
  void done(std::uint64_t tag);
  void on_revoke(const std::vector<kafka::TopicPartition>& partitions);

  asio::io_context& io_;
  kafka::Settings settings_;
  Runner runner_;
  KeyCheck key_known_;
  CommandConsumerOptions options_;
  kafka::LogFunction log_;
  std::unique_ptr<kafka::Producer> outputs_;
  std::unique_ptr<kafka::Consumer> consumer_;

  std::uint64_t next_tag_ = 1;
  std::map<std::uint64_t, Pending> pending_;
  // Per partition of ours, the offsets taken; its done_through() + 1 is the offset to store.
  std::map<kafka::TopicPartition, kafka::InOrderTracker> partitions_;
  std::size_t in_flight_ = 0;
  std::vector<std::function<void()>> when_idle_;
  std::size_t running_ = 0;
  std::deque<Waiting> waiting_;
  bool run_waiting_posted_ = false;
  // Counts holds, so that the pause timer of an earlier hold leaves a later (brief) one alone.
  std::uint64_t holds_ = 0;
  bool taking_ = true;
  CommandConsumerStatus counts_;

  std::thread topic_setup_;
  mutable std::mutex topics_mutex_;
  bool topics_ready_ = false;
  std::string topics_error_;
  std::atomic<bool> stopping_{false};
};

}  // namespace roombus::consumers
