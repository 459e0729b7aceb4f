// Response heads serialized for the wire, with the Date field cached per second.
#include "reply.hpp"

#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace roombus::http::detail {
namespace {

std::string http_date(std::chrono::system_clock::time_point t) {
  static constexpr std::array<const char*, 7> days = {"Sun", "Mon", "Tue", "Wed",
                                                      "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  std::array<char, 40> out{};
  int n = std::snprintf(out.data(), out.size(), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                        days.at(static_cast<std::size_t>(tm.tm_wday)), tm.tm_mday,
                        months.at(static_cast<std::size_t>(tm.tm_mon)), tm.tm_year + 1900,
                        tm.tm_hour, tm.tm_min, tm.tm_sec);
  return std::string(out.data(), n > 0 ? static_cast<std::size_t>(n) : 0);
}

// The Date field changes once a second; formatting it (gmtime_r, snprintf) for every response
// showed in profiles. One cache per thread.
const std::string& current_http_date() {
  thread_local std::time_t cached_second = -1;
  thread_local std::string cached;
  const auto now = std::chrono::system_clock::now();
  const std::time_t second = std::chrono::system_clock::to_time_t(now);
  if (second != cached_second) {
    cached = http_date(now);
    cached_second = second;
  }
  return cached;
}

bool framing_header(std::string_view name) {
  return iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") ||
         iequals(name, "Date") || iequals(name, "Connection");
}

bool safe_field(std::string_view text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

}  // namespace

Response error_response(int status) {
  std::string body(reason_phrase(status));
  body.push_back('\n');
  return Response::text(status, std::move(body));
}

// Handlers build responses freely; anything that would break framing becomes a 500.
std::string_view invalid_response_reason(const Response& res) {
  if (res.status < 200 || res.status > 999) return "status outside 200-999";
  for (const auto& h : res.headers) {
    if (h.name.empty() || !safe_field(h.name) || !safe_field(h.value)) {
      return "header with CR, LF or NUL";
    }
  }
  return {};
}

bool wants_close(const Response& res) {
  auto c = res.header("Connection");
  return c && iequals(*c, "close");
}

// Into the caller's string so that a response allocates nothing here.
void serialize_head(const Response& res, bool keep_alive, int request_minor, std::string& head) {
  head.clear();
  head += "HTTP/1.1 ";
  head += std::to_string(res.status);
  head += ' ';
  head += reason_phrase(res.status);
  head += "\r\n";
  for (const auto& h : res.headers) {
    if (framing_header(h.name)) continue;
    head += h.name;
    head += ": ";
    head += h.value;
    head += "\r\n";
  }
  head += "Date: ";
  head += current_http_date();
  head += "\r\n";
  if (has_body(res.status)) {
    head += "Content-Length: ";
    head += std::to_string(res.content().size());
    head += "\r\n";
  }
  if (!keep_alive) {
    head += "Connection: close\r\n";
  } else if (request_minor == 0) {
    head += "Connection: keep-alive\r\n";
  }
  head += "\r\n";
}

}  // namespace roombus::http::detail
