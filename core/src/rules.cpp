// Validation rules: emails, membership, and PHP-compatible whole-number parsing.
#include "roombus/core/rules.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace roombus::core {
namespace {

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_atext(char c) {
  static constexpr std::string_view kSpecials = "!#$%&'*+-/=?^_`{|}~";
  return is_alnum(c) || kSpecials.find(c) != std::string_view::npos;
}

bool is_valid_domain(std::string_view domain) {
  if (domain.empty() || domain.size() > 253) return false;
  std::size_t labels = 0;
  std::size_t start = 0;
  while (start <= domain.size()) {
    std::size_t dot = domain.find('.', start);
    std::string_view label =
        domain.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    if (!std::all_of(label.begin(), label.end(), [](char c) { return is_alnum(c) || c == '-'; })) {
      return false;
    }
    ++labels;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return labels >= 2;
}

std::string_view trim(std::string_view text) {
  static constexpr std::string_view kSpace = " \t\n\r\v\f";
  auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  auto last = text.find_last_not_of(kSpace);
  return text.substr(first, last - first + 1);
}

// A PHP numeric string with a whole value: optional surrounding whitespace, decimal digits with
// optional fraction and exponent. Hex, "1,5", "30min" and the empty string are not numbers.
std::optional<double> php_number(std::string_view text) {
  std::string_view t = trim(text);
  if (t.empty() || t.size() > 32) return std::nullopt;
  std::size_t i = 0;
  if (t[i] == '+' || t[i] == '-') ++i;
  bool digits = false;
  while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i, digits = true;
  if (i < t.size() && t[i] == '.') {
    ++i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i, digits = true;
  }
  if (!digits) return std::nullopt;
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    bool exp_digits = false;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i, exp_digits = true;
    if (!exp_digits) return std::nullopt;
  }
  if (i != t.size()) return std::nullopt;
  std::string_view number = t.front() == '+' ? t.substr(1) : t;
  double value = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc() || end != number.data() + number.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

bool is_valid_utf8_text(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == 0) return false;
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    char32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1Fu;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0Fu;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07u;
    } else {
      return false;
    }
    if (i + len > text.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool is_valid_email(std::string_view email) {
  if (email.size() > 254) return false;
  auto at = email.rfind('@');
  if (at == std::string_view::npos || at == 0) return false;
  std::string_view local = email.substr(0, at);
  if (local.size() > 64 || local.front() == '.' || local.back() == '.') return false;
  if (local.find("..") != std::string_view::npos) return false;
  if (!std::all_of(local.begin(), local.end(), [](char c) { return is_atext(c) || c == '.'; })) {
    return false;
  }
  return is_valid_domain(email.substr(at + 1));
}

bool is_valid_domain_rule(std::string_view rule) {
  return rule.size() > 1 && rule.front() == '@' && is_valid_domain(rule.substr(1));
}

bool is_member(const Server& server, std::string_view email) {
  std::string wanted = lowercase(email);
  auto at = wanted.rfind('@');
  std::string_view domain =
      at == std::string::npos ? std::string_view{} : std::string_view(wanted).substr(at);
  return std::any_of(server.members.begin(), server.members.end(), [&](const std::string& m) {
    return m == wanted || (!domain.empty() && m.front() == '@' && m == domain);
  });
}

Result<std::int64_t> parse_duration(std::string_view text) {
  auto value = php_number(text);
  if (!value) {
    return make_error(Errc::invalid_duration, "duration must be a whole number of minutes, got '" +
                                                  std::string(text.substr(0, 32)) + "'");
  }
  if (*value < 0 || std::floor(*value) != *value) {
    return make_error(Errc::invalid_duration,
                      "duration must be a whole, non-negative number of minutes");
  }
  if (*value > static_cast<double>(kMaxDurationMinutes)) {
    return make_error(
        Errc::invalid_duration,
        "duration must be at most one year (" + std::to_string(kMaxDurationMinutes) + " minutes)");
  }
  return static_cast<std::int64_t>(*value);
}

Result<std::int64_t> parse_minutes(std::string_view text) {
  auto value = php_number(text);
  if (!value || std::floor(*value) != *value) {
    return make_error(Errc::invalid_minutes, "minutes must be a whole number, got '" +
                                                 std::string(text.substr(0, 32)) + "'");
  }
  if (std::fabs(*value) > static_cast<double>(kMaxDurationMinutes)) {
    return make_error(Errc::invalid_minutes, "minutes must be at most one year either way");
  }
  return static_cast<std::int64_t>(*value);
}

}  // namespace roombus::core
