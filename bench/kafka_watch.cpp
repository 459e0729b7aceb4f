// Reads a topic as it fills and writes "key seen_ns" per record (steady clock, comparable with
// http_load --trace): the consumer side of bench/run-kafka-bench's publish-lag measurement.
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "bench_consumer.hpp"

namespace {

[[noreturn]] void usage() {
  std::fprintf(stderr, "usage: kafka_watch BOOTSTRAPS TOPIC SECONDS OUT_FILE\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) usage();
  const std::string topic = argv[2];
  const double seconds = std::atof(argv[3]);
  std::FILE* out = std::fopen(argv[4], "w");
  if (out == nullptr || seconds <= 0) usage();

  rd_kafka_t* rk = bench::assigned_consumer("kafka_watch", argv[1], topic, RD_KAFKA_OFFSET_END);
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
