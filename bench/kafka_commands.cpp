// Kafka commands end to end: publishes N room.create commands to <prefix>commands as fast as it
// can and times until N results are on <prefix>command-results (produce -> result record).
// Prints one line of key=value pairs for bench/run-commands-bench.
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "bench_consumer.hpp"

namespace {

[[noreturn]] void usage() {
  std::fprintf(stderr, "usage: kafka_commands BOOTSTRAPS API_KEY COUNT RUN_NAME [TIMEOUT_S]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) usage();
  const char* bootstraps = argv[1];
  const std::string key = argv[2];
  const long count = std::atol(argv[3]);
  const std::string run = argv[4];
  const double timeout = argc > 5 ? std::atof(argv[5]) : 120;
  if (count <= 0) usage();

  rd_kafka_t* results = bench::assigned_consumer("kafka_commands", bootstraps,
                                                 "roombus.command-results", RD_KAFKA_OFFSET_END);
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  bench::set(conf, "kafka_commands", "bootstrap.servers", bootstraps);
  bench::set(conf, "kafka_commands", "linger.ms", "2");
  char error[256];
  rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
  if (producer == nullptr) {
    std::fprintf(stderr, "kafka_commands: %s\n", error);
    return 1;
  }
  const std::string auth = "Bearer " + key;
  const auto started = std::chrono::steady_clock::now();
  for (long i = 0; i < count; ++i) {
    const std::string id = run + "-" + std::to_string(i);
    // Keys spread the commands over the topic's partitions, as many producers' rooms would.
    const std::string record_key = "k" + std::to_string(i % 64);
    const std::string value =
        R"({"id":")" + id +
        R"(","type":"room.create","data":{"server":"meet.example.com","email":"alice@x.de",)"
        R"("name":"Bench","start":"2030-01-01T10:00","duration":30}})";
    rd_kafka_vu_t vu[5] = {};
    vu[0].vtype = RD_KAFKA_VTYPE_TOPIC;
    vu[0].u.cstr = "roombus.commands";
    vu[1].vtype = RD_KAFKA_VTYPE_KEY;
    vu[1].u.mem.ptr = const_cast<char*>(record_key.data());
    vu[1].u.mem.size = record_key.size();
    vu[2].vtype = RD_KAFKA_VTYPE_VALUE;
    vu[2].u.mem.ptr = const_cast<char*>(value.data());
    vu[2].u.mem.size = value.size();
    vu[3].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    vu[3].u.i = RD_KAFKA_MSG_F_COPY;
    vu[4].vtype = RD_KAFKA_VTYPE_HEADER;
    vu[4].u.header.name = "authorization";
    vu[4].u.header.val = auth.data();
    vu[4].u.header.size = static_cast<ssize_t>(auth.size());
    while (rd_kafka_error_t* e = rd_kafka_produceva(producer, vu, 5)) {
      // Queue full: let it drain.
      rd_kafka_error_destroy(e);
      rd_kafka_poll(producer, 10);
    }
    rd_kafka_poll(producer, 0);
  }
  rd_kafka_flush(producer, 30000);
  const auto produced = std::chrono::steady_clock::now();

  std::set<std::string> seen;
  long errors = 0;
  const auto until = started + std::chrono::duration<double>(timeout);
  while (static_cast<long>(seen.size()) < count && std::chrono::steady_clock::now() < until) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(results, 50);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && m->key != nullptr) {
      const std::string id(static_cast<const char*>(m->key), m->key_len);
      if (id.rfind(run + "-", 0) == 0 && seen.insert(id).second && m->payload != nullptr &&
          std::string_view(static_cast<const char*>(m->payload), m->len).find("\"error\":false") ==
              std::string_view::npos) {
        ++errors;
      }
    }
    rd_kafka_message_destroy(m);
  }
  const auto done = std::chrono::steady_clock::now();
  const double seconds = std::chrono::duration<double>(done - started).count();
  std::printf("commands=%ld results=%zu errors=%ld seconds=%.3f produce_s=%.3f rps=%.0f\n", count,
              seen.size(), errors, seconds,
              std::chrono::duration<double>(produced - started).count(),
              static_cast<double>(seen.size()) / seconds);
  rd_kafka_destroy(producer);
  rd_kafka_consumer_close(results);
  rd_kafka_destroy(results);
  return static_cast<long>(seen.size()) == count ? 0 : 1;
}
