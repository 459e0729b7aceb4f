// Unit tests: the text index finds what it holds through growth, erasure, collisions and copies.
#include "roombus/core/text_index.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <vector>

using roombus::core::TextIndex;

namespace {

struct Rooms {
  std::vector<std::string> uids;  // uids[n - 1] is number n
  std::string_view operator()(std::int64_t number) const {
    return uids.at(static_cast<std::size_t>(number - 1));
  }
};

}  // namespace

TEST_CASE("the text index finds every text it was given and nothing else", "[core]") {
  Rooms rooms;
  TextIndex index;
  CHECK(index.find("absent", rooms) == 0);  // empty: no slots at all
  // Enough uids to grow the table many times over, with shared prefixes and suffixes.
  for (int i = 1; i <= 5000; ++i) {
    rooms.uids.push_back("room-" + std::to_string(i * 7919 % 100003) + "-uid");
    index.insert(rooms.uids.back(), i);
    REQUIRE(index.find(rooms.uids.back(), rooms) == i);
  }
  CHECK(index.size() == 5000);
  for (int i = 1; i <= 5000; ++i) REQUIRE(index.find(rooms(i), rooms) == i);
  CHECK(index.find("room-1-uid-not", rooms) == 0);
  CHECK(index.find("", rooms) == 0);

  SECTION("a copy answers alike for a copy of the rooms") {
    const TextIndex copy = index;
    const Rooms rooms_copy = rooms;
    rooms.uids.clear();
    for (int i = 1; i <= 5000; i += 499) {
      CHECK(copy.find(rooms_copy(i), rooms_copy) == i);
    }
  }
}

TEST_CASE("uids whose hashes collide are told apart by their text", "[core]") {
  // The same stored hash for two uids can only be forced through the comparison: a uid_of that
  // answers another text for a number must make the lookup miss.
  Rooms rooms{{"a", "b"}};
  TextIndex index;
  index.insert("a", 1);
  index.insert("b", 2);
  Rooms lying{{"x", "b"}};
  CHECK(index.find("a", lying) == 0);
  CHECK(index.find("b", lying) == 2);
}

TEST_CASE("reserving keeps what the index holds", "[core]") {
  Rooms rooms{{"one", "two", "three"}};
  TextIndex index;
  index.insert("one", 1);
  index.reserve(100000);
  index.insert("two", 2);
  index.insert("three", 3);
  CHECK(index.find("one", rooms) == 1);
  CHECK(index.find("two", rooms) == 2);
  CHECK(index.find("three", rooms) == 3);
  CHECK(index.size() == 3);
}

TEST_CASE("erasing keeps every other text findable", "[core]") {
  // Random inserts and erases against a std::map as the reference; a small table so that probe
  // runs are long, wrap around the end and get shifted back by erase.
  Rooms rooms;
  TextIndex index;
  std::map<std::int64_t, bool> live;
  std::mt19937_64 random(20261201);  // fixed: a failure must replay
  for (int step = 0; step < 20000; ++step) {
    if (live.size() < 40 && (live.empty() || random() % 3 != 0)) {
      rooms.uids.push_back("text-" + std::to_string(random() % 1000000) + "-" +
                           std::to_string(rooms.uids.size()));
      const auto number = static_cast<std::int64_t>(rooms.uids.size());
      index.insert(rooms(number), number);
      live[number] = true;
    } else {
      auto it = live.begin();
      std::advance(it, static_cast<long>(random() % live.size()));
      index.erase(rooms(it->first), it->first);
      live.erase(it);
    }
    REQUIRE(index.size() == live.size());
    if (step % 97 == 0) {
      for (std::int64_t n = 1; n <= static_cast<std::int64_t>(rooms.uids.size()); ++n) {
        REQUIRE(index.find(rooms(n), rooms) == (live.count(n) != 0 ? n : 0));
      }
    }
  }
  index.erase("never inserted", 999999);  // absent: nothing happens
  CHECK(index.size() == live.size());
}

TEST_CASE("a moved-from index is empty and can be used again", "[core]") {
  Rooms rooms{{"one", "two"}};
  TextIndex index;
  index.insert("one", 1);
  index.insert("two", 2);
  TextIndex moved = std::move(index);
  CHECK(moved.find("two", rooms) == 2);
  CHECK(index.size() == 0);  // NOLINT(bugprone-use-after-move): the state after a move is defined
  CHECK(index.find("one", rooms) == 0);
  index.insert("one", 1);
  CHECK(index.find("one", rooms) == 1);
  CHECK(index.size() == 1);
  moved = std::move(index);
  CHECK(moved.find("one", rooms) == 1);
  CHECK(moved.find("two", rooms) == 0);
  CHECK(index.size() == 0);
}

TEST_CASE("insert_unique adds a text once and names the number that has it", "[core]") {
  Rooms rooms;
  TextIndex index;
  for (int i = 1; i <= 3000; ++i) {
    rooms.uids.push_back("uid-" + std::to_string(i * 7919 % 10007));
    const std::string_view text = rooms(i);
    if (i % 5 == 0) index.prefetch(TextIndex::hash(text));  // a hint only, on any table
    REQUIRE(index.insert_unique(TextIndex::hash(text), text, i, rooms) == 0);
  }
  CHECK(index.size() == 3000);
  for (int i = 1; i <= 3000; ++i) REQUIRE(index.find(rooms(i), rooms) == i);
  // The same texts again, under other numbers: refused, naming the first.
  for (int i = 1; i <= 3000; i += 7) {
    const std::string_view text = rooms(i);
    REQUIRE(index.insert_unique(TextIndex::hash(text), text, 5000 + i, rooms) == i);
  }
  CHECK(index.size() == 3000);
  // A colliding hash with another text is a different text.
  CHECK(index.insert_unique(TextIndex::hash(rooms(1)), "not uid 1", 9999, [&](std::int64_t n) {
    return n == 9999 ? std::string_view("not uid 1") : rooms(n);
  }) == 0);
  CHECK(index.size() == 3001);
}
