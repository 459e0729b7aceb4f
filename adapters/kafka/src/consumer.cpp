// Consumer: a group member on the io_context, offsets stored by hand once a message is done.
#include "roombus/kafka/consumer.hpp"

#include <asio/post.hpp>
#include <cstring>
#include <stdexcept>

#include "statistics.hpp"

namespace roombus::kafka {
namespace {

struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

PartitionList list_of(const std::vector<TopicPartition>& partitions) {
  PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const auto& [topic, partition] : partitions) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition);
  }
  return list;
}

std::vector<TopicPartition> partitions_of(const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartition> out;
  for (int i = 0; i < list->cnt; ++i)
    out.emplace_back(list->elems[i].topic, list->elems[i].partition);
  return out;
}

}  // namespace

Message copy_message(const rd_kafka_message_t& m) {
  Message out;
  out.topic = rd_kafka_topic_name(m.rkt);
  out.partition = m.partition;
  out.offset = m.offset;
  if (m.key != nullptr) out.key.assign(static_cast<const char*>(m.key), m.key_len);
  if (m.payload != nullptr) out.value.assign(static_cast<const char*>(m.payload), m.len);
  rd_kafka_headers_t* headers = nullptr;
  // The message keeps ownership of its headers.
  if (rd_kafka_message_headers(&m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name = nullptr;
    const void* value = nullptr;
    std::size_t size = 0;
    for (std::size_t i = 0;
         rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
      out.headers.push_back(
          {name, value != nullptr ? std::string(static_cast<const char*>(value), size) : ""});
    }
  }
  return out;
}

ConfPtr consumer_conf(const Settings& settings, const std::string& group) {
  return make_conf(settings,
                   {
                       {"client.id", "roombus"},
                       {"group.id", group},
                       // A new group starts at the oldest command still kept, not the newest.
                       {"auto.offset.reset", "earliest"},
                       // Offsets are stored by hand once a command's outcome is durable and its
                       // result acknowledged; stored offsets are committed every 5 s and at
                       // every revoke.
                       {"enable.auto.offset.store", "false"},
                       {"enable.auto.commit", "true"},
                       {"enable.partition.eof", "false"},
                       {"statistics.interval.ms", "1000"},
                       {"log.connection.close", "false"},
                   },
                   {"group.id", "enable.auto.offset.store", "enable.auto.commit"});
}

Consumer::Consumer(asio::io_context& io, const Settings& settings, std::string group,
                   std::vector<std::string> topics, LogFunction log)
    : io_(io), topics_(std::move(topics)), log_(std::move(log)), poll_timer_(io) {
  ConfPtr conf = consumer_conf(settings, group);
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_rebalance_cb(conf.get(), &Consumer::on_rebalance);
  rd_kafka_conf_set_error_cb(conf.get(), &Consumer::on_error);
  rd_kafka_conf_set_stats_cb(conf.get(), &Consumer::on_statistics);
  rd_kafka_conf_set_log_cb(conf.get(), &Consumer::on_log);
  char error[512];
  rk_.reset(rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), error, sizeof error));
  if (!rk_) throw std::runtime_error(std::string("cannot create a Kafka consumer: ") + error);
  conf.release();
  // One queue for messages, rebalances and errors, served by consumer_poll.
  rd_kafka_poll_set_consumer(rk_.get());
  queue_.reset(rd_kafka_queue_get_consumer(rk_.get()));
  waker_ = std::make_unique<QueueWaker>(io_, queue_.get(), [this] { drain(); });
}

Consumer::~Consumer() {
  close();
  waker_.reset();
}

void Consumer::start(MessageHandler on_message, RevokeHandler on_revoke, BatchSize batch) {
  on_message_ = std::move(on_message);
  on_revoke_ = std::move(on_revoke);
  batch_ = std::move(batch);
  rd_kafka_topic_partition_list_t* topics =
      rd_kafka_topic_partition_list_new(static_cast<int>(topics_.size()));
  for (const auto& t : topics_) {
    rd_kafka_topic_partition_list_add(topics, t.c_str(), RD_KAFKA_PARTITION_UA);
  }
  const rd_kafka_resp_err_t err = rd_kafka_subscribe(rk_.get(), topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error(std::string("cannot subscribe: ") + rd_kafka_err2str(err));
  }
  waker_->start();
  tick();
}

void Consumer::tick() {
  poll_timer_.expires_after(std::chrono::seconds(1));
  poll_timer_.async_wait([this](std::error_code ec) {
    if (ec || closed_) return;
    drain();
    tick();
  });
}

void Consumer::drain() {
  const std::size_t batch = batch_ ? std::max<std::size_t>(batch_(), 1) : 64;
  for (std::size_t n = 0; n < batch; ++n) {
    // Polled while paused too (rebalances, errors, the poll interval): librdkafka drops the
    // fetched messages of a partition it pauses and fetches them again after resume. Not while
    // held: those messages are to wait.
    if (closed_ || (held_ && !paused_)) return;
    MessagePtr m(rd_kafka_consumer_poll(rk_.get(), 0));
    if (!m) return;  // the queue is empty: the next message writes to the pipe again
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        std::lock_guard lock(mutex_);
        status_.last_error = rd_kafka_message_errstr(m.get());
      }
      continue;
    }
    if (on_message_) on_message_(copy_message(*m));
  }
  // More may be waiting: go on after whatever else the io_context has to do (HTTP).
  if (!drain_posted_) {
    drain_posted_ = true;
    asio::post(io_, [this] {
      drain_posted_ = false;
      drain();
    });
  }
}

void Consumer::set_paused(bool paused) {
  if (paused_ == paused || closed_) return;
  paused_ = paused;
  if (!assignment_.empty()) {
    PartitionList list = list_of(assignment_);
    if (paused) {
      rd_kafka_pause_partitions(rk_.get(), list.get());
    } else {
      rd_kafka_resume_partitions(rk_.get(), list.get());
    }
  }
  std::lock_guard lock(mutex_);
  status_.paused = paused;
}

void Consumer::hold() { held_ = true; }

void Consumer::pause() {
  held_ = true;
  set_paused(true);
}

void Consumer::resume() {
  held_ = false;
  set_paused(false);
  drain();
}

void Consumer::store_offset(const TopicPartition& partition, std::int64_t next_offset) {
  if (closed_) return;
  PartitionList list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), partition.first.c_str(), partition.second)->offset =
      next_offset;
  // Fails for a partition that is no longer ours: its new owner runs those commands again.
  (void)rd_kafka_offsets_store(rk_.get(), list.get());
}

void Consumer::close() {
  if (closed_ || !rk_) return;
  closed_ = true;
  if (waker_) waker_->stop();
  poll_timer_.cancel();
  // Serves the final revoke (which commits the stored offsets) on this thread.
  rd_kafka_consumer_close(rk_.get());
}

ConsumerStatus Consumer::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

void Consumer::on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t error,
                            rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  auto& self = *static_cast<Consumer*>(opaque);
  const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
  const std::vector<TopicPartition> changed = partitions_of(partitions);
  if (error == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    if (cooperative) {
      rd_kafka_error_destroy(rd_kafka_incremental_assign(rk, partitions));
      self.assignment_.insert(self.assignment_.end(), changed.begin(), changed.end());
    } else {
      rd_kafka_assign(rk, partitions);
      self.assignment_ = changed;
    }
    // Paused for backpressure: new partitions wait too.
    if (self.paused_) rd_kafka_pause_partitions(rk, partitions);
  } else {
    // Revoked (or lost): commit what is done while the partitions are still ours.
    if (error == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS && !rd_kafka_assignment_lost(rk)) {
      rd_kafka_commit(rk, nullptr, 0);
    }
    if (self.on_revoke_) self.on_revoke_(changed);
    if (cooperative) {
      rd_kafka_error_destroy(rd_kafka_incremental_unassign(rk, partitions));
      std::erase_if(self.assignment_, [&](const TopicPartition& p) {
        return std::find(changed.begin(), changed.end(), p) != changed.end();
      });
    } else {
      rd_kafka_assign(rk, nullptr);
      self.assignment_.clear();
    }
  }
  std::lock_guard lock(self.mutex_);
  self.status_.assigned = self.assignment_.size();
}

void Consumer::on_error(rd_kafka_t*, int error, const char* reason, void* opaque) {
  auto& self = *static_cast<Consumer*>(opaque);
  std::string text =
      reason != nullptr ? reason : rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(error));
  {
    std::lock_guard lock(self.mutex_);
    if (self.status_.last_error == text) return;
    self.status_.last_error = text;
  }
  if (self.log_) self.log_("Kafka consumer: " + text);
}

int Consumer::on_statistics(rd_kafka_t*, char* json, std::size_t length, void* opaque) {
  auto& self = *static_cast<Consumer*>(opaque);
  rapidjson::Document doc;
  doc.Parse(json, length);
  if (doc.HasParseError() || !doc.IsObject()) return 0;
  const int up = detail::brokers_up(doc);
  auto lag = detail::consumer_lag(doc);
  std::lock_guard lock(self.mutex_);
  self.status_.brokers_up = up;
  self.status_.statistics_seen = true;
  self.status_.lag = std::move(lag);
  return 0;
}

void Consumer::on_log(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  auto& self = *static_cast<Consumer*>(rd_kafka_opaque(rk));
  if (level > 4 || !self.log_) return;
  self.log_(std::string("Kafka consumer ") + facility + ": " + message);
}

}  // namespace roombus::kafka
