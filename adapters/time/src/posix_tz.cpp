// POSIX TZ rules: parsing the TZif footer grammar and evaluating it for any year.
#include "posix_tz.hpp"

#include <cctype>

namespace roombus::time::detail {
namespace {

using namespace std::chrono;

// A cursor over the rule text; every parse_* consumes what it accepts or fails.
struct Cursor {
  std::string_view s;
  bool done() const { return s.empty(); }
  bool peek(char c) const { return !s.empty() && s.front() == c; }
  bool eat(char c) {
    if (!peek(c)) return false;
    s.remove_prefix(1);
    return true;
  }
  std::optional<int> number(int max_digits) {
    int value = 0;
    int digits = 0;
    while (!s.empty() && std::isdigit(static_cast<unsigned char>(s.front())) != 0) {
      if (++digits > max_digits) return std::nullopt;
      value = value * 10 + (s.front() - '0');
      s.remove_prefix(1);
    }
    if (digits == 0) return std::nullopt;
    return value;
  }
};

// Alphabetic (3+ letters) or <quoted> (3+ of alnum, '+', '-').
std::optional<std::string> parse_name(Cursor& c) {
  std::string name;
  if (c.eat('<')) {
    while (!c.done() && !c.peek('>')) {
      const char ch = c.s.front();
      if (std::isalnum(static_cast<unsigned char>(ch)) == 0 && ch != '+' && ch != '-') {
        return std::nullopt;
      }
      name.push_back(ch);
      c.s.remove_prefix(1);
    }
    if (!c.eat('>')) return std::nullopt;
  } else {
    while (!c.done() && std::isalpha(static_cast<unsigned char>(c.s.front())) != 0) {
      name.push_back(c.s.front());
      c.s.remove_prefix(1);
    }
  }
  if (name.size() < 3) return std::nullopt;
  return name;
}

// [+|-]hh[:mm[:ss]] with hh <= max_hours.
std::optional<Seconds> parse_duration(Cursor& c, int max_hours) {
  int sign = 1;
  if (c.eat('-')) {
    sign = -1;
  } else {
    c.eat('+');
  }
  auto h = c.number(3);
  if (!h || *h > max_hours) return std::nullopt;
  int m = 0;
  int s = 0;
  if (c.eat(':')) {
    auto mm = c.number(2);
    if (!mm || *mm > 59) return std::nullopt;
    m = *mm;
    if (c.eat(':')) {
      auto ss = c.number(2);
      if (!ss || *ss > 59) return std::nullopt;
      s = *ss;
    }
  }
  return Seconds{sign * (*h * 3600 + m * 60 + s)};
}

std::optional<PosixTz::Rule> parse_rule(Cursor& c) {
  PosixTz::Rule r;
  if (c.eat('M')) {
    r.kind = PosixTz::Rule::Kind::month_week_day;
    auto m = c.number(2);
    if (!m || *m < 1 || *m > 12 || !c.eat('.')) return std::nullopt;
    auto w = c.number(1);
    if (!w || *w < 1 || *w > 5 || !c.eat('.')) return std::nullopt;
    auto d = c.number(1);
    if (!d || *d > 6) return std::nullopt;
    r.month = *m;
    r.week = *w;
    r.day = *d;
  } else if (c.eat('J')) {
    r.kind = PosixTz::Rule::Kind::julian_no_leap;
    auto n = c.number(3);
    if (!n || *n < 1 || *n > 365) return std::nullopt;
    r.day = *n;
  } else {
    r.kind = PosixTz::Rule::Kind::julian;
    auto n = c.number(3);
    if (!n || *n > 365) return std::nullopt;
    r.day = *n;
  }
  if (c.eat('/')) {
    auto t = parse_duration(c, 167);  // RFC 8536 extends POSIX's 0..24 to -167..167
    if (!t) return std::nullopt;
    r.time = *t;
  }
  return r;
}

// Local midnight (as days since 1970-01-01 in local time) of the rule's day in `y`.
sys_days rule_day(const PosixTz::Rule& r, year y) {
  switch (r.kind) {
    case PosixTz::Rule::Kind::julian_no_leap: {
      sys_days d = sys_days{y / January / 1} + days{r.day - 1};
      if (y.is_leap() && r.day >= 60) d += days{1};
      return d;
    }
    case PosixTz::Rule::Kind::julian:
      return sys_days{y / January / 1} + days{r.day};
    case PosixTz::Rule::Kind::month_week_day:
      break;
  }
  const auto m = month{static_cast<unsigned>(r.month)};
  const auto wd = weekday{static_cast<unsigned>(r.day)};
  if (r.week == 5) return sys_days{y / m / wd[last]};
  return sys_days{y / m / wd[static_cast<unsigned>(r.week)]};
}

}  // namespace

std::optional<PosixTz> PosixTz::parse(std::string_view text) {
  Cursor c{text};
  PosixTz tz;
  auto std_name = parse_name(c);
  auto std_offset = std_name ? parse_duration(c, 24) : std::nullopt;
  if (!std_offset) return std::nullopt;
  tz.std_ = Info{-*std_offset, *std_name};
  if (c.done()) return tz;
  auto dst_name = parse_name(c);
  if (!dst_name) return std::nullopt;
  Seconds dst_offset = tz.std_.offset + hours{1};
  if (!c.peek(',')) {
    auto given = parse_duration(c, 24);
    if (!given) return std::nullopt;
    dst_offset = -*given;
  }
  tz.dst_ = Info{dst_offset, *dst_name};
  if (!c.eat(',')) return std::nullopt;
  auto start = parse_rule(c);
  if (!start || !c.eat(',')) return std::nullopt;
  auto end = parse_rule(c);
  if (!end || !c.done()) return std::nullopt;
  tz.start_ = *start;
  tz.end_ = *end;
  return tz;
}

std::pair<SysSeconds, SysSeconds> PosixTz::changes(int y) const {
  // The start is given in standard time, the end in DST (the local time in force before each).
  const SysSeconds start = rule_day(start_, year{y}) + start_.time - std_.offset;
  const SysSeconds end = rule_day(end_, year{y}) + end_.time - dst_->offset;
  return {start, end};
}

bool PosixTz::in_dst(SysSeconds t) const {
  const int y = static_cast<int>(year_month_day{floor<days>(t + std_.offset)}.year());
  // Rules are per year; the neighbours cover a DST period that spans New Year (south) or a
  // change whose local day falls in the next year's first hours in UTC.
  for (int candidate : {y - 1, y, y + 1}) {
    auto [start, end] = changes(candidate);
    if (start < end) {
      if (start <= t && t < end) return true;
    } else {
      // Southern hemisphere: DST from `start` of this year to `end` of the next.
      auto next_end = changes(candidate + 1).second;
      if (start <= t && t < next_end) return true;
    }
  }
  return false;
}

PosixTz::Info PosixTz::at(SysSeconds t) const {
  if (dst_ && in_dst(t)) return *dst_;
  return std_;
}

SysSeconds PosixTz::to_utc(Seconds local) const {
  const SysSeconds reading{local};
  if (!dst_) return reading - std_.offset;
  const SysSeconds as_std = reading - std_.offset;
  const SysSeconds as_dst = reading - dst_->offset;
  const bool std_valid = at(as_std).offset == std_.offset;
  const bool dst_valid = at(as_dst).offset == dst_->offset;
  if (std_valid && dst_valid) return std::min(as_std, as_dst);  // overlap: the earlier
  if (std_valid) return as_std;
  if (dst_valid) return as_dst;
  // Gap: the offset in force before it is the smaller one (the clock jumps forward).
  return reading - std::min(std_.offset, dst_->offset);
}

}  // namespace roombus::time::detail
