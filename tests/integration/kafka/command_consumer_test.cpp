// The command consumer itself on librdkafka's mock cluster: how many commands it lets into the
// core at once, and that its waiting ones keep their partition's order.
#include "roombus/consumers/command_consumer.hpp"

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "support/kafka_mock.hpp"

using namespace roombus;
using namespace std::chrono_literals;

namespace {

// What the runner saw: how many commands were in it at once, and in which order each key's
// commands entered it.
struct RunnerProbe {
  explicit RunnerProbe(asio::io_context& context) : io(context) {}
  asio::io_context& io;
  int running = 0;
  int most = 0;
  std::map<std::string, std::vector<int>> started;  // record key -> sequence numbers
};

// A runner slow enough (5 ms a command) that a backlog piles up before it.
asio::awaitable<consumers::CommandResult> slow_run(RunnerProbe& probe,
                                                   consumers::CommandRecord record) {
  ++probe.running;
  probe.most = std::max(probe.most, probe.running);
  const auto dash = record.id.find('-');
  probe.started[record.id.substr(0, dash)].push_back(std::stoi(record.id.substr(dash + 1)));
  asio::steady_timer timer(probe.io, 5ms);
  co_await timer.async_wait(asio::use_awaitable);
  --probe.running;
  co_return consumers::CommandResult{R"({"error":false})", 200, true};
}

// What a backlog of kKeys x kPerKey commands did in a CommandConsumer with these options.
struct BacklogRun {
  std::size_t results = 0;
  int most = 0;
  std::map<std::string, std::vector<int>> started;
};

constexpr int kKeys = 4;
constexpr int kPerKey = 15;

BacklogRun run_backlog(consumers::CommandConsumerOptions options) {
  test::MockCluster cluster;
  cluster.create_topic("roombus.commands", 3);
  cluster.create_topic("roombus.command-results", 1);
  cluster.create_topic("roombus.commands.dlq", 1);
  {
    test::TopicWriter writer(cluster.bootstraps());
    for (int i = 0; i < kPerKey; ++i) {
      for (int k = 0; k < kKeys; ++k) {
        const std::string id = "k" + std::to_string(k) + "-" + std::to_string(i);
        writer.send("roombus.commands", "k" + std::to_string(k),
                    R"({"id":")" + id + R"(","type":"room.delete","data":{"uid":"x"}})",
                    {{"authorization", "Bearer key"}});
      }
    }
  }
  asio::io_context io;
  RunnerProbe probe(io);
  kafka::Settings settings;
  settings.brokers = cluster.bootstraps();
  consumers::CommandConsumer consumer(
      io, settings, [&probe](consumers::CommandRecord r) { return slow_run(probe, std::move(r)); },
      [](std::string_view) { return true; }, std::move(options), nullptr);
  consumer.start();
  test::TopicReader results(cluster.bootstraps(), {"roombus.command-results"});
  const auto until = std::chrono::steady_clock::now() + 60s;
  // The results are read on this thread between turns of the io_context (each read polls once).
  while (results.read_for(1ms).size() < kKeys * kPerKey &&
         std::chrono::steady_clock::now() < until) {
    io.run_for(20ms);
  }
  consumer.stop_taking();
  while (!consumer.idle() && std::chrono::steady_clock::now() < until) io.run_for(20ms);
  consumer.close(1s);
  return BacklogRun{results.read_for(0ms).size(), probe.most, probe.started};
}

std::vector<int> zero_to(int n) {
  std::vector<int> out;
  for (int i = 0; i < n; ++i) out.push_back(i);
  return out;
}

}  // namespace

TEST_CASE("at most max_running commands are in the core at once, and the rest wait in order",
          "[kafka][commands][backpressure]") {
  consumers::CommandConsumerOptions options;
  options.max_running = 3;
  const BacklogRun run = run_backlog(options);
  CHECK(run.results == kKeys * kPerKey);
  CHECK(run.most == 3);  // a backlog was there, and no more than three ran at once
  REQUIRE(run.started.size() == kKeys);
  for (const auto& [key, sequence] : run.started) {
    INFO(key);
    CHECK(sequence == zero_to(kPerKey));
  }
}

TEST_CASE("while HTTP is busy fewer commands are in the core, and they all still run",
          "[kafka][commands][backpressure]") {
  consumers::CommandConsumerOptions options;
  options.max_running = 6;
  options.max_running_busy = 2;
  options.busy = [] { return true; };
  const BacklogRun run = run_backlog(options);
  CHECK(run.results == kKeys * kPerKey);
  CHECK(run.most == 2);
  REQUIRE(run.started.size() == kKeys);
  for (const auto& [key, sequence] : run.started) CHECK(sequence == zero_to(kPerKey));
}
