// The subscription helper: from the cursor through the log to live events, bounded, resumable.
#include "roombus/services/subscription.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support/event_feed.hpp"
#include "support/eventually.hpp"

using namespace roombus;
using namespace std::chrono_literals;

namespace {

// Records every position it is given; can be slow, fail once, and keep a "durable" cursor that
// trails what it saw by a fixed amount (as a relay waiting for acknowledgements would).
class RecordingSubscriber final : public core::EventSubscriber {
 public:
  std::string_view name() const override { return "recording"; }
  std::int64_t resume_position() override {
    std::lock_guard lock(mutex_);
    ++resumes;
    return durable_;
  }
  void deliver(std::span<const core::Event* const> events) override {
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return !gate_closed_; });
    if (++deliveries == fail_on_delivery) throw std::runtime_error("downstream refused");
    for (const core::Event* e : events) seen.push_back(e->position);
    largest_delivery = std::max(largest_delivery, events.size());
    last_ = events.back()->position;
    durable_ = std::max<std::int64_t>(durable_, last_ - trail);
    changed_.notify_all();
  }
  std::int64_t handled_position() const override {
    std::lock_guard lock(mutex_);
    return last_;
  }
  void finish(std::chrono::steady_clock::time_point) override {
    std::lock_guard lock(mutex_);
    finished = true;
  }
  bool wait_for(std::int64_t position, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return last_ >= position; });
  }
  std::vector<std::int64_t> positions() {
    std::lock_guard lock(mutex_);
    return seen;
  }

  std::chrono::milliseconds delay{0};
  int fail_on_delivery = 0;
  std::int64_t trail = 0;
  int resumes = 0;
  int deliveries = 0;
  std::size_t largest_delivery = 0;
  bool finished = false;
  std::vector<std::int64_t> seen;

  void set_durable(std::int64_t p) { durable_ = p; }
  // While closed, deliver() blocks: a downstream that does not answer.
  void close_gate() {
    std::lock_guard lock(mutex_);
    gate_closed_ = true;
  }
  void open_gate() {
    {
      std::lock_guard lock(mutex_);
      gate_closed_ = false;
    }
    changed_.notify_all();
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::int64_t durable_ = 0;
  std::int64_t last_ = 0;
  bool gate_closed_ = false;
};

std::vector<std::int64_t> range(std::int64_t from, std::int64_t to) {
  std::vector<std::int64_t> out;
  for (std::int64_t p = from; p <= to; ++p) out.push_back(p);
  return out;
}

// Feeds every batch the World's listener recorded since `from` to the subscription.
void feed(services::Subscription& s, const testing::World& world, std::size_t& from) {
  for (; from < world.listener.batches.size(); ++from) s.on_events(world.listener.batches[from]);
}

}  // namespace

TEST_CASE("a subscriber behind the log reads what it missed from the log, then live events",
          "[subscription]") {
  testing::World world;
  test::MemoryLogReader log(world);
  auto key = test::fill(world, 20);  // positions 1..21
  log.sync();
  RecordingSubscriber sub;
  sub.set_durable(5);
  services::Subscription s(sub, log, log.head(), {}, {});
  std::size_t fed = world.listener.batches.size();  // history is in the log only
  s.start();
  REQUIRE(sub.wait_for(21, test::kPatience));
  world.create_room(key, "meet.example.com", "alice@example.com");  // 22
  world.create_room(key, "meet.example.com", "alice@example.com");  // 23
  log.sync();
  feed(s, world, fed);
  REQUIRE(sub.wait_for(23, test::kPatience));
  s.close();
  CHECK(sub.positions() == range(6, 23));
  auto st = s.status();
  CHECK(st.events_from_log == 16);
  CHECK(st.failures == 0);
}

TEST_CASE("a slow subscriber costs a bounded queue, then catches up from the log in order",
          "[subscription]") {
  testing::World world;
  test::MemoryLogReader log(world);
  RecordingSubscriber sub;
  sub.close_gate();
  services::SubscriptionOptions options;
  options.max_queued_events = 50;
  options.max_delivery = 20;
  services::Subscription s(sub, log, 0, options, {});
  s.start();
  std::size_t fed = 0;
  std::size_t most_queued = 0;
  auto key = test::fill(world, 0);
  for (int i = 0; i < 600; ++i) {
    world.create_room(key, "meet.example.com", "alice@example.com");
    log.sync();  // durable before it is announced, as in the service
    feed(s, world, fed);
    most_queued = std::max(most_queued, s.status().queued);
  }
  CHECK(s.status().lag_seconds > 0);
  sub.open_gate();
  REQUIRE(sub.wait_for(601, test::kPatience));
  s.close();
  CHECK(most_queued <= 50);
  CHECK(sub.largest_delivery <= 20);
  CHECK(sub.positions() == range(1, 601));
  auto st = s.status();
  CHECK(st.overflows > 0);
  CHECK(st.events_from_log > 0);
  CHECK(st.lag_seconds == 0);
}

TEST_CASE("after a failed delivery the subscriber resumes from its own cursor", "[subscription]") {
  testing::World world;
  test::MemoryLogReader log(world);
  RecordingSubscriber sub;
  sub.trail = 3;  // its durable cursor trails what it was given
  sub.fail_on_delivery = 3;
  services::SubscriptionOptions options;
  options.max_delivery = 4;
  options.backoff_min = 10ms;
  test::fill(world, 11);  // 1..12
  log.sync();
  services::Subscription s(sub, log, log.head(), options, {});
  s.start();
  REQUIRE(sub.wait_for(12, test::kPatience));
  s.close();
  // Deliveries: 1-4, 5-8, (9-12 refused), then again from the durable cursor 8 - 3 = 5.
  std::vector<std::int64_t> expected = range(1, 8);
  for (auto p : range(6, 12)) expected.push_back(p);
  CHECK(sub.positions() == expected);
  CHECK(sub.resumes == 2);
  CHECK(s.status().failures == 1);
  CHECK_FALSE(s.status().failing);
}

TEST_CASE("drain delivers everything durable, lets the subscriber finish, and ends",
          "[subscription]") {
  testing::World world;
  test::MemoryLogReader log(world);
  RecordingSubscriber sub;
  services::SubscriptionOptions lazy;
  lazy.period = 1h;  // only drain() can make it deliver this soon
  lazy.wake_at = 1'000'000;
  services::Subscription s(sub, log, 0, lazy, {});
  s.start();
  // The thread has reached its (hour-long) wait before anything arrives.
  REQUIRE(test::eventually([&] { return s.status().idle; }));
  std::size_t fed = 0;
  test::fill(world, 5);
  log.sync();
  feed(s, world, fed);
  CHECK(s.status().queued == 6);  // held for the hour, not delivered
  CHECK(sub.positions().empty());
  s.drain(std::chrono::steady_clock::now() + test::kPatience);
  CHECK(test::eventually([&] { return s.drained(); }));
  CHECK(sub.finished);
  CHECK(sub.positions() == range(1, 6));
  s.close();
}

TEST_CASE("a requested resume re-reads from the subscriber's cursor even while idle",
          "[subscription]") {
  testing::World world;
  test::MemoryLogReader log(world);
  test::fill(world, 4);  // 1..5
  log.sync();
  RecordingSubscriber sub;
  services::Subscription s(sub, log, log.head(), {}, {});
  s.start();
  REQUIRE(sub.wait_for(5, test::kPatience));
  sub.set_durable(2);  // its storage lost the last three (Redis flushed, say)
  s.request_resume();
  CHECK(test::eventually([&] { return sub.positions().size() >= 8; }));
  s.close();
  CHECK(sub.positions() == std::vector<std::int64_t>{1, 2, 3, 4, 5, 3, 4, 5});
}

TEST_CASE("a drain ends a subscriber's back-off at the drain's deadline, not the back-off's",
          "[subscription]") {
  testing::World world;
  test::MemoryLogReader log(world);
  test::fill(world, 2);
  log.sync();
  RecordingSubscriber sub;
  sub.fail_on_delivery = 1;  // the first delivery fails: the thread backs off...
  services::SubscriptionOptions options;
  options.backoff_min = 1h;  // ...for an hour, unless the drain cuts it short
  services::Subscription s(sub, log, log.head(), options, {});
  s.start();
  REQUIRE(test::eventually([&] { return s.status().failures == 1; }));
  s.drain(std::chrono::steady_clock::now() + 300ms);
  CHECK(test::eventually([&] { return s.drained(); }));  // within the patience, not the hour
  s.close();
}
