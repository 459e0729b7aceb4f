// CommandConsumer's lifecycle: wiring the consumer and the outputs' producer, start, stop, status.
#include "roombus/consumers/command_consumer.hpp"

#include <algorithm>

namespace roombus::consumers {

CommandConsumer::CommandConsumer(asio::io_context& io, const kafka::Settings& settings,
                                 Runner runner, KeyCheck key_known, CommandConsumerOptions options,
                                 kafka::LogFunction log)
    : io_(io),
      settings_(settings),
      runner_(std::move(runner)),
      key_known_(std::move(key_known)),
      options_(std::move(options)),
      log_(std::move(log)) {
  options_.max_in_flight = std::max<std::size_t>(options_.max_in_flight, 1);
  options_.max_running = std::max<std::size_t>(options_.max_running, 1);
  options_.max_running_busy =
      std::clamp<std::size_t>(options_.max_running_busy, 1, options_.max_running);
  outputs_ = std::make_unique<kafka::Producer>(io_, settings_, log_);
  outputs_->on_delivery(
      [this](std::uint64_t tag, rd_kafka_resp_err_t error) { on_output(tag, error); });
  consumer_ = std::make_unique<kafka::Consumer>(
      io_, settings_, options_.group, std::vector<std::string>{settings_.topic(kCommands)}, log_);
}

CommandConsumer::~CommandConsumer() {
  stopping_ = true;
  if (topic_setup_.joinable()) topic_setup_.join();
}

void CommandConsumer::start() {
  outputs_->start();
  topic_setup_ = std::thread([this] { ensure_topics(); });
  consumer_->start([this](kafka::Message m) { on_message(std::move(m)); },
                   [this](const std::vector<kafka::TopicPartition>& p) { on_revoke(p); },
                   [this] { return busy() ? options_.batch_busy : options_.batch; });
}

void CommandConsumer::ensure_topics() {
  const std::vector<std::string> topics = {
      settings_.topic(kCommands), settings_.topic(kCommandResults), settings_.topic(kDeadLetters)};
  while (!stopping_) {
    try {
      outputs_->ensure_topics(topics, std::chrono::seconds(10), {},
                              [this] { return stopping_.load(); });
      std::lock_guard lock(topics_mutex_);
      topics_ready_ = true;
      topics_error_.clear();
      return;
    } catch (const std::exception& e) {
      std::lock_guard lock(topics_mutex_);
      topics_error_ = e.what();
    }
    for (int i = 0; i < 20 && !stopping_; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

void CommandConsumer::stop_taking() {
  taking_ = false;
  consumer_->pause();
}

void CommandConsumer::close(std::chrono::milliseconds flush_timeout) {
  stopping_ = true;
  if (topic_setup_.joinable()) topic_setup_.join();
  consumer_->close();
  outputs_->flush(flush_timeout);
  outputs_->stop();
}

CommandConsumerStatus CommandConsumer::status() const {
  CommandConsumerStatus s = counts_;
  s.consumer = consumer_->status();
  s.in_flight = in_flight_;
  s.running = running_;
  std::lock_guard lock(topics_mutex_);
  s.topics_ready = topics_ready_;
  s.topics_error = topics_error_;
  return s;
}

}  // namespace roombus::consumers
