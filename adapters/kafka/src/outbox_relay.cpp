// OutboxRelay: durable events to Kafka, with a cursor that trails Kafka's acknowledgements.
#include "roombus/kafka/outbox_relay.hpp"

#include <asio/post.hpp>
#include <future>
#include <stdexcept>

namespace roombus::kafka {

OutboxRelay::OutboxRelay(asio::io_context& io, Producer& producer, core::CursorStore& cursors,
                         RecordContext context, RelayOptions options, LogFunction log)
    : io_(io),
      producer_(producer),
      cursors_(cursors),
      context_(std::move(context)),
      options_(options),
      log_(std::move(log)) {
  producer_.on_deliveries(
      [this](std::span<const Producer::Delivery> deliveries) { on_deliveries(deliveries); });
}

OutboxRelay::~OutboxRelay() { producer_.on_deliveries({}); }

std::int64_t OutboxRelay::resume_position() {
  std::unique_lock lock(mutex_);
  if (!loaded_) {
    lock.unlock();
    const std::int64_t cursor = cursors_.load(name());
    lock.lock();
    deliveries_ = InOrderTracker(cursor);
    saved_ = delivered_ = cursor;
    loaded_ = true;
  }
  if (deliveries_.in_flight() > 0) {
    // After a failure: take back everything still queued, and wait for its reports, so that
    // nothing from before the rewind is acknowledged after it.
    lock.unlock();
    producer_.purge();
    lock.lock();
    if (!changed_.wait_for(lock, options_.settle_timeout,
                           [this] { return deliveries_.in_flight() == 0; })) {
      throw std::runtime_error("Kafka: records purged after a failure were not settled in time");
    }
  }
  if (producer_.status().fatal) {
    lock.unlock();
    restart_producer();
    lock.lock();
  }
  if (!topics_ready_) {
    lock.unlock();
    const std::vector<std::string> topics = {context_.topic_prefix + std::string(kRoomEvents),
                                             context_.topic_prefix + std::string(kServerEvents)};
    producer_.ensure_topics(topics, options_.topic_timeout, {}, [this] {
      std::lock_guard interrupt_lock(mutex_);
      return interrupted_;
    });
    lock.lock();
    topics_ready_ = true;
  }
  if (failed_) ++rewinds_;
  deliveries_ = InOrderTracker(deliveries_.done_through());
  failed_ = false;
  interrupted_ = false;
  delivered_ = deliveries_.done_through();
  return delivered_;
}

void OutboxRelay::deliver(std::span<const core::Event* const> events) {
  for (const core::Event* event : events) {
    // Encoded before taking the lock: delivery reports keep flowing meanwhile.
    const Record record = to_record(*event, context_);
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [this] {
        return deliveries_.in_flight() < options_.max_in_flight || failed_ || interrupted_;
      });
      if (failed_) throw std::runtime_error("Kafka refused a record: " + last_error_);
      if (interrupted_) throw std::runtime_error("Kafka relay interrupted");
      if (event->position != delivered_ + 1) {
        throw std::logic_error("Kafka relay: position " + std::to_string(event->position) +
                               " delivered after " + std::to_string(delivered_));
      }
      deliveries_.take(event->position);
      delivered_ = event->position;
    }
    const rd_kafka_resp_err_t error =
        producer_.produce(record, static_cast<std::uint64_t>(event->position));
    if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::lock_guard lock(mutex_);
      deliveries_.fail(event->position);
      delivered_ = event->position - 1;
      failed_ = true;
      last_error_ = std::string("produce refused: ") + rd_kafka_err2str(error);
      throw std::runtime_error("Kafka: " + last_error_);
    }
  }
}

std::int64_t OutboxRelay::handled_position() const {
  std::lock_guard lock(mutex_);
  return deliveries_.done_through();
}

void OutboxRelay::on_deliveries(std::span<const Producer::Delivery> deliveries) {
  std::optional<std::int64_t> due;
  {
    // One lock per produce request's reports, not per record: this runs on the io thread.
    std::lock_guard lock(mutex_);
    for (const Producer::Delivery& d : deliveries) {
      const auto position = static_cast<std::int64_t>(d.tag);
      // A report from before a rewind finds no slot in flight and changes nothing.
      if (d.error == RD_KAFKA_RESP_ERR_NO_ERROR) {
        deliveries_.complete(position);
        continue;
      }
      if (!deliveries_.fail(position)) continue;
      if (!failed_) {
        last_error_ = std::string("delivery of position ") + std::to_string(position) +
                      " failed: " + rd_kafka_err2str(d.error);
      }
      failed_ = true;
    }
    due = save_due();
  }
  changed_.notify_all();
  if (due) save(*due);
}

std::optional<std::int64_t> OutboxRelay::save_due() {
  const std::int64_t acknowledged = deliveries_.done_through();
  if (save_in_flight_ || acknowledged <= saved_) return std::nullopt;
  save_in_flight_ = true;
  return acknowledged;
}

void OutboxRelay::save(std::int64_t position) {
  // One save at a time; the next one starts when it is durable, so saves ride along with the
  // log's group commits instead of adding a transaction per acknowledgement.
  cursors_.save(name(), position, [this, position](bool saved) {
    std::optional<std::int64_t> due;
    {
      std::lock_guard lock(mutex_);
      save_in_flight_ = false;
      if (saved) {
        saved_ = std::max(saved_, position);
        due = save_due();
      }
    }
    changed_.notify_all();
    if (due) save(*due);
  });
}

void OutboxRelay::finish(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  changed_.wait_until(lock, deadline, [this] { return deliveries_.in_flight() == 0 || failed_; });
  changed_.wait_until(lock, deadline,
                      [this] { return !save_in_flight_ && saved_ >= deliveries_.done_through(); });
}

void OutboxRelay::interrupt() {
  {
    std::lock_guard lock(mutex_);
    interrupted_ = true;
  }
  changed_.notify_all();
}

void OutboxRelay::restart_producer() {
  if (log_) log_("Kafka: recreating the producer after a fatal error");
  // Shared: if the wait below gives up, the posted work must not touch a dead promise.
  auto done = std::make_shared<std::promise<void>>();
  auto result = done->get_future();
  asio::post(io_, [this, done] {
    try {
      producer_.restart();
      done->set_value();
    } catch (...) {
      done->set_exception(std::current_exception());
    }
  });
  if (result.wait_for(options_.topic_timeout) != std::future_status::ready) {
    throw std::runtime_error("Kafka: the producer could not be recreated in time");
  }
  result.get();
}

RelayStatus OutboxRelay::status() const {
  std::lock_guard lock(mutex_);
  RelayStatus s;
  s.delivered = delivered_;
  s.acknowledged = deliveries_.done_through();
  s.saved = saved_;
  s.in_flight = deliveries_.in_flight();
  s.rewinds = rewinds_;
  s.topics_ready = topics_ready_;
  s.failing = failed_;
  s.last_error = last_error_;
  return s;
}

}  // namespace roombus::kafka
