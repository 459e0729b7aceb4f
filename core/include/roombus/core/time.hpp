// Time values of the core: UTC instants, wall-clock readings, and the v1 start-string grammar.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "roombus/core/result.hpp"

namespace roombus::core {

// A point in time, UTC, to the second (jitsi-admin stores seconds; fractions are dropped).
using Instant = std::chrono::sys_seconds;

// A wall-clock reading with no zone attached ("what the clock on the wall says").
struct LocalDateTime {
  int year = 1970;
  unsigned month = 1;   // 1..12
  unsigned day = 1;     // 1..31, valid for the month
  unsigned hour = 0;    // 0..23
  unsigned minute = 0;  // 0..59
  unsigned second = 0;  // 0..59
  friend bool operator==(const LocalDateTime&, const LocalDateTime&) = default;
};

// A parsed v1 start: either a wall-clock reading to be read in the configured zone, or an
// instant fixed by an explicit `Z` / `+hh:mm` suffix.
struct ParsedStart {
  LocalDateTime local;
  std::optional<int> offset_minutes;  // set when the input carried Z or an offset
};

// Accepts exactly: `YYYY-mm-ddThh:mm`, `YYYY-mm-ddThh:mm:ss` (optionally with a fraction of a
// second, which is dropped), either with a space instead of `T`, each optionally followed by `Z`,
// `+hh:mm`, `-hh:mm`, `+hhmm` or `+hh`. Dates and times
// must exist (no 2021-02-30, no 25:00); anything else is Errc::invalid_start.
Result<ParsedStart> parse_start(std::string_view text);

// Days-from-civil arithmetic on the std calendar types (no zone involved).
Instant instant_from_utc_fields(const LocalDateTime& utc);
LocalDateTime utc_fields(Instant t);

// `YYYY-mm-ddTHH:MM:SSZ`, for logs, events and error texts.
std::string format_iso_utc(Instant t);

}  // namespace roombus::core
