// Unit tests of the start grammar, calendar arithmetic and the pure validation rules.
#include <catch2/catch.hpp>

#include "roombus/core/rules.hpp"
#include "roombus/core/time.hpp"
#include "support/core_fakes.hpp"

using namespace roombus::core;
using roombus::testing::at;

TEST_CASE("a start is accepted in every format jitsi-admin clients send", "[core][time]") {
  auto check = [](std::string_view text, LocalDateTime local, std::optional<int> offset) {
    auto parsed = parse_start(text);
    INFO(text);
    REQUIRE(parsed.ok());
    CHECK(parsed->local == local);
    CHECK(parsed->offset_minutes == offset);
  };
  check("2021-02-01T13:00", {2021, 2, 1, 13, 0, 0}, std::nullopt);
  check("2021-02-01T13:00:59", {2021, 2, 1, 13, 0, 59}, std::nullopt);
  check("2021-02-01 13:00", {2021, 2, 1, 13, 0, 0}, std::nullopt);
  check("2021-02-01 13:00:05", {2021, 2, 1, 13, 0, 5}, std::nullopt);
  check("2021-02-01T13:00Z", {2021, 2, 1, 13, 0, 0}, 0);
  check("2021-02-01T13:00:00+05:00", {2021, 2, 1, 13, 0, 0}, 300);
  check("2021-02-01T13:00-0330", {2021, 2, 1, 13, 0, 0}, -210);
  check("2021-02-01T13:00+02", {2021, 2, 1, 13, 0, 0}, 120);
  check("2024-02-29T00:00", {2024, 2, 29, 0, 0, 0}, std::nullopt);
  check("2030-01-07T09:00:00.000Z", {2030, 1, 7, 9, 0, 0}, 0);
  check("2030-01-07T09:00:05.123456+01:00", {2030, 1, 7, 9, 0, 5}, 60);
}

TEST_CASE("a start that is not a real date and time is refused, never guessed", "[core][time]") {
  for (std::string_view bad :
       {"garbage", "", "2021-13-01T13:00", "2021-02-30T13:00", "2021-02-01T25:00",
        "2021-02-01T13:60", "2021-02-01T13:00:60", "2021-02-01", "2021-02-01T13", "tomorrow 10:00",
        "@1612270800", "2021-2-1T13:00", "2021-02-01T13:00+15:00", "2021-02-01T13:00 ",
        "2021-02-01T13:00:00.", "2021-02-01T13:00.5", "2023-02-29T10:00", "1969-12-31T23:59",
        "2021-02-01t13:00"}) {
    INFO(bad);
    auto parsed = parse_start(bad);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == Errc::invalid_start);
  }
}

TEST_CASE("utc fields and instants convert both ways", "[core][time]") {
  Instant t = at(2021, 3, 28, 1, 30, 15);
  CHECK(utc_fields(t) == LocalDateTime{2021, 3, 28, 1, 30, 15});
  CHECK(format_iso_utc(t) == "2021-03-28T01:30:15Z");
  CHECK(t.time_since_epoch().count() == 1616895015);
}

TEST_CASE("emails are validated like PHP's filter, case-insensitively", "[core][rules]") {
  for (std::string_view good : {"a@x.de", "First.Last+tag@sub.example.com", "o'neil@example.org"}) {
    INFO(good);
    CHECK(is_valid_email(good));
  }
  for (std::string_view bad :
       {"", "a@b", "a@localhost", "@x.de", "a@", "a b@x.de", " a@x.de", "a..b@x.de", ".a@x.de",
        "a@-x.de", "a@x..de", "j\xc3\xb6rg@x.de", "a@x.de\n", "a@@x.de"}) {
    INFO(bad);
    CHECK_FALSE(is_valid_email(bad));
  }
  CHECK(lowercase("A@X.De") == "a@x.de");
}

TEST_CASE("membership admits listed emails and whole @domains, ignoring case", "[core][rules]") {
  Server s;
  s.members = {"alice@x.de", "@corp.example"};
  CHECK(is_member(s, "Alice@X.de"));
  CHECK(is_member(s, "bob@CORP.example"));
  CHECK_FALSE(is_member(s, "bob@x.de"));
  CHECK_FALSE(is_member(s, "bob@sub.corp.example"));
  CHECK_FALSE(is_member(s, "corp.example"));
  CHECK(is_valid_domain_rule("@corp.example"));
  CHECK_FALSE(is_valid_domain_rule("@"));
  CHECK_FALSE(is_valid_domain_rule("corp.example"));
}

TEST_CASE("a duration is a whole non-negative number of minutes in PHP's numeric syntax",
          "[core][rules]") {
  CHECK(*parse_duration("45") == 45);
  CHECK(*parse_duration(" 70") == 70);
  CHECK(*parse_duration("70 ") == 70);
  CHECK(*parse_duration("1e2") == 100);
  CHECK(*parse_duration("70.0") == 70);
  CHECK(*parse_duration("0") == 0);
  for (std::string_view bad :
       {"", "abc", "30min", "1,5", "0x1A", "1.5", "-30", "1e400", "527041", "nan", "inf", "."}) {
    INFO(bad);
    auto d = parse_duration(bad);
    REQUIRE_FALSE(d.ok());
    CHECK(d.error().code == Errc::invalid_duration);
  }
}

TEST_CASE("the getRooms window is a whole number of minutes, negatives giving an empty window",
          "[core][rules]") {
  CHECK(*parse_minutes("10") == 10);
  CHECK(*parse_minutes("-5") == -5);
  CHECK(*parse_minutes(" 10") == 10);
  for (std::string_view bad : {"", "abc", "1.5", "10m", "99999999"}) {
    INFO(bad);
    auto m = parse_minutes(bad);
    REQUIRE_FALSE(m.ok());
    CHECK(m.error().code == Errc::invalid_minutes);
  }
}

TEST_CASE("names must be well-formed UTF-8 without NUL", "[core][rules]") {
  CHECK(is_valid_utf8_text("Daily"));
  CHECK(is_valid_utf8_text("Besprechung gel\xc3\xb6scht \xf0\x9f\x98\x80"));
  CHECK(is_valid_utf8_text(""));
  for (std::string_view bad : {std::string_view("a\0b", 3), std::string_view("\xc3"),
                               std::string_view("\xc0\xaf"), std::string_view("\xed\xa0\x80"),
                               std::string_view("\xf4\x90\x80\x80"), std::string_view("\xff")}) {
    CHECK_FALSE(is_valid_utf8_text(bad));
  }
}
