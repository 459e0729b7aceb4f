// TzTimeZone: wall-clock readings <-> UTC instants through date/tz and the system tz database.
#include "roombus/time/tz_time_zone.hpp"

#include <date/date.h>
#include <date/tz.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "posix_tz.hpp"

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

// The footer of a TZif file of version 2 or later: the POSIX TZ string between the last two
// newlines (RFC 8536 §3.3). Empty when there is none (version 1, or an empty footer).
std::string tzif_footer(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.eof() && in.fail()) throw std::runtime_error("cannot read " + file);
  if (bytes.size() < 5 || bytes.compare(0, 4, "TZif") != 0 || bytes[4] < '2') return {};
  if (bytes.back() != '\n') throw std::runtime_error(file + " does not end with a TZ rule line");
  const auto open = bytes.rfind('\n', bytes.size() - 2);
  if (open == std::string::npos) throw std::runtime_error(file + " has no TZ rule line");
  return bytes.substr(open + 1, bytes.size() - open - 2);
}

}  // namespace

TzTimeZone::TzTimeZone(std::string_view iana_name) : zone_(locate(iana_name)) {
  // date reads a zone's TZif file on its first query; do that now, not on the core's thread.
  (void)zone_->get_info(date::sys_seconds{});
  const std::string file = "/usr/share/zoneinfo/" + std::string(zone_->name());
  const std::string footer = tzif_footer(file);
  if (footer.empty()) return;
  auto rule = detail::PosixTz::parse(footer);
  if (!rule) {
    throw std::runtime_error("cannot read the rule \"" + footer + "\" at the end of " + file +
                             " (it gives the zone's offsets after its last listed change)");
  }
  rule_ = std::make_unique<const detail::PosixTz>(std::move(*rule));
  // Where date/tz stops knowing: the start of the period it would extend for ever.
  const auto far = date::sys_days{date::year{2400} / 1 / 1};
  rule_from_ = std::chrono::time_point_cast<std::chrono::seconds>(zone_->get_info(far).begin);
}

TzTimeZone::~TzTimeZone() = default;

bool TzTimeZone::by_rule(core::Instant t) const { return rule_ != nullptr && t >= rule_from_; }

std::string TzTimeZone::name() const { return std::string(zone_->name()); }

core::Instant TzTimeZone::to_utc(const core::LocalDateTime& local) const {
  const date::local_seconds reading =
      date::local_days{date::year{local.year} / date::month{local.month} / date::day{local.day}} +
      std::chrono::hours{local.hour} + std::chrono::minutes{local.minute} +
      std::chrono::seconds{local.second};
  // For a gap `first` is the period before it and for an overlap the earlier period, so one
  // subtraction implements both rules of the port.
  const date::local_info info = zone_->get_info(reading);
  const core::Instant listed{reading.time_since_epoch() - info.first.offset};
  if (!by_rule(listed)) return listed;
  return rule_->to_utc(reading.time_since_epoch());
}

core::LocalDateTime TzTimeZone::to_local(core::Instant t) const {
  const date::local_seconds reading =
      by_rule(t) ? date::local_seconds{t.time_since_epoch() + rule_->at(t).offset}
                 : zone_->to_local(t);
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

std::string TzTimeZone::abbreviation(core::Instant t) const {
  if (by_rule(t)) return rule_->at(t).abbreviation;
  return zone_->get_info(t).abbrev;
}

std::unique_ptr<core::TimeZone> make_time_zone(std::string_view iana_name) {
  return std::make_unique<TzTimeZone>(iana_name);
}

}  // namespace roombus::time
