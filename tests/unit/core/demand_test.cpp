// Unit tests of demand forecasts: buckets, rooms running in them, expected participants.
#include "roombus/core/demand.hpp"

#include <catch2/catch.hpp>

#include "support/core_fakes.hpp"

using namespace roombus::core;
using namespace roombus::testing;

namespace {

struct Load {
  std::string start;
  std::int64_t rooms;
  std::int64_t participants;
  friend bool operator==(const Load&, const Load&) = default;
};

std::ostream& operator<<(std::ostream& os, const Load& l) {
  return os << l.start << ":" << l.rooms << "/" << l.participants;
}

// The buckets that are not empty, as "HH:MM:rooms/participants".
std::vector<Load> busy(const Demand& d) {
  std::vector<Load> out;
  for (const DemandBucket& b : d.buckets) {
    if (b.rooms == 0 && b.participants == 0) continue;
    out.push_back({format_iso_utc(b.start).substr(11, 5), b.rooms, b.participants});
  }
  return out;
}

struct Scene {
  Scene()
      : meet(w.register_server("meet.example.com", {"@x.de"}, true)),
        other(w.clone_server(meet, "other.example.com")) {}
  std::string create(const std::string& start, const std::string& duration,
                     std::vector<std::string> guests = {}) {
    auto uid = w.create_room(meet.key, "meet.example.com", "alice@x.de", start, duration);
    for (const auto& g : guests) REQUIRE(w.run(AddParticipant{meet.key, uid, g}).ok());
    return uid;
  }
  Demand forecast(ServerId id, Instant t = at(2021, 2, 2, 12, 2, 30)) const {
    return forecast_demand(w.state(), id, t, std::chrono::minutes{120});
  }
  World w;
  World::Registered meet;
  World::Registered other;
};

}  // namespace

TEST_CASE("a forecast has 5-minute buckets aligned to the clock over the horizon",
          "[core][demand]") {
  Scene s;
  const Demand d = s.forecast(s.meet.id);
  CHECK(d.server_id == s.meet.id);
  CHECK(d.at == at(2021, 2, 2, 12, 2, 30));
  CHECK(d.bucket == std::chrono::minutes{5});
  REQUIRE(d.buckets.size() == 24);
  CHECK(d.buckets.front().start == at(2021, 2, 2, 12, 0));
  CHECK(d.buckets.back().start == at(2021, 2, 2, 13, 55));
  CHECK(busy(d).empty());
  CHECK(forecast_demand(s.w.state(), s.meet.id, at(2021, 2, 2, 12), std::chrono::minutes{7})
            .buckets.size() == 2);
}

TEST_CASE("a room counts in every bucket it runs in, with its participants and moderator",
          "[core][demand]") {
  Scene s;
  s.create("2021-02-02T12:00:00Z", "30", {"bob@x.de"});
  s.create("2021-02-02T12:20:00Z", "60", {"carol@x.de", "dave@x.de"});
  s.create("2021-02-02T13:55:00Z", "30");
  s.create("2021-02-02T11:00:00Z", "60");  // ended at 12:00: in no bucket
  s.create("2021-02-02T14:00:00Z", "30");  // after the horizon
  CHECK(busy(s.forecast(s.meet.id)) == std::vector<Load>{{"12:00", 1, 2},
                                                         {"12:05", 1, 2},
                                                         {"12:10", 1, 2},
                                                         {"12:15", 1, 2},
                                                         {"12:20", 2, 5},
                                                         {"12:25", 2, 5},
                                                         {"12:30", 1, 3},
                                                         {"12:35", 1, 3},
                                                         {"12:40", 1, 3},
                                                         {"12:45", 1, 3},
                                                         {"12:50", 1, 3},
                                                         {"12:55", 1, 3},
                                                         {"13:00", 1, 3},
                                                         {"13:05", 1, 3},
                                                         {"13:10", 1, 3},
                                                         {"13:15", 1, 3},
                                                         {"13:55", 1, 1}});
  CHECK(busy(s.forecast(s.other.id)).empty());
}

TEST_CASE("the moderator counts once, listed or not", "[core][demand]") {
  Scene s;
  const std::string uid = s.create("2021-02-02T12:10:00Z", "5", {"bob@x.de", "ALICE@X.DE"});
  CHECK(s.w.room(uid).participants.size() == 2);  // ALICE@X.DE is alice@x.de already there
  CHECK(busy(s.forecast(s.meet.id)) == std::vector<Load>{{"12:10", 1, 2}});
  REQUIRE(s.w.run(RemoveParticipant{s.meet.key, uid, "alice@x.de"}).ok());
  CHECK(s.w.room(uid).participants == std::vector<std::string>{"bob@x.de"});
  CHECK(busy(s.forecast(s.meet.id)) == std::vector<Load>{{"12:10", 1, 2}});
}

TEST_CASE("moved and deleted rooms leave the forecast of their old server", "[core][demand]") {
  Scene s;
  const std::string moved = s.create("2021-02-02T12:10:00Z", "5");
  const std::string deleted = s.create("2021-02-02T12:30:00Z", "5");
  REQUIRE(s.w.run(MoveRoom{s.meet.key, moved, s.other.id}).ok());
  REQUIRE(s.w.run(DeleteRoom{s.meet.key, deleted}).ok());
  CHECK(busy(s.forecast(s.meet.id)).empty());
  CHECK(busy(s.forecast(s.other.id)) == std::vector<Load>{{"12:10", 1, 1}});
}

TEST_CASE("a room of 0 minutes counts in the bucket of its start", "[core][demand]") {
  Scene s;
  s.create("2021-02-02T12:14:59Z", "0");
  s.create("2021-02-02T12:20:00Z", "0");
  CHECK(busy(s.forecast(s.meet.id)) == std::vector<Load>{{"12:10", 1, 1}, {"12:20", 1, 1}});
}

TEST_CASE("an unknown server has an empty forecast", "[core][demand]") {
  Scene s;
  const Demand d = s.forecast(99);
  CHECK(d.buckets.size() == 24);
  CHECK(busy(d).empty());
}

TEST_CASE("two forecasts with the same buckets are the same load whenever computed",
          "[core][demand]") {
  Scene s;
  s.create("2021-02-02T12:10:00Z", "5");
  Demand a = s.forecast(s.meet.id, at(2021, 2, 2, 12, 1));
  Demand b = s.forecast(s.meet.id, at(2021, 2, 2, 12, 4));
  CHECK(a.same_load(b));
  s.create("2021-02-02T12:10:00Z", "5");
  CHECK_FALSE(a.same_load(s.forecast(s.meet.id, at(2021, 2, 2, 12, 1))));
  CHECK_FALSE(a.same_load(s.forecast(s.meet.id, at(2021, 2, 2, 12, 5))));
}
