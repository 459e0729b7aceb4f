// TzTimeZone: wall-clock readings <-> UTC instants through date/tz and the system tz database.
#include "roombus/time/tz_time_zone.hpp"

#include <date/date.h>
#include <date/tz.h>

#include <chrono>
#include <stdexcept>
#include <string>

namespace roombus::time {
namespace {

const date::time_zone* locate(std::string_view iana_name) {
  // Load the database first so that a broken installation is not reported as a bad name.
  try {
    (void)date::get_tzdb();
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("cannot load the tz database (is tzdata installed?): ") +
                             e.what());
  }
  try {
    // The free function, not tzdb::locate_zone: Debian's libdate-tz does not export the member.
    return date::locate_zone(iana_name);
  } catch (const std::runtime_error&) {
    throw std::invalid_argument("unknown time zone '" + std::string(iana_name) +
                                "' (expected an IANA name such as Europe/Berlin)");
  }
}

}  // namespace

TzTimeZone::TzTimeZone(std::string_view iana_name) : zone_(locate(iana_name)) {
  // date reads a zone's TZif file on its first query; do that now, not on the core's thread.
  (void)zone_->get_info(date::sys_seconds{});
}

std::string TzTimeZone::name() const { return std::string(zone_->name()); }

core::Instant TzTimeZone::to_utc(const core::LocalDateTime& local) const {
  const date::local_seconds reading =
      date::local_days{date::year{local.year} / date::month{local.month} / date::day{local.day}} +
      std::chrono::hours{local.hour} + std::chrono::minutes{local.minute} +
      std::chrono::seconds{local.second};
  // For a gap `first` is the period before it and for an overlap the earlier period, so one
  // subtraction implements both rules of the port.
  const date::local_info info = zone_->get_info(reading);
  return core::Instant{reading.time_since_epoch() - info.first.offset};
}

core::LocalDateTime TzTimeZone::to_local(core::Instant t) const {
  const date::local_seconds reading = zone_->to_local(t);
  const date::local_days day = date::floor<date::days>(reading);
  const date::year_month_day ymd{day};
  const date::hh_mm_ss<std::chrono::seconds> hms{reading - day};
  return core::LocalDateTime{
      .year = static_cast<int>(ymd.year()),
      .month = static_cast<unsigned>(ymd.month()),
      .day = static_cast<unsigned>(ymd.day()),
      .hour = static_cast<unsigned>(hms.hours().count()),
      .minute = static_cast<unsigned>(hms.minutes().count()),
      .second = static_cast<unsigned>(hms.seconds().count()),
  };
}

std::string TzTimeZone::abbreviation(core::Instant t) const { return zone_->get_info(t).abbrev; }

std::unique_ptr<core::TimeZone> make_time_zone(std::string_view iana_name) {
  return std::make_unique<TzTimeZone>(iana_name);
}

}  // namespace roombus::time
