// A low-latency Kafka consumer of every partition of one topic, for the bench/ tools that time
// records (kafka_watch, lifecycle_lag). Exits the process with a message on failure.
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace bench {

inline void set(rd_kafka_conf_t* conf, const char* tool, const char* key, const char* value) {
  char error[256];
  if (rd_kafka_conf_set(conf, key, value, error, sizeof error) != RD_KAFKA_CONF_OK) {
    std::fprintf(stderr, "%s: %s: %s\n", tool, key, error);
    std::exit(2);
  }
}

// A consumer assigned every partition of `topic` from `offset` (RD_KAFKA_OFFSET_END or
// _BEGINNING), without a consumer group's rebalance wait. Destroy with rd_kafka_consumer_close
// and rd_kafka_destroy.
inline rd_kafka_t* assigned_consumer(const char* tool, const char* bootstraps,
                                     const std::string& topic, std::int64_t offset) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set(conf, tool, "bootstrap.servers", bootstraps);
  set(conf, tool, "group.id", (std::string("roombus-bench-") + tool).c_str());
  set(conf, tool, "enable.auto.commit", "false");
  // Low latency on the consumer side: the lag measured should be the producer's.
  set(conf, tool, "fetch.wait.max.ms", "5");
  set(conf, tool, "fetch.error.backoff.ms", "5");
  char error[256];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
  if (rk == nullptr) {
    std::fprintf(stderr, "%s: %s\n", tool, error);
    std::exit(1);
  }
  rd_kafka_poll_set_consumer(rk);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_topic_t* handle = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  if (rd_kafka_metadata(rk, 0, handle, &md, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      md->topic_cnt != 1) {
    std::fprintf(stderr, "%s: no metadata for %s\n", tool, topic.c_str());
    std::exit(1);
  }
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(8);
  for (int p = 0; p < md->topics[0].partition_cnt; ++p) {
    rd_kafka_topic_partition_list_add(parts, topic.c_str(), p)->offset = offset;
  }
  rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(handle);
  rd_kafka_assign(rk, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  return rk;
}

}  // namespace bench
