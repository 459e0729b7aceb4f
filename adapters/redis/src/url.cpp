// Strict parsing of `redis://` URLs: every malformed part is a one-line error without secrets.
#include "roombus/redis/url.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>

namespace roombus::redis {
namespace {

constexpr std::string_view grammar = "expected redis://[[user]:password@]host[:port][/db]";

[[noreturn]] void fail(std::string_view what) {
  throw UrlError("invalid Redis URL: " + std::string(what) + " (" + std::string(grammar) + ")");
}

bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  return std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
}

// Percent-decodes user info; `part` names it in errors (the text itself is never echoed).
std::string decode(std::string_view text, std::string_view part) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size() || !is_hex(text[i + 1]) || !is_hex(text[i + 2])) {
        fail("bad percent-encoding in the " + std::string(part));
      }
      out.push_back(static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2])));
      i += 2;
    } else if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '@' || c == '/') {
      fail("the " + std::string(part) + " contains a character that must be percent-encoded");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

template <class T>
bool parse_number(std::string_view digits, T max, T& out) {
  if (digits.empty() ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc{} || end != digits.data() + digits.size() || value > max) return false;
  out = static_cast<T>(value);
  return true;
}

bool valid_name(std::string_view host) {
  return std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.';
  });
}

bool valid_ipv6(std::string_view host) {
  return !host.empty() && host.find(':') != std::string_view::npos &&
         std::all_of(host.begin(), host.end(),
                     [](char c) { return is_hex(c) || c == ':' || c == '.'; });
}

}  // namespace

std::string Url::redacted() const {
  const bool v6 = host.find(':') != std::string::npos;
  std::string out = "redis://";
  if (has_password) out += (user.empty() ? "" : user) + ":***@";
  out += v6 ? "[" + host + "]" : host;
  out += ":" + std::to_string(port) + "/" + std::to_string(db);
  return out;
}

Url parse_url(std::string_view text) {
  if (text.empty()) fail("the URL is empty");
  if (std::any_of(text.begin(), text.end(),
                  [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; })) {
    fail("it contains whitespace or control characters");
  }
  constexpr std::string_view scheme = "redis://";
  if (text.starts_with("rediss://")) fail("rediss:// (TLS) is not supported");
  if (!text.starts_with(scheme)) fail("it must start with redis://");
  std::string_view rest = text.substr(scheme.size());
  if (rest.find_first_of("?#") != std::string_view::npos) {
    fail("query parameters and fragments are not supported");
  }

  Url url;
  // The authority ends at the first '/'; an '@' after it means a raw '/' in the user info.
  const std::size_t first_slash = rest.find('/');
  if (first_slash != std::string_view::npos &&
      rest.find('@', first_slash) != std::string_view::npos) {
    fail("a '/' or '@' in the user info must be percent-encoded (%2F, %40)");
  }
  const std::size_t at = rest.rfind('@');
  if (at != std::string_view::npos) {
    const std::string_view info = rest.substr(0, at);
    rest.remove_prefix(at + 1);
    const std::size_t colon = info.find(':');
    if (colon == std::string_view::npos) {
      fail("the user info must be user:password or :password");
    }
    url.user = decode(info.substr(0, colon), "user name");
    url.password = decode(info.substr(colon + 1), "password");
    if (url.password.empty()) fail("the password is empty");
    url.has_password = true;
  }

  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view port_text;
  bool has_port = false;
  if (authority.starts_with('[')) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) fail("an IPv6 host lacks its closing ]");
    url.host = std::string(authority.substr(1, close - 1));
    if (!valid_ipv6(url.host)) fail("the IPv6 host is malformed");
    authority.remove_prefix(close + 1);
    if (!authority.empty()) {
      if (authority.front() != ':') fail("unexpected text after the IPv6 host");
      port_text = authority.substr(1);
      has_port = true;
    }
  } else {
    const std::size_t colon = authority.find(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      has_port = true;
    }
    if (url.host.empty()) fail("the host is missing");
    if (!valid_name(url.host)) fail("the host is not a valid name or address");
  }
  if (has_port && !parse_number<std::uint16_t>(port_text, 65535, url.port)) {
    fail("the port must be a number from 1 to 65535");
  }
  if (has_port && url.port == 0) fail("the port must be a number from 1 to 65535");

  if (slash != std::string_view::npos) {
    const std::string_view db = rest.substr(slash + 1);
    if (!db.empty() && !parse_number<int>(db, std::numeric_limits<int>::max(), url.db)) {
      fail("the database must be a number (e.g. /0)");
    }
  }
  return url;
}

}  // namespace roombus::redis
