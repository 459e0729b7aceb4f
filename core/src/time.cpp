// The v1 start-string grammar and calendar arithmetic on UTC instants.
#include "roombus/core/time.hpp"

namespace roombus::core {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}
  bool done() const { return pos_ == text_.size(); }
  char peek() const { return done() ? '\0' : text_[pos_]; }
  bool accept(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  // Exactly n ASCII digits.
  bool digits(std::size_t n, unsigned& out) {
    if (text_.size() - pos_ < n) return false;
    unsigned value = 0;
    for (std::size_t i = 0; i < n; ++i) {
      char c = text_[pos_ + i];
      if (c < '0' || c > '9') return false;
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    pos_ += n;
    out = value;
    return true;
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

Error bad_start(std::string_view text, std::string_view why) {
  std::string shown(text.substr(0, 64));
  return make_error(Errc::invalid_start,
                    "invalid start '" + shown + "': " + std::string(why) +
                        " (expected YYYY-mm-ddTHH:MM[:SS] with an optional Z or +hh:mm)");
}

}  // namespace

Result<ParsedStart> parse_start(std::string_view text) {
  Scanner in(text);
  ParsedStart out;
  unsigned year = 0;
  if (!in.digits(4, year) || !in.accept('-') || !in.digits(2, out.local.month) || !in.accept('-') ||
      !in.digits(2, out.local.day)) {
    return bad_start(text, "not a date");
  }
  out.local.year = static_cast<int>(year);
  if (!in.accept('T') && !in.accept(' '))
    return bad_start(text, "date and time must be joined by T");
  if (!in.digits(2, out.local.hour) || !in.accept(':') || !in.digits(2, out.local.minute)) {
    return bad_start(text, "not a time");
  }
  if (in.accept(':')) {
    if (!in.digits(2, out.local.second)) return bad_start(text, "bad seconds");
    // JavaScript's toISOString() sends milliseconds; instants are whole seconds, so they go.
    if (in.accept('.')) {
      unsigned digit = 0;
      std::size_t count = 0;
      while (count < 9 && in.digits(1, digit)) ++count;
      if (count == 0) return bad_start(text, "bad fraction of a second");
    }
  }

  if (in.accept('Z')) {
    out.offset_minutes = 0;
  } else if (in.peek() == '+' || in.peek() == '-') {
    int sign = in.accept('-') ? -1 : (in.accept('+'), 1);
    unsigned oh = 0;
    unsigned om = 0;
    if (!in.digits(2, oh)) return bad_start(text, "bad offset");
    if (in.accept(':')) {
      if (!in.digits(2, om)) return bad_start(text, "bad offset");
    } else if (!in.done() && !in.digits(2, om)) {
      return bad_start(text, "bad offset");
    }
    if (oh > 14 || om > 59 || oh * 60 + om > 14 * 60) return bad_start(text, "offset out of range");
    out.offset_minutes = sign * static_cast<int>(oh * 60 + om);
  }
  if (!in.done()) return bad_start(text, "unexpected trailing characters");

  const auto& l = out.local;
  std::chrono::year_month_day ymd{std::chrono::year{l.year}, std::chrono::month{l.month},
                                  std::chrono::day{l.day}};
  if (l.year < 1970 || l.year > 9999 || !ymd.ok()) return bad_start(text, "no such date");
  if (l.hour > 23 || l.minute > 59 || l.second > 59) return bad_start(text, "no such time");
  return out;
}

Instant instant_from_utc_fields(const LocalDateTime& utc) {
  std::chrono::year_month_day ymd{std::chrono::year{utc.year}, std::chrono::month{utc.month},
                                  std::chrono::day{utc.day}};
  return std::chrono::sys_days{ymd} + hours{utc.hour} + minutes{utc.minute} + seconds{utc.second};
}

LocalDateTime utc_fields(Instant t) {
  auto day = std::chrono::floor<days>(t);
  std::chrono::year_month_day ymd{day};
  std::chrono::hh_mm_ss hms{t - day};
  LocalDateTime out;
  out.year = static_cast<int>(ymd.year());
  out.month = static_cast<unsigned>(ymd.month());
  out.day = static_cast<unsigned>(ymd.day());
  out.hour = static_cast<unsigned>(hms.hours().count());
  out.minute = static_cast<unsigned>(hms.minutes().count());
  out.second = static_cast<unsigned>(hms.seconds().count());
  return out;
}

std::string format_iso_utc(Instant t) {
  // Hand-formatted: this runs for every event encoded, and snprintf's parsing showed in profiles.
  LocalDateTime f = utc_fields(t);
  // At least four year digits, more past 9999 (the event codec round-trips such years).
  std::string year = std::to_string(f.year);
  if (f.year >= 0 && year.size() < 4) year.insert(0, 4 - year.size(), '0');
  std::string out = year + "-00-00T00:00:00Z";
  auto put = [&out](std::size_t at, unsigned value) {
    out[at] = static_cast<char>('0' + value / 10);
    out[at + 1] = static_cast<char>('0' + value % 10);
  };
  std::size_t y = year.size();
  put(y + 1, f.month);
  put(y + 4, f.day);
  put(y + 7, f.hour);
  put(y + 10, f.minute);
  put(y + 13, f.second);
  return out;
}

}  // namespace roombus::core
