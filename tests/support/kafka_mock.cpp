// Test support implementation: the mock cluster and the topic reader.
#include "support/kafka_mock.hpp"

#include <librdkafka/rdkafka.h>
// After rdkafka.h: the mock header refuses to be first.
#include <librdkafka/rdkafka_mock.h>

#include <stdexcept>

namespace roombus::test {
namespace {

kafka::ConfPtr conf_of(std::initializer_list<std::pair<const char*, const char*>> items) {
  kafka::ConfPtr conf(rd_kafka_conf_new());
  char error[512];
  for (const auto& [key, value] : items) {
    if (rd_kafka_conf_set(conf.get(), key, value, error, sizeof error) != RD_KAFKA_CONF_OK) {
      throw std::runtime_error(std::string(key) + ": " + error);
    }
  }
  return conf;
}

kafka::HandlePtr make_handle(rd_kafka_type_t type, kafka::ConfPtr conf) {
  char error[512];
  kafka::HandlePtr rk(rd_kafka_new(type, conf.get(), error, sizeof error));
  if (!rk) throw std::runtime_error(std::string("rd_kafka_new: ") + error);
  conf.release();
  return rk;
}

}  // namespace

struct MockCluster::Impl {
  kafka::HandlePtr owner;  // the mock cluster lives inside a client handle
  rd_kafka_mock_cluster_t* cluster = nullptr;
};

MockCluster::MockCluster(int brokers) : impl_(std::make_unique<Impl>()) {
  // Quiet: the owner handle itself never connects anywhere.
  impl_->owner = make_handle(RD_KAFKA_PRODUCER, conf_of({{"log_level", "0"}}));
  impl_->cluster = rd_kafka_mock_cluster_new(impl_->owner.get(), brokers);
  if (impl_->cluster == nullptr) throw std::runtime_error("cannot create the mock cluster");
  bootstraps_ = rd_kafka_mock_cluster_bootstraps(impl_->cluster);
}

MockCluster::~MockCluster() {
  if (impl_->cluster != nullptr) rd_kafka_mock_cluster_destroy(impl_->cluster);
}

void MockCluster::create_topic(const std::string& name, int partitions) {
  rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(impl_->cluster, name.c_str(), partitions, 1);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error("mock topic " + name + ": " + rd_kafka_err2str(err));
  }
}

void MockCluster::set_down() { rd_kafka_mock_broker_set_down(impl_->cluster, -1); }
void MockCluster::set_up() { rd_kafka_mock_broker_set_up(impl_->cluster, -1); }
void MockCluster::set_rtt(milliseconds rtt) {
  rd_kafka_mock_broker_set_rtt(impl_->cluster, -1, static_cast<int>(rtt.count()));
}

std::string ConsumedRecord::header(std::string_view name) const {
  for (const auto& h : headers) {
    if (h.name == name) return h.value;
  }
  return "";
}

struct TopicReader::Impl {
  kafka::HandlePtr consumer;
};

TopicReader::TopicReader(const std::string& bootstraps, std::vector<std::string> topics)
    : impl_(std::make_unique<Impl>()) {
  impl_->consumer =
      make_handle(RD_KAFKA_CONSUMER, conf_of({{"bootstrap.servers", bootstraps.c_str()},
                                              {"group.id", "roombus-test-reader"},
                                              {"enable.auto.commit", "false"},
                                              {"enable.partition.eof", "false"},
                                              {"log_level", "3"}}));
  rd_kafka_poll_set_consumer(impl_->consumer.get());
  rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(8);
  for (const std::string& topic : topics) {
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_topic_t* handle = rd_kafka_topic_new(impl_->consumer.get(), topic.c_str(), nullptr);
    rd_kafka_resp_err_t err = rd_kafka_metadata(impl_->consumer.get(), 0, handle, &md, 5000);
    rd_kafka_topic_destroy(handle);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1 ||
        md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (md != nullptr) rd_kafka_metadata_destroy(md);
      rd_kafka_topic_partition_list_destroy(assignment);
      throw std::runtime_error("no metadata for topic " + topic);
    }
    for (int p = 0; p < md->topics[0].partition_cnt; ++p) {
      rd_kafka_topic_partition_list_add(assignment, topic.c_str(), p)->offset =
          RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_metadata_destroy(md);
  }
  rd_kafka_assign(impl_->consumer.get(), assignment);
  rd_kafka_topic_partition_list_destroy(assignment);
}

TopicReader::~TopicReader() {
  if (impl_->consumer) rd_kafka_consumer_close(impl_->consumer.get());
}

void TopicReader::poll(milliseconds timeout) {
  kafka::MessagePtr message(
      rd_kafka_consumer_poll(impl_->consumer.get(), static_cast<int>(timeout.count())));
  if (!message || message->err != RD_KAFKA_RESP_ERR_NO_ERROR) return;
  ConsumedRecord r;
  static_cast<kafka::Message&>(r) = kafka::copy_message(*message);
  r.timestamp_ms = rd_kafka_message_timestamp(message.get(), nullptr);
  records_.push_back(std::move(r));
}

const std::vector<ConsumedRecord>& TopicReader::read_until(std::size_t count,
                                                           milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (records_.size() < count && std::chrono::steady_clock::now() < deadline) {
    poll(milliseconds(100));
  }
  return records_;
}

const std::vector<ConsumedRecord>& TopicReader::read_for(milliseconds how_long) {
  const auto deadline = std::chrono::steady_clock::now() + how_long;
  while (std::chrono::steady_clock::now() < deadline) poll(milliseconds(50));
  return records_;
}

}  // namespace roombus::test
