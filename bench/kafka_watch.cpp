// Reads a topic as it fills and writes "key seen_ns" per record (steady clock, comparable with
// http_load --trace): the consumer side of bench/run-kafka-bench's publish-lag measurement.
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

[[noreturn]] void usage() {
  std::fprintf(stderr, "usage: kafka_watch BOOTSTRAPS TOPIC SECONDS OUT_FILE\n");
  std::exit(2);
}

void set(rd_kafka_conf_t* conf, const char* key, const char* value) {
  char error[256];
  if (rd_kafka_conf_set(conf, key, value, error, sizeof error) != RD_KAFKA_CONF_OK) {
    std::fprintf(stderr, "kafka_watch: %s: %s\n", key, error);
    std::exit(2);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) usage();
  const std::string topic = argv[2];
  const double seconds = std::atof(argv[3]);
  std::FILE* out = std::fopen(argv[4], "w");
  if (out == nullptr || seconds <= 0) usage();

  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", argv[1]);
  set(conf, "group.id", "roombus-bench-watch");
  set(conf, "enable.auto.commit", "false");
  // Low latency on the consumer side: the lag measured should be the producer's.
  set(conf, "fetch.wait.max.ms", "5");
  set(conf, "fetch.error.backoff.ms", "5");
  char error[256];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
  if (rk == nullptr) {
    std::fprintf(stderr, "kafka_watch: %s\n", error);
    return 1;
  }
  rd_kafka_poll_set_consumer(rk);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_topic_t* handle = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  if (rd_kafka_metadata(rk, 0, handle, &md, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      md->topic_cnt != 1) {
    std::fprintf(stderr, "kafka_watch: no metadata for %s\n", topic.c_str());
    return 1;
  }
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(8);
  for (int p = 0; p < md->topics[0].partition_cnt; ++p) {
    rd_kafka_topic_partition_list_add(parts, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_END;
  }
  rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(handle);
  rd_kafka_assign(rk, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  std::printf("watching\n");
  std::fflush(stdout);

  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 50);
    if (m == nullptr) continue;
    const auto now = std::chrono::steady_clock::now().time_since_epoch();
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && m->key != nullptr) {
      std::fprintf(out, "%.*s %lld\n", static_cast<int>(m->key_len),
                   static_cast<const char*>(m->key),
                   static_cast<long long>(
                       std::chrono::duration_cast<std::chrono::nanoseconds>(now).count()));
    }
    rd_kafka_message_destroy(m);
  }
  std::fclose(out);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return 0;
}
