// Replay streaming and its cost: 10,000 events by default, 1,000,000 and group-commit throughput
// under the hidden tag [perf] (run: sqlite_store_tests "[perf]").
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <future>
#include <memory>
#include <mutex>
#include <semaphore>
#include <string>
#include <thread>
#include <vector>

#include "integration/sqlite/store_test_support.hpp"

namespace roombus::sqlite::test {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// 32 hex digits that look random (like a room uid) but are a pure function of `n`.
std::string hex_id(std::int64_t n) {
  std::uint64_t x = static_cast<std::uint64_t>(n) * 0x9E3779B97F4A7C15ULL;
  std::string out;
  for (int half = 0; half < 2; ++half) {
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 29;
    char buffer[17];
    std::snprintf(buffer, sizeof buffer, "%016llx", static_cast<unsigned long long>(x));
    out += buffer;
  }
  return out;
}

// Fills a log with `count` small events, in batches of `per_batch`, keeping at most a few batches
// in flight so the queue (not the test) bounds memory.
void fill(EventStore& store, std::int64_t count, int per_batch, const std::string& payload) {
  std::counting_semaphore<8> in_flight(8);
  std::atomic<int> failures{0};  // Catch's assertions are not for the writer thread
  for (std::int64_t position = 1; position <= count; position += per_batch) {
    const auto n = static_cast<int>(std::min<std::int64_t>(per_batch, count - position + 1));
    Batch batch;
    batch.events.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      batch.events.push_back(make_event(position + i, payload));
    }
    in_flight.acquire();
    store.append(std::move(batch), [&](std::error_code ec) {
      if (ec) ++failures;
      in_flight.release();
    });
  }
  store.close();
  CHECK(failures == 0);
}

// 42 bytes, or about what a room.created event's JSON takes.
const std::string kSmallPayload = R"({"uid":"0123456789abcdef0123456789abcdef"})";
const std::string kRoomPayload = R"({"type":"room.created","room":{"uid":")" +
                                 std::string(32, 'a') + "\"," + std::string(620, 'x') + "}}";

void replay_and_report(const std::filesystem::path& dir, std::int64_t count,
                       const std::string& payload = kSmallPayload) {
  auto start = Clock::now();
  fill(*EventStore::open(dir), count, 1000, payload);
  const double fill_seconds = seconds_since(start);

  auto store = EventStore::open(dir);
  start = Clock::now();
  std::int64_t seen = 0;
  std::int64_t last = 0;
  std::size_t bytes = 0;
  store->replay(0, [&](const StoredEvent& event) {
    ++seen;
    last = event.position;
    bytes += event.payload.size();
  });
  const double replay_seconds = seconds_since(start);
  std::printf(
      "replay: %lld events (%zu payload bytes) in %.3f s = %.0f events/s; "
      "filled in %.3f s\n",
      static_cast<long long>(seen), bytes, replay_seconds,
      static_cast<double>(seen) / replay_seconds, fill_seconds);
  CHECK(seen == count);
  CHECK(last == count);

  // Replay after a snapshot position reads only the tail.
  seen = 0;
  store->replay(count - 10, [&](const StoredEvent&) { ++seen; });
  CHECK(seen == 10);
}

TEST_CASE("replay streams 10,000 events", "[sqlite][replay]") {
  TempDir temp;
  replay_and_report(temp.dir(), 10'000);
}

TEST_CASE("replay streams 1,000,000 events", "[.][perf][sqlite][replay]") {
  TempDir temp;
  replay_and_report(temp.dir(), 1'000'000);
}

TEST_CASE("replay streams 1,000,000 room-sized events", "[.][perf][sqlite][replay]") {
  TempDir temp;
  replay_and_report(temp.dir(), 1'000'000, kRoomPayload);
}

TEST_CASE("group commit throughput with single-event batches from 8 threads", "[.][perf][sqlite]") {
  TempDir temp;
  auto store = EventStore::open(temp.dir());
  constexpr int kThreads = 8;
  constexpr int kPerThread = 12'500;
  std::mutex order_mutex;
  std::int64_t next_position = 1;
  std::atomic<int> done{0};

  const auto start = Clock::now();
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        std::lock_guard order(order_mutex);
        const std::int64_t position = next_position++;
        store->append(make_batch(position, 1), [&done](std::error_code ec) {
          if (!ec) done.fetch_add(1, std::memory_order_relaxed);
        });
      }
    });
  }
  for (auto& producer : producers) producer.join();
  store->close();
  const double elapsed = seconds_since(start);
  const Counters counters = store->counters();
  std::printf(
      "group commit: %llu batches in %llu transactions, %.3f s = %.0f batches/s, "
      "%.1f batches per fsync\n",
      static_cast<unsigned long long>(counters.batches),
      static_cast<unsigned long long>(counters.transactions), elapsed,
      static_cast<double>(counters.batches) / elapsed,
      static_cast<double>(counters.batches) / static_cast<double>(counters.transactions));
  CHECK(done == kThreads * kPerThread);
}

// 64 client threads, each appending one batch and waiting for it to be durable before the next:
// the shape of 64 HTTP clients, without HTTP. `make` builds the batch for a position.
template <typename MakeBatch>
void closed_loop(const char* label, MakeBatch make) {
  TempDir temp;
  auto store = EventStore::open(temp.dir());
  constexpr int kClients = 64;
  constexpr int kPerClient = 1000;
  std::mutex order_mutex;
  std::int64_t next_position = 1;
  std::atomic<int> failures{0};

  const auto start = Clock::now();
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&] {
      for (int i = 0; i < kPerClient; ++i) {
        std::unique_lock order(order_mutex);
        const std::int64_t position = next_position++;
        auto done = std::make_shared<std::promise<std::error_code>>();
        auto result = done->get_future();
        store->append(make(position), [done](std::error_code ec) { done->set_value(ec); });
        order.unlock();
        if (result.get()) ++failures;
      }
    });
  }
  for (auto& client : clients) client.join();
  const double elapsed = seconds_since(start);
  const Counters counters = store->counters();
  std::printf(
      "closed loop (%s): %d clients, %llu batches in %llu transactions, %.3f s = %.0f "
      "batches/s, %.1f batches per fsync\n",
      label, kClients, static_cast<unsigned long long>(counters.batches),
      static_cast<unsigned long long>(counters.transactions), elapsed,
      static_cast<double>(counters.batches) / elapsed,
      static_cast<double>(counters.batches) / static_cast<double>(counters.transactions));
  CHECK(failures == 0);
}

TEST_CASE("group commit throughput with 64 clients each waiting for durability",
          "[.][perf][sqlite]") {
  closed_loop("small records", [](std::int64_t position) { return make_batch(position, 1); });
}

// What roombus writes per room create: a ~700-byte event of a fresh aggregate (random uid) and
// the outcome of its Idempotency-Key.
Batch room_create_batch(std::int64_t position) {
  const std::string uid = hex_id(position);
  Batch batch;
  StoredEvent event = make_event(position, R"({"type":"room.created","room":{"uid":")" + uid +
                                               "\"," + std::string(620, 'x') + "}}");
  event.aggregate = "room:" + uid;
  event.version = 1;
  event.command_id =
      "idem:client-" + std::to_string(position % 64) + "-" + std::to_string(position / 64);
  batch.outcomes.push_back({event.command_id, R"({"reply":{"uid":")" + uid + "\"}}"});
  batch.events.push_back(std::move(event));
  return batch;
}

TEST_CASE("group commit throughput with room-create-sized records", "[.][perf][sqlite]") {
  closed_loop("room-create records", room_create_batch);
}

// The store's own ceiling for room creates: 64 appends always in flight, each followed by the
// next as soon as it is durable, from the writer's callback, so no client thread is woken and
// every transaction holds all 64. Nothing built on the store can make durable creates faster.
class RefillingLoad {
 public:
  RefillingLoad(EventStore& store, int in_flight) : store_(store), in_flight_(in_flight) {}

  // Runs for `duration`, then waits for the last appends; returns the creates made durable.
  std::int64_t run(std::chrono::milliseconds duration) {
    for (int i = 0; i < in_flight_; ++i) append_next();
    std::this_thread::sleep_for(duration);
    stopping_ = true;
    drained_.get_future().wait();
    return durable_;
  }
  int failures() const { return failures_; }

 private:
  void append_next() {
    std::lock_guard lock(order_mutex_);
    store_.append(room_create_batch(next_position_++), [this](std::error_code ec) {
      if (ec) ++failures_;
      ++durable_;
      if (!stopping_) {
        append_next();
      } else if (--in_flight_ == 0) {
        drained_.set_value();
      }
    });
  }

  EventStore& store_;
  std::atomic<int> in_flight_;
  std::mutex order_mutex_;  // positions must reach the store in order
  std::int64_t next_position_ = 1;
  std::atomic<std::int64_t> durable_{0};
  std::atomic<int> failures_{0};
  std::atomic<bool> stopping_{false};
  std::promise<void> drained_;
};

TEST_CASE("group commit ceiling with room-create-sized records, 64 in flight",
          "[.][perf][sqlite]") {
  TempDir temp;
  auto store = EventStore::open(temp.dir());
  RefillingLoad load(*store, 64);
  const auto start = Clock::now();
  const std::int64_t durable = load.run(std::chrono::seconds(5));
  const double elapsed = seconds_since(start);
  const Counters counters = store->counters();
  std::printf(
      "ceiling (room-create records): %lld durable in %llu transactions, %.3f s = %.0f/s, "
      "%.1f per fsync\n",
      static_cast<long long>(durable), static_cast<unsigned long long>(counters.transactions),
      elapsed, static_cast<double>(durable) / elapsed,
      static_cast<double>(durable) / static_cast<double>(counters.transactions));
  CHECK(load.failures() == 0);
  CHECK(counters.events == static_cast<std::uint64_t>(durable));
}

TEST_CASE("commit latency of one batch at a time (no grouping possible)", "[.][perf][sqlite]") {
  TempDir temp;
  auto store = EventStore::open(temp.dir());
  constexpr int kBatches = 500;
  const auto start = Clock::now();
  for (int i = 0; i < kBatches; ++i) REQUIRE_FALSE(append_and_wait(*store, make_batch(i + 1, 1)));
  const double elapsed = seconds_since(start);
  std::printf("sequential: %d durable appends in %.3f s = %.2f ms each\n", kBatches, elapsed,
              elapsed * 1000.0 / kBatches);
}

}  // namespace
}  // namespace roombus::sqlite::test
