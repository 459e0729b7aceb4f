// The outbox relay on librdkafka's mock cluster: records, order, outages, bounded memory.
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "roombus/json/event_codec.hpp"
#include "roombus/kafka/outbox_relay.hpp"
#include "roombus/services/subscription.hpp"
#include "support/event_feed.hpp"
#include "support/eventually.hpp"
#include "support/kafka_mock.hpp"

using namespace roombus;
using namespace std::chrono_literals;

namespace {

const std::string kLogId = "11112222333344445555666677778888";

// A mock cluster with both event topics, an io_context thread serving the producer's callbacks,
// and the relay fed by a subscription, as `roombus serve` wires them.
struct RelayWorld {
  explicit RelayWorld(kafka::RelayOptions relay_options = {},
                      services::SubscriptionOptions feed_options = {}) {
    cluster.create_topic("roombus.room-events", 3);
    cluster.create_topic("roombus.server-events", 1);
    kafka::Settings settings;
    settings.brokers = cluster.bootstraps();
    settings.properties = {{"log_level", "0"}};  // the outage tests make it complain on purpose
    producer = std::make_unique<kafka::Producer>(io, settings, nullptr);
    relay = std::make_unique<kafka::OutboxRelay>(
        io, *producer, cursors, kafka::RecordContext{"roombus.", kLogId}, relay_options, nullptr);
    feed = std::make_unique<services::Subscription>(*relay, log, 0, feed_options, nullptr);
    producer->start();
    io_thread = std::thread([this] { io.run(); });
    feed->start();
  }
  ~RelayWorld() {
    feed->close();
    guard.reset();
    io.stop();
    io_thread.join();
  }

  // Announces the World's new durable batches to the relay's subscription.
  void publish() {
    log.sync();
    for (; fed < world.listener.batches.size(); ++fed) feed->on_events(world.listener.batches[fed]);
  }

  bool acknowledged(std::int64_t position) {
    return test::eventually([&] { return relay->status().acknowledged >= position; });
  }

  test::MockCluster cluster;
  testing::World world;
  test::MemoryLogReader log{world};
  test::MemoryCursors cursors;
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard = asio::make_work_guard(io);
  std::unique_ptr<kafka::Producer> producer;
  std::unique_ptr<kafka::OutboxRelay> relay;
  std::unique_ptr<services::Subscription> feed;
  std::thread io_thread;
  std::size_t fed = 0;
};

std::vector<test::ConsumedRecord> read_all(const std::string& bootstraps, std::size_t count) {
  test::TopicReader reader(bootstraps, {"roombus.room-events", "roombus.server-events"});
  return reader.read_until(count, 15s);
}

std::int64_t position_of(const test::ConsumedRecord& r) {
  const std::string id = r.header("ce_id");
  return std::stoll(id.substr(id.find('-') + 1));
}

}  // namespace

TEST_CASE("every durable event becomes one record with its topic, key, headers and value",
          "[kafka][relay]") {
  RelayWorld w;
  auto key = test::fill(w.world, 3);  // 1 server event, 3 room events
  const std::string uid = w.world.listener.seen.back().aggregate().substr(5);
  REQUIRE(w.world.run(core::AddParticipant{key, uid, "bob@example.org"}));
  REQUIRE(w.world.run(core::UpdateRoom{key, uid, std::nullopt, std::string("Renamed"), std::nullopt,
                                       std::nullopt}));
  REQUIRE(w.world.run(core::DeleteRoom{key, uid}));
  w.publish();
  REQUIRE(w.acknowledged(7));

  auto records = read_all(w.cluster.bootstraps(), 7);
  REQUIRE(records.size() == 7);
  std::map<std::int64_t, const test::ConsumedRecord*> by_position;
  for (const auto& r : records) by_position[position_of(r)] = &r;
  REQUIRE(by_position.size() == 7);
  for (const core::Event& e : w.world.log.appended) {
    const test::ConsumedRecord& r = *by_position.at(e.position);
    CHECK(r.value == json::encode_public_event(e));
    CHECK(r.header("ce_id") == kLogId + "-" + std::to_string(e.position));
    CHECK(r.header("ce_specversion") == "1.0");
    CHECK(r.header("ce_type") == "roombus." + e.type() + ".v1");
    CHECK(r.header("ce_subject") == e.aggregate());
    CHECK(r.header("content-type") == "application/json");
  }
  CHECK(by_position.at(1)->topic == "roombus.server-events");
  CHECK(by_position.at(1)->key == "1");
  // One room's events share a key, hence a partition, in the order of the log.
  std::vector<std::int64_t> room_positions;
  for (const auto& r : records) {
    if (r.key == uid) room_positions.push_back(position_of(r));
  }
  CHECK(room_positions == std::vector<std::int64_t>{4, 5, 6, 7});
  // The cursor follows the acknowledgements and is kept durably.
  CHECK(test::eventually([&] { return w.cursors.load("kafka_relay") == 7; }));
}

TEST_CASE("a broker outage delays records and loses or repeats none", "[kafka][relay]") {
  RelayWorld w;
  auto key = test::fill(w.world, 2);
  w.publish();
  REQUIRE(w.acknowledged(3));

  w.cluster.set_down();
  for (int i = 0; i < 20; ++i) w.world.create_room(key, "meet.example.com", "alice@example.com");
  w.publish();
  CHECK(test::eventually([&] { return w.relay->status().in_flight == 20; }));
  CHECK(w.relay->status().acknowledged == 3);

  w.cluster.set_up();
  REQUIRE(w.acknowledged(23));
  auto records = read_all(w.cluster.bootstraps(), 23);
  std::multiset<std::string> ids;
  for (const auto& r : records) ids.insert(r.header("ce_id"));
  CHECK(records.size() == 23);
  for (std::int64_t p = 1; p <= 23; ++p) CHECK(ids.count(kLogId + "-" + std::to_string(p)) == 1);
  CHECK(w.relay->status().rewinds == 0);
}

TEST_CASE("while Kafka is away the relay holds a bounded number of records and events",
          "[kafka][relay]") {
  kafka::RelayOptions relay_options;
  relay_options.max_in_flight = 10;
  services::SubscriptionOptions feed_options;
  feed_options.max_queued_events = 40;
  RelayWorld w(relay_options, feed_options);
  auto key = test::fill(w.world, 0);
  w.publish();
  REQUIRE(w.acknowledged(1));

  w.cluster.set_down();
  std::size_t most_queued = 0;
  std::size_t most_in_flight = 0;
  for (int i = 0; i < 300; ++i) {
    w.world.create_room(key, "meet.example.com", "alice@example.com");
    w.publish();
    most_queued = std::max(most_queued, w.feed->status().queued);
    most_in_flight = std::max(most_in_flight, w.relay->status().in_flight);
  }
  CHECK(most_queued <= 40);
  CHECK(most_in_flight <= 10);
  CHECK(w.feed->status().overflows > 0);

  w.cluster.set_up();
  REQUIRE(w.acknowledged(301));
  auto records = read_all(w.cluster.bootstraps(), 301);
  std::set<std::int64_t> positions;
  for (const auto& r : records) positions.insert(position_of(r));
  CHECK(records.size() == 301);
  CHECK(positions.size() == 301);
  CHECK(w.feed->status().events_from_log > 0);
}
