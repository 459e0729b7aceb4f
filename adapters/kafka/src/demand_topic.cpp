// DemandTopic: newest-wins delivery of demand forecasts, one record in flight per server.
#include "roombus/kafka/demand_topic.hpp"

#include <asio/post.hpp>
#include <utility>

namespace roombus::kafka {

DemandTopic::DemandTopic(asio::io_context& io, Settings settings, RecordContext context,
                         LogFunction log)
    : io_(io),
      context_(std::move(context)),
      log_(std::move(log)),
      topic_(context_.topic_prefix + std::string(kServerDemand)),
      producer_(io, std::move(settings), log_) {
  producer_.on_delivery(
      [this](std::uint64_t tag, rd_kafka_resp_err_t error) { on_delivery(tag, error); });
}

DemandTopic::~DemandTopic() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_.notify_all();
  if (topic_thread_.joinable()) topic_thread_.join();
  producer_.on_delivery({});
}

void DemandTopic::start() {
  if (started_) return;
  started_ = true;
  producer_.start();
  topic_thread_ = std::thread([this] { make_topic(); });
}

void DemandTopic::stop(std::chrono::milliseconds flush) {
  if (stopped_) return;
  stopped_ = true;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_.notify_all();
  if (topic_thread_.joinable()) topic_thread_.join();
  if (started_) {
    producer_.flush(flush);
    producer_.stop();
  }
}

void DemandTopic::make_topic() {
  auto backoff = std::chrono::milliseconds(500);
  for (;;) {
    try {
      const std::vector<Property> compacted{{"cleanup.policy", "compact"}};
      producer_.ensure_topics({topic_}, topic_timeout_, compacted, [this] {
        std::lock_guard lock(mutex_);
        return stopping_;
      });
      asio::post(io_, [this] {
        if (stopped_) return;
        status_.topic_ready = true;
        auto waiting = std::move(waiting_);
        waiting_.clear();
        for (auto& [server, record] : waiting) produce(server, record);
      });
      return;
    } catch (const std::exception& e) {
      const std::string text = std::string("Kafka: demand topic ") + topic_ + ": " + e.what() +
                               " (retrying in " + std::to_string(backoff.count()) + " ms)";
      if (log_) log_(text);
    }
    std::unique_lock lock(mutex_);
    if (stop_.wait_for(lock, backoff, [this] { return stopping_; })) return;
    backoff = std::min(backoff * 2, std::chrono::milliseconds(30'000));
  }
}

void DemandTopic::put(const core::Demand& demand, const std::string& json) {
  send(demand.server_id, demand_record(demand, json, context_));
}

void DemandTopic::remove(core::ServerId server, core::Instant at) {
  send(server, demand_tombstone(server, at, context_));
}

void DemandTopic::send(core::ServerId server, Record record) {
  if (stopped_) return;
  if (!status_.topic_ready || in_flight_.count(server) != 0) {
    auto [it, fresh] = waiting_.insert_or_assign(server, std::move(record));
    if (!fresh) ++status_.superseded;
    return;
  }
  produce(server, record);
}

void DemandTopic::produce(core::ServerId server, const Record& record) {
  const rd_kafka_resp_err_t error = producer_.produce(record, static_cast<std::uint64_t>(server));
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // Dropped: the server's next forecast (a change, or the next 5-minute boundary) follows.
    ++status_.failed;
    note(std::string("a demand record was refused: ") + rd_kafka_err2str(error));
    return;
  }
  ++status_.produced;
  in_flight_.insert(server);
}

void DemandTopic::on_delivery(std::uint64_t tag, rd_kafka_resp_err_t error) {
  const auto server = static_cast<core::ServerId>(tag);
  in_flight_.erase(server);
  if (error == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++status_.delivered;
  } else {
    ++status_.failed;
    note(std::string("a demand record was not delivered: ") + rd_kafka_err2str(error));
  }
  if (stopped_) return;
  auto next = waiting_.find(server);
  if (next == waiting_.end()) return;
  Record record = std::move(next->second);
  waiting_.erase(next);
  produce(server, record);
}

void DemandTopic::note(std::string error) {
  if (log_ && error != status_.last_error) log_("Kafka: " + error);
  status_.last_error = std::move(error);
}

DemandTopicStatus DemandTopic::status() const {
  DemandTopicStatus s = status_;
  s.in_flight = in_flight_.size();
  s.waiting = waiting_.size();
  return s;
}

}  // namespace roombus::kafka
