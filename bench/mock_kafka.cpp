// A librdkafka mock cluster as a process of its own, for benchmarks and trying roombus's Kafka
// output without a broker: prints "bootstraps=HOST:PORT" and serves until SIGINT or SIGTERM.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "support/kafka_mock.hpp"

int main(int argc, char** argv) {
  // mock_kafka [BROKERS] [TOPIC:PARTITIONS ...]
  const int brokers = argc > 1 ? std::atoi(argv[1]) : 1;
  if (brokers < 1) {
    std::fprintf(stderr, "usage: mock_kafka [BROKERS] [TOPIC:PARTITIONS ...]\n");
    return 2;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  // Blocked before the cluster's threads start, so only sigwait() below takes them.
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  roombus::test::MockCluster cluster(brokers);
  for (int i = 2; i < argc; ++i) {
    const std::string spec = argv[i];
    const auto colon = spec.rfind(':');
    const int partitions = colon == std::string::npos ? 1 : std::atoi(spec.c_str() + colon + 1);
    cluster.create_topic(spec.substr(0, colon), partitions < 1 ? 1 : partitions);
  }
  std::printf("bootstraps=%s\n", cluster.bootstraps().c_str());
  std::fflush(stdout);
  int received = 0;
  sigwait(&signals, &received);
  return 0;
}
