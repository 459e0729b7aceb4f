// PhpJsonWriter: PHP json_encode's escaping and number format, and the writer's nesting state.
#include "roombus/json/php_json_writer.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <system_error>

namespace roombus::json {
namespace {

// PHP's own digit table: \u escapes of non-ASCII and control characters use lower case, while
// the JSON_HEX_* replacements are literal strings in upper case (ext/json/json_encoder.c).
constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char32_t kReplacement = 0xFFFD;

void append_u_escape(std::string& out, unsigned unit) {
  out += "\\u";
  out.push_back(kHexDigits[(unit >> 12) & 0xf]);
  out.push_back(kHexDigits[(unit >> 8) & 0xf]);
  out.push_back(kHexDigits[(unit >> 4) & 0xf]);
  out.push_back(kHexDigits[unit & 0xf]);
}

void append_code_point(std::string& out, char32_t cp) {
  if (cp >= 0x10000) {
    // UTF-16 surrogate pair, as PHP writes astral characters.
    const unsigned v = static_cast<unsigned>(cp) - 0x10000;
    append_u_escape(out, 0xD800 | (v >> 10));
    append_u_escape(out, 0xDC00 | (v & 0x3ff));
  } else {
    append_u_escape(out, static_cast<unsigned>(cp));
  }
}

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// Decodes one UTF-8 character at text[pos], advancing pos. On invalid input it advances over the
// maximal subpart (Unicode 15, section 3.9, U+FFFD substitution) and returns U+FFFD, so that one
// broken character never swallows the valid ASCII after it.
char32_t decode_utf8(std::string_view text, std::size_t& pos) {
  const auto lead = static_cast<unsigned char>(text[pos]);
  std::size_t length = 0;
  char32_t cp = 0;
  unsigned char second_min = 0x80;
  unsigned char second_max = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    cp = lead & 0x1Fu;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    cp = lead & 0x0Fu;
    if (lead == 0xE0) second_min = 0xA0;  // overlong
    if (lead == 0xED) second_max = 0x9F;  // UTF-16 surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    cp = lead & 0x07u;
    if (lead == 0xF0) second_min = 0x90;  // overlong
    if (lead == 0xF4) second_max = 0x8F;  // beyond U+10FFFF
  } else {
    ++pos;
    return kReplacement;
  }
  ++pos;
  for (std::size_t i = 1; i < length; ++i) {
    if (pos >= text.size()) return kReplacement;
    const auto c = static_cast<unsigned char>(text[pos]);
    const bool valid = i == 1 ? (c >= second_min && c <= second_max) : is_continuation(c);
    if (!valid) return kReplacement;
    cp = (cp << 6) | (c & 0x3Fu);
    ++pos;
  }
  return cp;
}

void append_escaped_ascii(std::string& out, char c) {
  switch (c) {
    case '"':
      out += "\\u0022";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '/':
      out += "\\/";
      break;
    case '\b':
      out += "\\b";
      break;
    case '\f':
      out += "\\f";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    case '<':
      out += "\\u003C";
      break;
    case '>':
      out += "\\u003E";
      break;
    case '&':
      out += "\\u0026";
      break;
    case '\'':
      out += "\\u0027";
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20) {
        append_u_escape(out, static_cast<unsigned char>(c));
      } else {
        out.push_back(c);  // DEL (0x7f) included: PHP leaves it as is
      }
  }
}

// The bytes PHP writes as they are, read off append_escaped_ascii so the two cannot disagree.
std::array<bool, 256> plain_bytes() {
  std::array<bool, 256> plain{};
  for (int b = 0; b < 0x80; ++b) {
    const char c = static_cast<char>(b);
    std::string written;
    append_escaped_ascii(written, c);
    plain[static_cast<std::size_t>(b)] = written.size() == 1 && written[0] == c;
  }
  return plain;
}

}  // namespace

void append_php_json_string(std::string& out, std::string_view text) {
  static const std::array<bool, 256> kPlain = plain_bytes();
  // Geometric growth: reserving the exact size here reallocated once per string appended to
  // a document.
  const std::size_t needed = out.size() + text.size() + 2;
  if (needed > out.capacity()) out.reserve(std::max(needed, 2 * out.capacity()));
  out.push_back('"');
  std::size_t pos = 0;
  while (pos < text.size()) {
    // Plain runs go in whole; uids, names and texts are mostly one run.
    std::size_t end = pos;
    while (end < text.size() && kPlain[static_cast<unsigned char>(text[end])]) ++end;
    out.append(text, pos, end - pos);
    pos = end;
    if (pos == text.size()) break;
    const char c = text[pos];
    if (static_cast<unsigned char>(c) < 0x80) {
      append_escaped_ascii(out, c);
      ++pos;
    } else {
      append_code_point(out, decode_utf8(text, pos));
    }
  }
  out.push_back('"');
}

std::string php_json_string(std::string_view text) {
  std::string out;
  append_php_json_string(out, text);
  return out;
}

void append_php_json_number(std::string& out, double value) {
  if (!std::isfinite(value)) {
    throw std::invalid_argument("JSON cannot represent NaN or infinity");
  }
  // std::to_chars gives the shortest round-trip digits, as zend_dtoa mode 0 does; only the
  // layout below is PHP's (zend_gcvt with ndigit 17).
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  assert(ec == std::errc{});
  std::string_view sci(buf, static_cast<std::size_t>(end - buf));  // "-d.ddde+XX"
  const bool negative = sci.front() == '-';
  if (negative) sci.remove_prefix(1);
  const std::size_t e = sci.find('e');
  std::string digits(sci.substr(0, e));
  if (digits.size() > 1) digits.erase(1, 1);  // drop the '.'
  int exponent = 0;
  std::from_chars(sci.data() + e + 1 + (sci[e + 1] == '+' ? 1 : 0), sci.data() + sci.size(),
                  exponent);
  const int decpt = exponent + 1;  // digits are 0.d1d2... * 10^decpt
  const int ndigit = static_cast<int>(digits.size());

  if (negative) out.push_back('-');
  if (decpt > 17 || decpt < -3) {
    out.push_back(digits[0]);
    out.push_back('.');
    out += ndigit > 1 ? std::string_view(digits).substr(1) : std::string_view("0");
    out.push_back('e');
    out.push_back(exponent < 0 ? '-' : '+');
    out += std::to_string(std::abs(exponent));
  } else if (decpt <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-decpt), '0');
    out += digits;
  } else if (decpt >= ndigit) {
    out += digits;
    out.append(static_cast<std::size_t>(decpt - ndigit), '0');
  } else {
    const auto point = static_cast<std::size_t>(decpt);
    out.append(digits, 0, point);
    out.push_back('.');
    out.append(digits, point);
  }
}

PhpJsonWriter& PhpJsonWriter::start_object() {
  open('{', true);
  return *this;
}

PhpJsonWriter& PhpJsonWriter::end_object() {
  close('}', true);
  return *this;
}

PhpJsonWriter& PhpJsonWriter::start_array() {
  open('[', false);
  return *this;
}

PhpJsonWriter& PhpJsonWriter::end_array() {
  close(']', false);
  return *this;
}

PhpJsonWriter& PhpJsonWriter::key(std::string_view name) {
  assert(!levels_.empty() && levels_.back().is_object && !after_key_);
  if (levels_.back().has_members) out_.push_back(',');
  levels_.back().has_members = true;
  append_php_json_string(out_, name);
  out_.push_back(':');
  after_key_ = true;
  return *this;
}

PhpJsonWriter& PhpJsonWriter::string(std::string_view text) {
  before_value();
  append_php_json_string(out_, text);
  return *this;
}

PhpJsonWriter& PhpJsonWriter::integer(std::int64_t value) {
  before_value();
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  assert(ec == std::errc{});
  out_.append(buf, end);
  return *this;
}

PhpJsonWriter& PhpJsonWriter::number(double value) {
  // Validate before touching the document, so a refused number leaves it well-formed.
  if (!std::isfinite(value)) {
    throw std::invalid_argument("JSON cannot represent NaN or infinity");
  }
  before_value();
  append_php_json_number(out_, value);
  return *this;
}

PhpJsonWriter& PhpJsonWriter::boolean(bool value) {
  before_value();
  out_ += value ? "true" : "false";
  return *this;
}

PhpJsonWriter& PhpJsonWriter::null() {
  before_value();
  out_ += "null";
  return *this;
}

PhpJsonWriter& PhpJsonWriter::raw(std::string_view json) {
  before_value();
  out_ += json;
  return *this;
}

std::string PhpJsonWriter::take() {
  assert(levels_.empty() && !after_key_);
  std::string done = std::move(out_);
  out_.clear();
  return done;
}

void PhpJsonWriter::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (levels_.empty()) return;
  assert(!levels_.back().is_object);  // object members need key() first
  if (levels_.back().has_members) out_.push_back(',');
  levels_.back().has_members = true;
}

void PhpJsonWriter::open(char bracket, bool is_object) {
  before_value();
  out_.push_back(bracket);
  levels_.push_back(Level{is_object, false});
}

void PhpJsonWriter::close(char bracket, bool is_object) {
  assert(!levels_.empty() && levels_.back().is_object == is_object && !after_key_);
  (void)is_object;
  levels_.pop_back();
  out_.push_back(bracket);
}

}  // namespace roombus::json
