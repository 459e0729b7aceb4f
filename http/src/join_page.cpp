// The join page's HTML in German and English, its stylesheet, and Accept-Language negotiation.
#include "join_page.hpp"

#include <chrono>
#include <cstdio>
#include <optional>

#include "roombus/http/request.hpp"

namespace roombus::http::detail {
namespace {

// One text per language; chosen by the page's language.
struct Text {
  std::string_view de;
  std::string_view en;
  std::string_view operator()(Language l) const { return l == Language::de ? de : en; }
};

constexpr Text kEyebrow{"Videokonferenz", "Video meeting"};
constexpr Text kJoinTitle{"Beitreten", "Join"};
constexpr Text kUntitled{"Meeting", "Meeting"};
constexpr Text kOpen{
    "Jetzt ge\xc3\xb6"
    "ffnet",
    "Open now"};
constexpr Text kWaiting{
    "Noch nicht ge\xc3\xb6"
    "ffnet",
    "Not open yet"};
constexpr Text kOver{"Beendet", "Ended"};
constexpr Text kMinutes{"Minuten", "minutes"};
constexpr Text kLabel{"Ihr Name", "Your name"};
constexpr Text kPlaceholder{
    "z.\xc2\xa0"
    "B. Alex Schmidt",
    "e.g. Alex Smith"};
constexpr Text kHint{"Diesen Namen sehen die anderen im Meeting.",
                     "Others in the meeting will see this name."};
constexpr Text kJoinBrowser{"Meeting beitreten", "Join meeting"};
constexpr Text kJoinApp{
    "In der Jitsi-Meet-App \xc3\xb6"
    "ffnen",
    "Open in the Jitsi Meet app"};
constexpr Text kUseApp{"Stattdessen die Jitsi-Meet-App verwenden",
                       "Use the Jitsi Meet app instead"};
constexpr Text kUseBrowser{"Stattdessen im Browser beitreten", "Join in the browser instead"};
constexpr Text kEmpty{"Bitte geben Sie Ihren Namen ein.", "Please enter your name."};
constexpr Text kTooLong{
    "Bitte verwenden Sie h\xc3\xb6"
    "chstens 80 Zeichen.",
    "Please use at most 80 characters."};
constexpr Text kBadCharacters{
    "Ihr Name enth\xc3\xa4lt Zeichen, die nicht verwendet werden k\xc3\xb6nnen.",
    "Your name contains characters that cannot be used."};
constexpr Text kNotFoundTitle{"Dieser Link funktioniert nicht", "This link does not work"};
constexpr Text kNotFound{
    "Er f\xc3\xbchrt zu keinem Meeting (mehr). Vielleicht wurde das Meeting abgesagt oder "
    "verschoben, oder der Link wurde nicht vollst\xc3\xa4ndig kopiert. Bitte fragen Sie bei der "
    "Person nach, die Sie eingeladen hat.",
    "It does not lead to a meeting (any more). The meeting may have been cancelled or moved, or "
    "the link was not copied completely. Please ask the person who invited you."};
constexpr Text kFooter{"Terminplanung mit roombus", "Scheduled with roombus"};

constexpr std::string_view kWeekdaysDe[] = {"Sonntag",    "Montag",  "Dienstag", "Mittwoch",
                                            "Donnerstag", "Freitag", "Samstag"};
constexpr std::string_view kWeekdaysEn[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                            "Thursday", "Friday", "Saturday"};
constexpr std::string_view kMonthsDe[] = {"Januar",    "Februar", "M\xc3\xa4rz", "April",
                                          "Mai",       "Juni",    "Juli",        "August",
                                          "September", "Oktober", "November",    "Dezember"};
constexpr std::string_view kMonthsEn[] = {"January",   "February", "March",    "April",
                                          "May",       "June",     "July",     "August",
                                          "September", "October",  "November", "December"};

// "Dienstag, 2. Februar 2021" / "Tuesday, 2 February 2021".
std::string long_date(Language language, const core::LocalDateTime& t) {
  using namespace std::chrono;
  year_month_day ymd{year{t.year}, month{t.month}, day{t.day}};
  unsigned wd = weekday{sys_days{ymd}}.c_encoding();
  bool de = language == Language::de;
  std::string out(de ? kWeekdaysDe[wd] : kWeekdaysEn[wd]);
  out += ", " + std::to_string(t.day) + (de ? ". " : " ");
  out += de ? kMonthsDe[t.month - 1] : kMonthsEn[t.month - 1];
  return out + " " + std::to_string(t.year);
}

std::string clock_time(const core::LocalDateTime& t) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02u:%02u", t.hour, t.minute);
  return buf;
}

bool same_day(const core::LocalDateTime& a, const core::LocalDateTime& b) {
  return a.year == b.year && a.month == b.month && a.day == b.day;
}

// "<date> at 12:30 CET" / "<date> um 12:30 Uhr CET".
std::string moment(Language language, const core::TimeZone& zone, core::Instant t) {
  core::LocalDateTime l = zone.to_local(t);
  bool de = language == Language::de;
  return long_date(language, l) + (de ? " um " : " at ") + clock_time(l) + (de ? " Uhr " : " ") +
         zone.abbreviation(t);
}

// Calendar and camera glyphs: inline SVG with presentation attributes only, which the page's
// Content-Security-Policy (no inline styles) allows.
constexpr std::string_view kCameraIcon =
    R"(<svg width="20" height="20" viewBox="0 0 24 24" fill="none" stroke="currentColor" )"
    R"(stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">)"
    R"(<rect x="2" y="6" width="14" height="12" rx="2"/><path d="M16 10l6-3v10l-6-3z"/></svg>)";
constexpr std::string_view kCalendarIcon =
    R"(<svg width="20" height="20" viewBox="0 0 24 24" fill="none" stroke="currentColor" )"
    R"(stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">)"
    R"(<rect x="3" y="5" width="18" height="16" rx="2"/><path d="M16 3v4M8 3v4M3 10h18"/></svg>)";

void schedule(std::string& out, const JoinPage& page) {
  const core::Room& room = *page.room;
  const core::TimeZone& zone = *page.zone;
  core::LocalDateTime start = zone.to_local(room.start);
  core::LocalDateTime end = zone.to_local(room.end);
  std::string start_zone = zone.abbreviation(room.start);
  std::string end_zone = zone.abbreviation(room.end);
  out += "<p class=\"when\">";
  out += kCalendarIcon;
  out += "<span>";
  if (same_day(start, end)) {
    out += html_escape(long_date(page.language, start)) + "<br>";
    out += clock_time(start) + (start_zone == end_zone ? "" : " " + html_escape(start_zone));
    out += " \xe2\x80\x93 " + clock_time(end) + " " + html_escape(end_zone);
  } else {
    out += html_escape(long_date(page.language, start)) + ", " + clock_time(start) + " " +
           html_escape(start_zone) + " \xe2\x80\x93<br>";
    out += html_escape(long_date(page.language, end)) + ", " + clock_time(end) + " " +
           html_escape(end_zone);
  }
  out += "<small>" + std::to_string(room.duration_minutes) + " " +
         std::string(kMinutes(page.language)) + "</small></span></p>\n";
}

void status(std::string& out, const JoinPage& page) {
  Language l = page.language;
  bool de = l == Language::de;
  const core::TimeZone& zone = *page.zone;
  switch (page.state) {
    case JoinState::open:
      out += "<p class=\"status open\">" + std::string(kOpen(l)) + "</p>\n";
      return;
    case JoinState::too_early: {
      out += "<p class=\"status waiting\">" + std::string(kWaiting(l)) + "</p>\n";
      std::string when = html_escape(moment(l, zone, page.opens));
      std::string lead = std::to_string(page.early_minutes);
      std::string sentence =
          de ? "Sie k\xc3\xb6nnen ab " + when + " beitreten" : "You can join from " + when;
      if (page.early_minutes > 0) {
        sentence +=
            de ? ", " + lead + " Minuten vor Beginn." : ", " + lead + " minutes before the start.";
      } else {
        sentence += de ? ", sobald es beginnt." : ", when it starts.";
      }
      out += "<p class=\"note\">" + sentence + "</p>\n";
      return;
    }
    case JoinState::ended: {
      out += "<p class=\"status over\">" + std::string(kOver(l)) + "</p>\n";
      std::string when = html_escape(moment(l, zone, page.room->end));
      out +=
          "<p class=\"note\">" +
          (de ? "Dieses Meeting endete am " + when + "." : "This meeting ended on " + when + ".") +
          "</p>\n";
      return;
    }
  }
}

void form(std::string& out, const JoinPage& page) {
  Language l = page.language;
  // No action attribute: the form submits to the page's own URL, whatever prefix a proxy adds.
  out += "<form method=\"get\">\n<label for=\"name\">" + std::string(kLabel(l)) + "</label>\n";
  out += "<input id=\"name\" name=\"name\" type=\"text\" required maxlength=\"" +
         std::to_string(kMaxJoinNameCharacters) +
         "\" autocomplete=\"name\" autocapitalize=\"words\" spellcheck=\"false\" autofocus "
         "placeholder=\"" +
         std::string(kPlaceholder(l)) + "\" value=\"" + html_escape(page.name) + "\"";
  std::string_view error;
  switch (page.error) {
    case NameError::none:
      break;
    case NameError::empty:
      error = kEmpty(l);
      break;
    case NameError::too_long:
      error = kTooLong(l);
      break;
    case NameError::bad_characters:
      error = kBadCharacters(l);
      break;
  }
  if (!error.empty()) out += " aria-invalid=\"true\" aria-describedby=\"name-error\"";
  out += ">\n";
  if (!error.empty()) {
    out += "<p id=\"name-error\" class=\"error\" role=\"alert\">" + std::string(error) + "</p>\n";
  } else {
    out += "<p class=\"hint\">" + std::string(kHint(l)) + "</p>\n";
  }
  out += "<button type=\"submit\">" + std::string(page.app ? kJoinApp(l) : kJoinBrowser(l)) +
         "</button>\n</form>\n";
  // Relative, so it keeps working behind a proxy that mounts roombus under a prefix.
  out += "<p class=\"alt\"><a href=\"../" + std::string(page.app ? "b/" : "a/") +
         html_escape(page.token) + "\">" + std::string(page.app ? kUseBrowser(l) : kUseApp(l)) +
         "</a></p>\n";
}

std::optional<double> parse_q(std::string_view params) {
  // params: everything after the language range, e.g. ";q=0.8".
  std::size_t at = params.find("q=");
  if (at == std::string_view::npos) return 1.0;
  std::string value(params.substr(at + 2));
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
  char* end = nullptr;
  double q = std::strtod(value.c_str(), &end);
  if (end == value.c_str() || q < 0 || q > 1) return std::nullopt;
  return q;
}

}  // namespace

Language negotiate_language(std::string_view accept_language) {
  std::optional<Language> best;
  double best_q = 0;
  while (!accept_language.empty()) {
    std::size_t comma = accept_language.find(',');
    std::string_view item = accept_language.substr(0, comma);
    accept_language.remove_prefix(comma == std::string_view::npos ? accept_language.size()
                                                                  : comma + 1);
    std::size_t semi = item.find(';');
    std::string_view range = item.substr(0, semi);
    while (!range.empty() && (range.front() == ' ' || range.front() == '\t'))
      range.remove_prefix(1);
    while (!range.empty() && (range.back() == ' ' || range.back() == '\t')) range.remove_suffix(1);
    auto q = parse_q(semi == std::string_view::npos ? "" : item.substr(semi + 1));
    if (!q || *q <= 0) continue;
    std::string_view primary = range.substr(0, range.find('-'));
    std::optional<Language> language;
    if (iequals(primary, "de")) language = Language::de;
    if (iequals(primary, "en")) language = Language::en;
    if (language && *q > best_q) {
      best = language;
      best_q = *q;
    }
  }
  return best.value_or(Language::en);
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string render_join_page(const JoinPage& page) {
  Language l = page.language;
  std::string title = page.room == nullptr      ? std::string(kNotFoundTitle(l))
                      : page.room->name.empty() ? std::string(kUntitled(l))
                                                : page.room->name;
  std::string out = "<!doctype html>\n<html lang=\"";
  out += l == Language::de ? "de" : "en";
  out +=
      "\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<meta name=\"referrer\" content=\"no-referrer\">\n"
      "<meta name=\"robots\" content=\"noindex, nofollow\">\n<title>";
  out += html_escape(title) + " \xc2\xb7 " + std::string(kJoinTitle(l)) + "</title>\n";
  out +=
      "<link rel=\"icon\" href=\"../icon.svg\" type=\"image/svg+xml\">\n"
      "<link rel=\"stylesheet\" href=\"../style.css\">\n</head>\n<body>\n<main class=\"card\">\n";
  out += "<p class=\"brand\">" + std::string(kCameraIcon) + std::string(kEyebrow(l)) + "</p>\n";
  out += "<h1>" + html_escape(title) + "</h1>\n";
  if (page.room == nullptr) {
    out += "<p class=\"note\">" + std::string(kNotFound(l)) + "</p>\n";
  } else {
    schedule(out, page);
    status(out, page);
    if (page.state == JoinState::open) form(out, page);
  }
  out += "</main>\n<footer>" + std::string(kFooter(l)) + "</footer>\n</body>\n</html>\n";
  return out;
}

std::string_view join_stylesheet() {
  return R"css(:root {
  color-scheme: light dark;
  --bg: #eef2f7; --card: #fff; --text: #17202b; --muted: #5a6675; --line: #dbe2ea;
  --accent: #1a66d9; --accent-hover: #1454b4; --accent-text: #fff; --ring: rgba(26, 102, 217, .28);
  --ok: #126b34; --ok-bg: #e3f3e8; --wait: #8a5300; --wait-bg: #fdf0d3;
  --over: #4f5b69; --over-bg: #e9edf2; --err: #b3261e; --err-bg: #fce9e7;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0e1319; --card: #161d25; --text: #e5eaf0; --muted: #98a4b1; --line: #28323d;
    --accent: #5c9dff; --accent-hover: #82b4ff; --accent-text: #0a1220; --ring: rgba(92, 157, 255, .35);
    --ok: #86d7a1; --ok-bg: #15301f; --wait: #f1c76a; --wait-bg: #372c11;
    --over: #b0bac5; --over-bg: #222b35; --err: #f3a49c; --err-bg: #3a1b18;
  }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0; min-height: 100vh; display: flex; flex-direction: column; align-items: center;
  justify-content: center; padding: 32px 16px; background: var(--bg); color: var(--text);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", Cantarell,
    "Helvetica Neue", Arial, sans-serif;
}
.card {
  width: 100%; max-width: 440px; background: var(--card); border: 1px solid var(--line);
  border-radius: 16px; padding: 32px 28px;
  box-shadow: 0 1px 2px rgba(16, 24, 40, .06), 0 12px 32px rgba(16, 24, 40, .08);
}
.brand {
  display: flex; align-items: center; gap: 8px; margin: 0 0 14px; color: var(--muted);
  font-size: .8125rem; font-weight: 600; letter-spacing: .06em; text-transform: uppercase;
}
.brand svg { color: var(--accent); }
h1 { margin: 0 0 18px; font-size: 1.625rem; line-height: 1.25; overflow-wrap: anywhere; }
.when { display: flex; gap: 12px; align-items: flex-start; margin: 0 0 18px; }
.when svg { flex: none; margin-top: 2px; color: var(--muted); }
.when small { display: block; color: var(--muted); font-size: .875rem; }
.status {
  display: inline-flex; align-items: center; gap: 8px; margin: 0 0 10px; padding: 4px 12px;
  border-radius: 999px; font-size: .875rem; font-weight: 600;
}
.status::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: currentColor; }
.status.open { color: var(--ok); background: var(--ok-bg); }
.status.waiting { color: var(--wait); background: var(--wait-bg); }
.status.over { color: var(--over); background: var(--over-bg); }
.note { margin: 0; color: var(--muted); }
form { margin-top: 22px; padding-top: 22px; border-top: 1px solid var(--line); }
label { display: block; margin-bottom: 6px; font-weight: 600; }
input {
  width: 100%; padding: 12px 14px; font: inherit; color: inherit; background: var(--card);
  border: 1px solid var(--line); border-radius: 10px; outline: none;
}
input::placeholder { color: var(--muted); opacity: .7; }
input:focus { border-color: var(--accent); box-shadow: 0 0 0 4px var(--ring); }
input[aria-invalid="true"] { border-color: var(--err); }
input[aria-invalid="true"]:focus { box-shadow: 0 0 0 4px var(--err-bg); }
.hint { margin: 6px 0 0; color: var(--muted); font-size: .875rem; }
.error {
  margin: 8px 0 0; padding: 8px 12px; border-radius: 8px; color: var(--err);
  background: var(--err-bg); font-size: .875rem;
}
button {
  width: 100%; margin-top: 20px; padding: 13px 16px; font: inherit; font-weight: 600;
  color: var(--accent-text); background: var(--accent); border: 0; border-radius: 10px;
  cursor: pointer;
}
button:hover { background: var(--accent-hover); }
button:focus-visible, a:focus-visible { outline: 3px solid var(--ring); outline-offset: 2px; }
a { color: var(--accent); text-underline-offset: 3px; }
.alt { margin: 16px 0 0; text-align: center; font-size: .9375rem; }
footer { margin-top: 20px; color: var(--muted); font-size: .8125rem; }
@media (max-width: 480px) {
  body { justify-content: flex-start; padding: 20px 12px; }
  .card { padding: 24px 20px; border-radius: 14px; }
  h1 { font-size: 1.375rem; }
}
)css";
}

std::string_view join_icon() {
  return R"(<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">)"
         R"(<rect width="32" height="32" rx="8" fill="#1a66d9"/>)"
         R"(<rect x="6" y="10" width="14" height="12" rx="2.5" fill="#fff"/>)"
         R"(<path d="M21 14.5l5-3v9l-5-3z" fill="#fff"/></svg>)";
}

}  // namespace roombus::http::detail
