// The POSIX TZ rule at the end of a TZif file (RFC 8536 §3.3): the zone's offsets after its last
// listed transition.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace roombus::time::detail {

using Seconds = std::chrono::seconds;
using SysSeconds = std::chrono::sys_seconds;

// `std offset [dst [offset] ,start[/time],end[/time]]`, e.g. "CET-1CEST,M3.5.0,M10.5.0/3".
class PosixTz {
 public:
  // The day a DST change happens: Jn (1..365, February 29 never counted), n (0..365, counted),
  // or Mm.w.d (weekday d, 0 = Sunday, of week w (5 = the last) of month m); at `time` (local
  // time then in force, -167..167 hours).
  struct Rule {
    enum class Kind { julian_no_leap, julian, month_week_day } kind = Kind::month_week_day;
    int day = 0;
    int week = 0;
    int month = 0;
    Seconds time{7200};
  };

  struct Info {
    Seconds offset;  // east of UTC, positive (the reverse of POSIX's sign)
    std::string abbreviation;
    bool operator==(const Info&) const = default;
  };

  // nullopt unless `text` is the whole grammar. A DST name without a rule is refused: POSIX
  // leaves that rule to the implementation, and zic always writes one.
  static std::optional<PosixTz> parse(std::string_view text);

  // Offset and abbreviation in force at `t`.
  Info at(SysSeconds t) const;
  // A wall-clock reading (as seconds since 1970-01-01 00:00 local) to an instant: a reading in a
  // gap takes the offset in force before it (moving it forward by the gap), one in an overlap
  // the earlier instant.
  SysSeconds to_utc(Seconds local) const;

 private:
  // The UTC instants DST starts and ends in `year` (of local standard time).
  std::pair<SysSeconds, SysSeconds> changes(int year) const;
  bool in_dst(SysSeconds t) const;

  Info std_;
  std::optional<Info> dst_;
  Rule start_;
  Rule end_;
};

}  // namespace roombus::time::detail
