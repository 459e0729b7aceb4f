// Producer: librdkafka's idempotent producer with its callbacks served on the io_context.
#include "roombus/kafka/producer.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <stdexcept>

#include "statistics.hpp"

namespace roombus::kafka {
namespace {

constexpr std::chrono::seconds kRepeatLogAfter{30};

}  // namespace

ConfPtr producer_conf(const Settings& settings) {
  return make_conf(settings,
                   {
                       {"client.id", "roombus"},
                       // Exactly one copy per record per partition, in order, on every replica.
                       {"enable.idempotence", "true"},
                       {"acks", "all"},
                       // Never give up on a record: an outage delays events, it does not drop
                       // them. The relay bounds what is in flight instead.
                       {"message.timeout.ms", "0"},
                       {"statistics.interval.ms", "1000"},
                       {"log.connection.close", "false"},
                   },
                   {"enable.idempotence", "acks", "request.required.acks"});
}

rd_kafka_resp_err_t produce_record(rd_kafka_t* rk, const Record& record, void* opaque) {
  // The array form of produceva: the RD_KAFKA_V_* macros' C casts trip -Wold-style-cast.
  std::vector<rd_kafka_vu_t> vu(5 + record.headers.size());
  std::size_t n = 0;
  vu[n].vtype = RD_KAFKA_VTYPE_TOPIC;
  vu[n++].u.cstr = record.topic.c_str();
  vu[n].vtype = RD_KAFKA_VTYPE_KEY;
  vu[n].u.mem.ptr = const_cast<char*>(record.key.data());
  vu[n++].u.mem.size = record.key.size();
  vu[n].vtype = RD_KAFKA_VTYPE_VALUE;
  // A tombstone's value is null, not empty: compaction deletes the key.
  vu[n].u.mem.ptr = record.tombstone ? nullptr : const_cast<char*>(record.value.data());
  vu[n++].u.mem.size = record.tombstone ? 0 : record.value.size();
  vu[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
  vu[n++].u.i = RD_KAFKA_MSG_F_COPY;
  vu[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
  vu[n++].u.ptr = opaque;
  for (const Header& h : record.headers) {
    vu[n].vtype = RD_KAFKA_VTYPE_HEADER;
    vu[n].u.header.name = h.name.c_str();
    vu[n].u.header.val = h.value.data();
    vu[n++].u.header.size = static_cast<ssize_t>(h.value.size());
  }
  rd_kafka_error_t* error = rd_kafka_produceva(rk, vu.data(), n);
  if (error == nullptr) return RD_KAFKA_RESP_ERR_NO_ERROR;
  const rd_kafka_resp_err_t code = rd_kafka_error_code(error);
  rd_kafka_error_destroy(error);
  return code;
}

struct Producer::Client {
  HandlePtr rk;
  QueuePtr main_queue;
  std::unique_ptr<QueueWaker> waker;
};

Producer::Producer(asio::io_context& io, Settings settings, LogFunction log)
    : io_(io), settings_(std::move(settings)), log_(std::move(log)) {
  client_ = make_client();
}

Producer::~Producer() {
  stop();
  client_.reset();
}

std::unique_ptr<Producer::Client> Producer::make_client() {
  ConfPtr conf = producer_conf(settings_);
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &Producer::on_message);
  rd_kafka_conf_set_error_cb(conf.get(), &Producer::on_error);
  rd_kafka_conf_set_stats_cb(conf.get(), &Producer::on_statistics);
  rd_kafka_conf_set_log_cb(conf.get(), &Producer::on_log);
  char error[512];
  auto client = std::make_unique<Client>();
  client->rk.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), error, sizeof error));
  if (!client->rk)
    throw std::runtime_error(std::string("cannot create a Kafka producer: ") + error);
  conf.release();  // rd_kafka_new() took it
  client->main_queue.reset(rd_kafka_queue_get_main(client->rk.get()));
  rd_kafka_t* rk = client->rk.get();
  client->waker = std::make_unique<QueueWaker>(io_, client->main_queue.get(), [rk] {
    while (rd_kafka_poll(rk, 0) > 0) {
    }
  });
  return client;
}

void Producer::start() {
  started_ = true;
  client_->waker->start();
}

void Producer::stop() {
  started_ = false;
  if (client_) client_->waker->stop();
}

void Producer::restart() {
  auto fresh = make_client();
  std::unique_ptr<Client> old;
  {
    std::unique_lock lock(client_mutex_);
    old = std::move(client_);
    client_ = std::move(fresh);
  }
  old->waker->stop();
  old.reset();
  {
    std::lock_guard lock(mutex_);
    status_.fatal = false;
    status_.statistics_seen = false;
    status_.brokers_up = 0;
  }
  if (started_) client_->waker->start();
}

rd_kafka_resp_err_t Producer::produce(const Record& record, std::uint64_t tag) {
  std::shared_lock lock(client_mutex_);
  return produce_record(client_->rk.get(), record,
                        reinterpret_cast<void*>(static_cast<std::uintptr_t>(tag)));
}

void Producer::purge() {
  std::shared_lock lock(client_mutex_);
  rd_kafka_purge(client_->rk.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT |
                                        RD_KAFKA_PURGE_F_NON_BLOCKING);
}

bool Producer::flush(std::chrono::milliseconds timeout) {
  std::shared_lock lock(client_mutex_);
  return rd_kafka_flush(client_->rk.get(), static_cast<int>(timeout.count())) ==
         RD_KAFKA_RESP_ERR_NO_ERROR;
}

void Producer::ensure_topics(const std::vector<std::string>& topics,
                             std::chrono::milliseconds timeout,
                             const std::vector<Property>& configs) {
  std::shared_lock lock(client_mutex_);
  rd_kafka_t* rk = client_->rk.get();
  const int timeout_ms = static_cast<int>(timeout.count());
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, nullptr, &metadata, timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error(std::string("cannot read the cluster's metadata: ") +
                             rd_kafka_err2str(err));
  }
  std::vector<std::string> missing;
  for (const std::string& name : topics) {
    bool found = false;
    for (int i = 0; i < metadata->topic_cnt; ++i) {
      found = found || (name == metadata->topics[i].topic &&
                        metadata->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    if (!found) missing.push_back(name);
  }
  rd_kafka_metadata_destroy(metadata);
  if (missing.empty()) return;

  std::vector<rd_kafka_NewTopic_t*> requests;
  char error[512];
  for (const std::string& name : missing) {
    rd_kafka_NewTopic_t* topic = rd_kafka_NewTopic_new(
        name.c_str(), settings_.partitions, settings_.replication_factor, error, sizeof error);
    if (topic == nullptr) {
      for (auto* t : requests) rd_kafka_NewTopic_destroy(t);
      throw std::runtime_error("cannot create topic " + name + ": " + error);
    }
    requests.push_back(topic);
    for (const auto& [key, value] : configs) {
      if (rd_kafka_NewTopic_set_config(topic, key.c_str(), value.c_str()) !=
          RD_KAFKA_RESP_ERR_NO_ERROR) {
        for (auto* t : requests) rd_kafka_NewTopic_destroy(t);
        throw std::runtime_error("cannot set " + key + " on topic " + name);
      }
    }
  }
  QueuePtr queue(rd_kafka_queue_new(rk));
  rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_request_timeout(options, timeout_ms, error, sizeof error);
  rd_kafka_CreateTopics(rk, requests.data(), requests.size(), options, queue.get());
  rd_kafka_AdminOptions_destroy(options);
  rd_kafka_NewTopic_destroy_array(requests.data(), requests.size());

  EventPtr event(rd_kafka_queue_poll(queue.get(), timeout_ms + 1000));
  if (!event) throw std::runtime_error("creating topics timed out");
  err = rd_kafka_event_error(event.get());
  if (err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE) {
    if (log_) {
      log_("Kafka: the cluster cannot create topics through the Admin API (" +
           std::string(rd_kafka_event_error_string(event.get())) +
           "); relying on automatic topic creation for the missing ones");
    }
    return;
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error(std::string("creating topics failed: ") +
                             rd_kafka_event_error_string(event.get()));
  }
  std::size_t count = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event.get()), &count);
  for (std::size_t i = 0; i < count; ++i) {
    const rd_kafka_resp_err_t topic_err = rd_kafka_topic_result_error(results[i]);
    if (topic_err == RD_KAFKA_RESP_ERR_NO_ERROR ||
        topic_err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      if (topic_err == RD_KAFKA_RESP_ERR_NO_ERROR && log_) {
        log_("Kafka: created topic " + std::string(rd_kafka_topic_result_name(results[i])));
      }
      continue;
    }
    const char* text = rd_kafka_topic_result_error_string(results[i]);
    throw std::runtime_error("cannot create topic " +
                             std::string(rd_kafka_topic_result_name(results[i])) + ": " +
                             (text != nullptr ? text : rd_kafka_err2str(topic_err)));
  }
}

ProducerStatus Producer::status() const {
  ProducerStatus s;
  {
    std::lock_guard lock(mutex_);
    s = status_;
  }
  std::shared_lock lock(client_mutex_);
  s.queued = rd_kafka_outq_len(client_->rk.get());
  return s;
}

void Producer::note_error(std::string text) {
  bool log = false;
  {
    std::lock_guard lock(mutex_);
    status_.last_error = text;
    const auto now = std::chrono::steady_clock::now();
    // Brokers that stay down repeat the same error every few seconds: one line is enough.
    if (text != last_logged_ || now - last_logged_at_ >= kRepeatLogAfter) {
      last_logged_ = text;
      last_logged_at_ = now;
      log = true;
    }
  }
  if (log && log_) log_("Kafka: " + text);
}

void Producer::on_message(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  auto& self = *static_cast<Producer*>(opaque);
  const auto tag = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(message->_private));
  {
    std::lock_guard lock(self.mutex_);
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      ++self.status_.delivered;
    } else {
      ++self.status_.delivery_errors;
    }
  }
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR &&
      message->err != RD_KAFKA_RESP_ERR__PURGE_QUEUE &&
      message->err != RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
    self.note_error(std::string("delivery failed: ") + rd_kafka_err2str(message->err));
  }
  if (self.on_delivery_) self.on_delivery_(tag, message->err);
}

void Producer::on_error(rd_kafka_t* rk, int error, const char* reason, void* opaque) {
  auto& self = *static_cast<Producer*>(opaque);
  if (error == RD_KAFKA_RESP_ERR__FATAL) {
    char text[512];
    rd_kafka_fatal_error(rk, text, sizeof text);
    {
      std::lock_guard lock(self.mutex_);
      self.status_.fatal = true;
    }
    self.note_error(std::string("fatal producer error: ") + text);
    return;
  }
  self.note_error(reason != nullptr ? reason
                                    : rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(error)));
}

int Producer::on_statistics(rd_kafka_t*, char* json, std::size_t length, void* opaque) {
  auto& self = *static_cast<Producer*>(opaque);
  rapidjson::Document doc;
  doc.Parse(json, length);
  if (doc.HasParseError() || !doc.IsObject()) return 0;
  const int up = detail::brokers_up(doc);
  std::lock_guard lock(self.mutex_);
  self.status_.brokers_up = up;
  self.status_.statistics_seen = true;
  return 0;  // librdkafka frees `json`
}

void Producer::on_log(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  auto& self = *static_cast<Producer*>(rd_kafka_opaque(rk));
  // Levels are syslog's: 0-3 errors, 4 warnings; what matters reaches us through on_error.
  if (level > 4 || !self.log_) return;
  self.log_(std::string("Kafka ") + facility + ": " + message);
}

}  // namespace roombus::kafka
