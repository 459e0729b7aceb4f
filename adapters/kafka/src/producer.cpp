// Producer: librdkafka's idempotent producer with its callbacks served on the io_context.
#include "roombus/kafka/producer.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <cstring>
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
  // Events, not callbacks: a delivery-report event carries a whole produce request's reports.
  rd_kafka_conf_set_events(conf.get(),
                           RD_KAFKA_EVENT_DR | RD_KAFKA_EVENT_ERROR | RD_KAFKA_EVENT_STATS);
  rd_kafka_conf_set_log_cb(conf.get(), &Producer::on_log);
  char error[512];
  auto client = std::make_unique<Client>();
  client->rk.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), error, sizeof error));
  if (!client->rk)
    throw std::runtime_error(std::string("cannot create a Kafka producer: ") + error);
  conf.release();  // rd_kafka_new() took it
  client->main_queue.reset(rd_kafka_queue_get_main(client->rk.get()));
  rd_kafka_t* rk = client->rk.get();
  rd_kafka_queue_t* queue = client->main_queue.get();
  client->waker =
      std::make_unique<QueueWaker>(io_, queue, [this, rk, queue] { serve(rk, queue, 0); });
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
  // With delivery reports as events, rd_kafka_flush() would not serve them: wait here, serving.
  rd_kafka_t* rk = client_->rk.get();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (rd_kafka_outq_len(rk) > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    serve(rk, client_->main_queue.get(), static_cast<int>(std::min<long long>(left.count(), 10)));
  }
  return true;
}

void Producer::ensure_topics(const std::vector<std::string>& topics,
                             std::chrono::milliseconds timeout,
                             const std::vector<Property>& configs,
                             const std::function<bool()>& give_up) {
  using Clock = std::chrono::steady_clock;
  constexpr std::chrono::milliseconds kSlice{500};
  std::shared_lock lock(client_mutex_);
  rd_kafka_t* rk = client_->rk.get();
  const int timeout_ms = static_cast<int>(timeout.count());
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  if (!give_up) {
    err = rd_kafka_metadata(rk, 1, nullptr, &metadata, timeout_ms);
  } else {
    // Slices of the timeout: with no broker up, librdkafka waits out each one and reports a
    // transport failure; an answer that comes at once (an error of the cluster) ends it.
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      const auto began = Clock::now();
      const auto slice = std::min<Clock::duration>(kSlice, deadline - began);
      const auto slice_ms = std::chrono::duration_cast<std::chrono::milliseconds>(slice);
      err = rd_kafka_metadata(rk, 1, nullptr, &metadata,
                              static_cast<int>(std::max<std::int64_t>(slice_ms.count(), 1)));
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      const bool waited_out = Clock::now() - began >= slice / 2;
      if (!waited_out || Clock::now() >= deadline || give_up()) break;
    }
  }
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

void Producer::serve(rd_kafka_t* rk, rd_kafka_queue_t* queue, int timeout_ms) {
  for (EventPtr event(rd_kafka_queue_poll(queue, timeout_ms)); event;
       event.reset(rd_kafka_queue_poll(queue, 0))) {
    switch (rd_kafka_event_type(event.get())) {
      case RD_KAFKA_EVENT_DR: {
        batch_.clear();
        while (const rd_kafka_message_t* m = rd_kafka_event_message_next(event.get())) {
          batch_.push_back(
              {static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(m->_private)), m->err});
        }
        delivered(batch_);
        break;
      }
      case RD_KAFKA_EVENT_ERROR:
        on_error(rk, rd_kafka_event_error(event.get()), rd_kafka_event_error_string(event.get()),
                 rd_kafka_event_error_is_fatal(event.get()) != 0);
        break;
      case RD_KAFKA_EVENT_STATS: {
        const char* json = rd_kafka_event_stats(event.get());
        if (json != nullptr) on_statistics(json, std::strlen(json));
        break;
      }
      default:
        break;
    }
  }
}

void Producer::delivered(std::span<const Delivery> deliveries) {
  const char* failure = nullptr;
  {
    std::lock_guard lock(mutex_);
    for (const Delivery& d : deliveries) {
      if (d.error == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ++status_.delivered;
        continue;
      }
      ++status_.delivery_errors;
      if (d.error != RD_KAFKA_RESP_ERR__PURGE_QUEUE &&
          d.error != RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
        failure = rd_kafka_err2str(d.error);
      }
    }
  }
  if (failure != nullptr) note_error(std::string("delivery failed: ") + failure);
  if (on_deliveries_) {
    on_deliveries_(deliveries);
  } else if (on_delivery_) {
    for (const Delivery& d : deliveries) on_delivery_(d.tag, d.error);
  }
}

void Producer::on_error(rd_kafka_t* rk, rd_kafka_resp_err_t error, const char* reason, bool fatal) {
  if (fatal || error == RD_KAFKA_RESP_ERR__FATAL) {
    char text[512];
    rd_kafka_fatal_error(rk, text, sizeof text);
    {
      std::lock_guard lock(mutex_);
      status_.fatal = true;
    }
    note_error(std::string("fatal producer error: ") + text);
    return;
  }
  note_error(reason != nullptr ? reason : rd_kafka_err2str(error));
}

void Producer::on_statistics(const char* json, std::size_t length) {
  rapidjson::Document doc;
  doc.Parse(json, length);
  if (doc.HasParseError() || !doc.IsObject()) return;
  const int up = detail::brokers_up(doc);
  std::lock_guard lock(mutex_);
  status_.brokers_up = up;
  status_.statistics_seen = true;
}

void Producer::on_log(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
  auto& self = *static_cast<Producer*>(rd_kafka_opaque(rk));
  // Levels are syslog's: 0-3 errors, 4 warnings; what matters reaches us through on_error.
  if (level > 4 || !self.log_) return;
  self.log_(std::string("Kafka ") + facility + ": " + message);
}

}  // namespace roombus::kafka
