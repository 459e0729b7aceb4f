// RFC 9110 character classes, one definition for the head parser and the chunked decoder.
#pragma once

#include <string_view>

namespace roombus::http::detail {

// tchar. The non-strict http_parser also lets SP into field names, which would let
// "Content-Length : 5" through as an unknown field (RFC 9112 §5.1: MUST answer 400).
inline bool is_tchar(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

inline bool is_bws(char c) noexcept { return c == ' ' || c == '\t'; }

// §5.5: field values are VCHAR, obs-text, SP and HTAB; every other control is refused, since
// handlers and logs may echo values.
inline bool is_field_value_char(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return c == '\t' || (u >= 0x20 && u != 0x7f);
}

}  // namespace roombus::http::detail
