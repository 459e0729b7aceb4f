// Unit tests of the time adapter: zone conversions, DST edges and abbreviations on tzdata.
#include "roombus/core/time.hpp"

#include <date/tz.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "posix_tz.hpp"
#include "roombus/time/system_clock.hpp"
#include "roombus/time/tz_time_zone.hpp"

namespace {

using roombus::core::Instant;
using roombus::core::LocalDateTime;

// Builds an instant from UTC fields without going through the code under test.
Instant utc(int y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s = 0) {
  using namespace std::chrono;
  return sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s};
}

LocalDateTime local(int y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned s = 0) {
  return LocalDateTime{.year = y, .month = mo, .day = d, .hour = h, .minute = mi, .second = s};
}

}  // namespace

TEST_CASE("Berlin wall-clock time in winter is one hour ahead of UTC", "[time]") {
  const auto zone = roombus::time::make_time_zone("Europe/Berlin");
  CHECK(zone->name() == "Europe/Berlin");
  CHECK(zone->to_utc(local(2021, 1, 15, 10, 0)) == utc(2021, 1, 15, 9, 0));
  CHECK(zone->to_local(utc(2021, 1, 15, 9, 0)) == local(2021, 1, 15, 10, 0));
  CHECK(zone->abbreviation(utc(2021, 1, 15, 9, 0)) == "CET");
}

TEST_CASE("Berlin wall-clock time in summer is two hours ahead of UTC", "[time]") {
  const auto zone = roombus::time::make_time_zone("Europe/Berlin");
  CHECK(zone->to_utc(local(2021, 7, 1, 12, 30, 15)) == utc(2021, 7, 1, 10, 30, 15));
  CHECK(zone->to_local(utc(2021, 7, 1, 10, 30, 15)) == local(2021, 7, 1, 12, 30, 15));
  CHECK(zone->abbreviation(utc(2021, 7, 1, 10, 30)) == "CEST");
}

TEST_CASE("A reading inside the spring-forward gap moves forward by the gap, as PHP does",
          "[time]") {
  const auto zone = roombus::time::make_time_zone("Europe/Berlin");
  const Instant t = zone->to_utc(local(2021, 3, 28, 2, 30));
  CHECK(t == utc(2021, 3, 28, 1, 30));
  CHECK(zone->to_local(t) == local(2021, 3, 28, 3, 30));
  CHECK(zone->abbreviation(t) == "CEST");
}

TEST_CASE("The last second before the gap and the first reading after it stay exact", "[time]") {
  const auto zone = roombus::time::make_time_zone("Europe/Berlin");
  CHECK(zone->to_utc(local(2021, 3, 28, 1, 59, 59)) == utc(2021, 3, 28, 0, 59, 59));
  CHECK(zone->to_utc(local(2021, 3, 28, 3, 0)) == utc(2021, 3, 28, 1, 0));
}

TEST_CASE("An ambiguous reading in the fall-back overlap takes the earlier instant", "[time]") {
  const auto zone = roombus::time::make_time_zone("Europe/Berlin");
  const Instant t = zone->to_utc(local(2021, 10, 31, 2, 30));
  CHECK(t == utc(2021, 10, 31, 0, 30));
  CHECK(zone->abbreviation(t) == "CEST");
  // Both instants read back as the same wall-clock time.
  CHECK(zone->to_local(utc(2021, 10, 31, 0, 30)) == local(2021, 10, 31, 2, 30));
  CHECK(zone->to_local(utc(2021, 10, 31, 1, 30)) == local(2021, 10, 31, 2, 30));
  CHECK(zone->abbreviation(utc(2021, 10, 31, 1, 30)) == "CET");
}

TEST_CASE("New York in summer is abbreviated EDT", "[time]") {
  const auto zone = roombus::time::make_time_zone("America/New_York");
  CHECK(zone->abbreviation(utc(2021, 7, 1, 12, 0)) == "EDT");
  CHECK(zone->abbreviation(utc(2021, 1, 1, 12, 0)) == "EST");
  CHECK(zone->to_utc(local(2021, 7, 1, 8, 0)) == utc(2021, 7, 1, 12, 0));
}

TEST_CASE("Dubai has no name abbreviation and is reported as +04", "[time]") {
  const auto zone = roombus::time::make_time_zone("Asia/Dubai");
  CHECK(zone->abbreviation(utc(2021, 7, 1, 12, 0)) == "+04");
  CHECK(zone->to_local(utc(2021, 7, 1, 22, 0)) == local(2021, 7, 2, 2, 0));
}

TEST_CASE("UTC converts without an offset and is abbreviated UTC", "[time]") {
  const auto zone = roombus::time::make_time_zone("UTC");
  CHECK(zone->name() == "UTC");
  CHECK(zone->abbreviation(utc(2021, 7, 1, 12, 0)) == "UTC");
  CHECK(zone->to_utc(local(2024, 2, 29, 23, 59, 59)) == utc(2024, 2, 29, 23, 59, 59));
  CHECK(zone->to_local(utc(2024, 2, 29, 23, 59, 59)) == local(2024, 2, 29, 23, 59, 59));
}

TEST_CASE("An unknown zone name is refused with a message naming it", "[time]") {
  CHECK_THROWS_AS(roombus::time::make_time_zone("Mars/Olympus_Mons"), std::invalid_argument);
  CHECK_THROWS_WITH(roombus::time::make_time_zone("Europe/Berln"),
                    "unknown time zone 'Europe/Berln' (expected an IANA name such as "
                    "Europe/Berlin)");
  CHECK_THROWS_AS(roombus::time::make_time_zone(""), std::invalid_argument);
}

TEST_CASE("After 2037 Berlin follows the zone's rule: CEST in summer and CET in winter",
          "[time][tz-rule]") {
  // Issue 12, defect 7: date 3.0.1 alone answers CET all year from 2038 on.
  const auto zone = roombus::time::make_time_zone("Europe/Berlin");
  CHECK(zone->abbreviation(utc(2037, 7, 1, 12, 0)) == "CEST");
  CHECK(zone->abbreviation(utc(2040, 7, 1, 12, 0)) == "CEST");
  CHECK(zone->to_local(utc(2040, 7, 1, 12, 0)) == local(2040, 7, 1, 14, 0));
  CHECK(zone->to_utc(local(2040, 7, 1, 14, 0)) == utc(2040, 7, 1, 12, 0));
  CHECK(zone->abbreviation(utc(2040, 1, 1, 12, 0)) == "CET");
  CHECK(zone->to_utc(local(2040, 1, 1, 13, 0)) == utc(2040, 1, 1, 12, 0));
  CHECK(zone->abbreviation(utc(2099, 8, 1, 0, 0)) == "CEST");
  // The changes: last Sunday of March at 01:00 UTC, last Sunday of October at 01:00 UTC.
  CHECK(zone->abbreviation(utc(2040, 3, 25, 0, 59, 59)) == "CET");
  CHECK(zone->abbreviation(utc(2040, 3, 25, 1, 0)) == "CEST");
  CHECK(zone->abbreviation(utc(2040, 10, 28, 0, 59, 59)) == "CEST");
  CHECK(zone->abbreviation(utc(2040, 10, 28, 1, 0)) == "CET");
}

TEST_CASE(
    "After 2037 a reading in the spring gap moves forward and one in the autumn overlap "
    "takes the earlier instant",
    "[time][tz-rule]") {
  const auto zone = roombus::time::make_time_zone("Europe/Berlin");
  const Instant gap = zone->to_utc(local(2040, 3, 25, 2, 30));
  CHECK(gap == utc(2040, 3, 25, 1, 30));
  CHECK(zone->to_local(gap) == local(2040, 3, 25, 3, 30));
  CHECK(zone->to_utc(local(2040, 3, 25, 1, 59, 59)) == utc(2040, 3, 25, 0, 59, 59));
  CHECK(zone->to_utc(local(2040, 3, 25, 3, 0)) == utc(2040, 3, 25, 1, 0));
  const Instant overlap = zone->to_utc(local(2040, 10, 28, 2, 30));
  CHECK(overlap == utc(2040, 10, 28, 0, 30));
  CHECK(zone->abbreviation(overlap) == "CEST");
  CHECK(zone->to_local(utc(2040, 10, 28, 1, 30)) == local(2040, 10, 28, 2, 30));
}

TEST_CASE("After 2037 other zones follow their rules too", "[time][tz-rule]") {
  const auto new_york = roombus::time::make_time_zone("America/New_York");
  CHECK(new_york->abbreviation(utc(2040, 7, 1, 12, 0)) == "EDT");
  CHECK(new_york->to_utc(local(2040, 7, 1, 8, 0)) == utc(2040, 7, 1, 12, 0));
  CHECK(new_york->abbreviation(utc(2040, 1, 1, 12, 0)) == "EST");
  CHECK(new_york->to_local(utc(2040, 1, 1, 12, 0)) == local(2040, 1, 1, 7, 0));
  // Second Sunday of March and first of November, at 02:00 local.
  CHECK(new_york->to_utc(local(2040, 3, 11, 2, 30)) == utc(2040, 3, 11, 7, 30));
  CHECK(new_york->abbreviation(utc(2040, 11, 4, 5, 59)) == "EDT");
  CHECK(new_york->abbreviation(utc(2040, 11, 4, 6, 0)) == "EST");
  // Southern hemisphere: summer time spans New Year.
  const auto sydney = roombus::time::make_time_zone("Australia/Sydney");
  CHECK(sydney->abbreviation(utc(2040, 1, 15, 0, 0)) == "AEDT");
  CHECK(sydney->to_local(utc(2040, 1, 15, 0, 0)) == local(2040, 1, 15, 11, 0));
  CHECK(sydney->abbreviation(utc(2040, 7, 15, 0, 0)) == "AEST");
  // Negative DST: Irish standard time is summer time, GMT the winter "DST".
  const auto dublin = roombus::time::make_time_zone("Europe/Dublin");
  CHECK(dublin->abbreviation(utc(2040, 7, 1, 12, 0)) == "IST");
  CHECK(dublin->to_local(utc(2040, 7, 1, 12, 0)) == local(2040, 7, 1, 13, 0));
  CHECK(dublin->abbreviation(utc(2040, 1, 1, 12, 0)) == "GMT");
  // Changes at 24:00 and numeric abbreviations.
  const auto santiago = roombus::time::make_time_zone("America/Santiago");
  CHECK(santiago->abbreviation(utc(2040, 1, 15, 12, 0)) == "-03");
  CHECK(santiago->abbreviation(utc(2040, 7, 15, 12, 0)) == "-04");
}

TEST_CASE("After 2037 a zone without DST keeps its offset", "[time][tz-rule]") {
  const auto dubai = roombus::time::make_time_zone("Asia/Dubai");
  CHECK(dubai->abbreviation(utc(2040, 7, 1, 12, 0)) == "+04");
  CHECK(dubai->to_local(utc(2040, 7, 1, 22, 0)) == local(2040, 7, 2, 2, 0));
  CHECK(dubai->to_utc(local(2040, 1, 1, 4, 0)) == utc(2040, 1, 1, 0, 0));
  const auto utc_zone = roombus::time::make_time_zone("UTC");
  CHECK(utc_zone->abbreviation(utc(2050, 7, 1, 12, 0)) == "UTC");
  CHECK(utc_zone->to_utc(local(2050, 7, 1, 12, 0)) == utc(2050, 7, 1, 12, 0));
}

namespace {

// The rule at the end of a zone's file, read the way the adapter reads it.
roombus::time::detail::PosixTz footer_rule(const std::string& zone) {
  std::ifstream in("/usr/share/zoneinfo/" + zone, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto open = bytes.rfind('\n', bytes.size() - 2);
  auto rule =
      roombus::time::detail::PosixTz::parse(bytes.substr(open + 1, bytes.size() - open - 2));
  if (!rule) throw std::runtime_error("no rule in " + zone);
  return *rule;
}

}  // namespace

TEST_CASE("Each zone's rule agrees with its listed changes for the years both cover",
          "[time][tz-rule]") {
  // date/tz knows 2025..2037 from the listed transitions; the rule must give the same answer at
  // every hour, changes included, or it would be wrong after 2037 too.
  for (const char* name : {"Europe/Berlin", "America/New_York", "Australia/Sydney", "Europe/Dublin",
                           "America/Santiago", "Pacific/Chatham", "America/Nuuk", "Asia/Tehran",
                           "Europe/London", "America/Havana", "Pacific/Auckland"}) {
    INFO(name);
    const auto rule = footer_rule(name);
    const auto* zone = date::locate_zone(name);
    int mismatches = 0;
    for (Instant t = utc(2025, 1, 1, 0, 0); t < utc(2037, 1, 1, 0, 0); t += std::chrono::hours(1)) {
      const date::sys_info listed = zone->get_info(t);
      const auto by_rule = rule.at(t);
      if (by_rule.offset != listed.offset || by_rule.abbreviation != listed.abbrev) ++mismatches;
    }
    CHECK(mismatches == 0);
  }
}

TEST_CASE("POSIX TZ rules are parsed exactly by their grammar", "[time][tz-rule]") {
  using roombus::time::detail::PosixTz;
  for (const char* good :
       {"UTC0", "<+04>-4", "CET-1CEST,M3.5.0,M10.5.0/3", "EST5EDT,M3.2.0,M11.1.0",
        "<-04>4<-03>,M9.1.6/24,M4.1.6/24", "<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45",
        "<-02>2<-01>,M3.5.0/-1,M10.5.0/0", "EST5EDT4,J60/2,300/-1:30:15", "AAA3BBB,J1/0,J365/25",
        "XXX-1YYY,M3.5.0/167,M10.5.0/-167"}) {
    INFO(good);
    CHECK(PosixTz::parse(good));
  }
  for (const char* bad :
       {"", "CET", "CE-1", "CET-1CEST", "CET-1CEST,M3.5.0", "CET-1CEST,M13.5.0,M10.5.0",
        "CET-1CEST,M3.6.0,M10.5.0", "CET-1CEST,M3.5.7,M10.5.0", "CET-1CEST,J0,J365",
        "CET-1CEST,366,M10.5.0", "CET-1CEST,M3.5.0/168,M10.5.0", "CET-25", "CET-1:60", "<+04-4",
        "<+4>-4", "CET-1CEST,M3.5.0,M10.5.0x", "CET-1 CEST,M3.5.0,M10.5.0"}) {
    INFO(bad);
    CHECK_FALSE(PosixTz::parse(bad));
  }
  // J counts no February 29; n counts it.
  auto j = *PosixTz::parse("AAA0BBB,J60,J61");
  CHECK(j.at(utc(2040, 3, 1, 12, 0)).abbreviation == "BBB");  // J60 = March 1, even in a leap year
  auto n = *PosixTz::parse("AAA0BBB,59,60");
  CHECK(n.at(utc(2040, 2, 29, 12, 0)).abbreviation == "BBB");  // day 59 of 2040 = February 29
}

TEST_CASE("The system clock reads whole seconds close to the real time", "[time]") {
  const roombus::time::SystemClock clock;
  const auto before = std::chrono::system_clock::now();
  const Instant now = clock.now();
  CHECK(now <= before + std::chrono::seconds{1});
  CHECK(now >= std::chrono::floor<std::chrono::seconds>(before));
}
