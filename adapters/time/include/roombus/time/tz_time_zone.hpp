// The TimeZone port on the system tz database (date/tz, USE_OS_TZDB).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "roombus/core/ports.hpp"

namespace date {
class time_zone;
}  // namespace date

namespace roombus::time {

namespace detail {
class PosixTz;
}  // namespace detail

// One IANA zone, resolved once. The zone's transitions are loaded by the constructor so that the
// port's calls never touch the file system afterwards.
//
// The packaged date/tz (3.0.1) does not evaluate the POSIX TZ rule that TZif files carry for
// instants after their last listed transition (2037 on Debian): it would apply the last listed
// offset for ever, without DST. So the constructor reads that rule from the zone's file in
// /usr/share/zoneinfo and applies it itself after the last transition date/tz knows.
class TzTimeZone final : public core::TimeZone {
 public:
  // Throws std::invalid_argument for a name the tz database does not know, and
  // std::runtime_error when the tz database itself cannot be loaded or the zone's file has a
  // rule this code cannot read (never for zic's output).
  explicit TzTimeZone(std::string_view iana_name);
  ~TzTimeZone() override;

  std::string name() const override;
  // Gap: the reading is taken with the offset in force before the gap, which moves it forward
  // by the gap (PHP DateTime does the same). Overlap: the earlier of the two instants.
  core::Instant to_utc(const core::LocalDateTime& local) const override;
  core::LocalDateTime to_local(core::Instant t) const override;
  std::string abbreviation(core::Instant t) const override;

 private:
  // The rule for instants from `rule_from_` on, when the zone's file has one.
  bool by_rule(core::Instant t) const;

  const date::time_zone* zone_;  // owned by date's process-wide tz database, never freed
  std::unique_ptr<const detail::PosixTz> rule_;
  core::Instant rule_from_{};
};

// Factory for the composition root; same errors as the constructor. The message of
// std::invalid_argument is suitable for a one-line configuration error.
std::unique_ptr<core::TimeZone> make_time_zone(std::string_view iana_name);

}  // namespace roombus::time
