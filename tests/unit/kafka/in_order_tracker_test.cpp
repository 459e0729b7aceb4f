// InOrderTracker: what may be committed is where the done prefix ends, whatever order work ends in.
#include "roombus/kafka/in_order_tracker.hpp"

#include <catch2/catch.hpp>

using roombus::kafka::InOrderTracker;

TEST_CASE("a new tracker has nothing done and nothing in flight", "[kafka][tracker]") {
  InOrderTracker fresh;
  CHECK(fresh.done_through() == -1);  // before a partition's first offset
  CHECK(fresh.in_flight() == 0);
  InOrderTracker resumed(41);  // a saved cursor
  CHECK(resumed.done_through() == 41);
  CHECK_FALSE(resumed.complete(42));  // never taken
  CHECK(resumed.done_through() == 41);
}

TEST_CASE("done_through moves only over a prefix that is entirely done", "[kafka][tracker]") {
  InOrderTracker t(10);
  for (std::int64_t p = 11; p <= 15; ++p) t.take(p);
  CHECK(t.in_flight() == 5);
  CHECK_FALSE(t.complete(13));  // 11 and 12 still in flight
  CHECK_FALSE(t.complete(12));
  CHECK(t.done_through() == 10);
  CHECK(t.in_flight() == 3);
  CHECK(t.complete(11));  // 11, 12 and 13 at once
  CHECK(t.done_through() == 13);
  CHECK(t.complete(14));
  CHECK(t.done_through() == 14);
  CHECK(t.in_flight() == 1);
  CHECK(t.complete(15));
  CHECK(t.done_through() == 15);
  CHECK(t.in_flight() == 0);
}

TEST_CASE("settling what is not in flight changes nothing", "[kafka][tracker]") {
  InOrderTracker t(0);
  t.take(1);
  t.take(2);
  CHECK_FALSE(t.complete(2));
  CHECK_FALSE(t.complete(2));  // a repeated report
  CHECK_FALSE(t.fail(2));      // done already: not a failure any more
  CHECK_FALSE(t.complete(0));  // before everything taken (a report from before a rewind)
  CHECK_FALSE(t.complete(7));  // after everything taken
  CHECK(t.in_flight() == 1);
  CHECK(t.complete(1));
  CHECK(t.done_through() == 2);
  CHECK_FALSE(t.complete(1));  // already passed
  CHECK_FALSE(t.fail(1));
  CHECK(t.done_through() == 2);
}

TEST_CASE("a failed position holds done_through before it for good", "[kafka][tracker]") {
  InOrderTracker t(0);
  for (std::int64_t p = 1; p <= 4; ++p) t.take(p);
  CHECK(t.complete(1));
  CHECK(t.fail(2));
  CHECK_FALSE(t.fail(2));  // only the first report of it is news
  CHECK(t.in_flight() == 2);
  CHECK_FALSE(t.complete(3));
  CHECK_FALSE(t.complete(4));
  CHECK_FALSE(t.complete(2));  // a failed slot does not come back
  CHECK(t.done_through() == 1);
  CHECK(t.in_flight() == 0);
  // The owner's rewind: a tracker made anew from what was done.
  t = InOrderTracker(t.done_through());
  t.take(2);
  CHECK(t.complete(2));
  CHECK(t.done_through() == 2);
}

TEST_CASE("offsets with gaps are found and passed in order", "[kafka][tracker]") {
  InOrderTracker t;
  // Transaction markers and compacted records leave gaps in a partition's offsets.
  const std::int64_t offsets[] = {3, 4, 7, 8, 20, 21, 22, 40};
  for (std::int64_t o : offsets) t.take(o);
  CHECK_FALSE(t.complete(5));  // a gap: never taken
  CHECK_FALSE(t.complete(21));
  CHECK_FALSE(t.complete(8));
  CHECK_FALSE(t.complete(4));
  CHECK(t.in_flight() == 5);
  CHECK(t.complete(3));
  CHECK(t.done_through() == 4);  // the consumer stores 5
  CHECK(t.complete(7));
  CHECK(t.done_through() == 8);
  CHECK(t.complete(20));
  CHECK(t.done_through() == 21);
  CHECK(t.complete(22));
  CHECK(t.complete(40));
  CHECK(t.done_through() == 40);
  CHECK(t.in_flight() == 0);
}

TEST_CASE("a position taken out of order leaves in the order taken", "[kafka][tracker]") {
  InOrderTracker t;
  t.take(10);
  t.take(11);
  t.take(5);  // the partition's log rewound under the consumer
  t.take(6);
  CHECK_FALSE(t.complete(5));
  CHECK(t.complete(10));
  CHECK(t.done_through() == 10);
  CHECK(t.complete(11));
  CHECK(t.done_through() == 5);  // 11 and the 5 taken after it leave together
  CHECK(t.complete(6));
  CHECK(t.done_through() == 6);
  CHECK(t.in_flight() == 0);
  // Empty again: in order from here, and found as before.
  t.take(7);
  t.take(9);
  CHECK_FALSE(t.complete(9));
  CHECK(t.complete(7));
  CHECK(t.done_through() == 9);
}

TEST_CASE("a position taken twice is settled in both slots", "[kafka][tracker]") {
  InOrderTracker t;
  t.take(1);
  t.take(2);
  t.take(2);
  CHECK(t.in_flight() == 3);
  CHECK_FALSE(t.complete(2));
  CHECK(t.in_flight() == 1);
  CHECK(t.complete(1));
  CHECK(t.done_through() == 2);
  CHECK(t.in_flight() == 0);
}

TEST_CASE("many positions settled in reverse order pass at once", "[kafka][tracker]") {
  InOrderTracker t(0);
  constexpr std::int64_t kCount = 20'000;  // the relay's default max_in_flight
  for (std::int64_t p = 1; p <= kCount; ++p) t.take(p);
  for (std::int64_t p = kCount; p >= 2; --p) REQUIRE_FALSE(t.complete(p));
  CHECK(t.done_through() == 0);
  CHECK(t.complete(1));
  CHECK(t.done_through() == kCount);
  CHECK(t.in_flight() == 0);
}
