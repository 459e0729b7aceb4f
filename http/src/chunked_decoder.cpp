// The chunked body decoder's state machine: one byte of framing at a time, chunk data in runs.
#include "chunked_decoder.hpp"

#include <algorithm>
#include <new>

#include "field_chars.hpp"

namespace roombus::http::detail {
namespace {

// RFC 9110 §5.6.4 qdtext, and what may follow a backslash in a quoted string.
bool is_qdtext(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return c == '\t' || c == ' ' || u == 0x21 || (u >= 0x23 && u <= 0x5b) || (u >= 0x5d && u != 0x7f);
}
bool is_quoted_pair_char(char c) noexcept { return is_field_value_char(c); }

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A chunk size: at most 64 bits of significant hex digits, and this many digits in all.
constexpr std::size_t max_size_digits = 16;
constexpr std::size_t max_size_bytes = 64;

}  // namespace

void ChunkedDecoder::start(std::size_t field_bytes, std::size_t field_count) {
  status_ = Status::need_more;
  error_status_ = 0;
  state_ = State::size_start;
  size_ = 0;
  size_digits_ = 0;
  size_bytes_ = 0;
  extension_bytes_ = 0;
  body_bytes_ = 0;
  field_bytes_ = field_bytes;
  field_count_ = field_count;
}

std::size_t ChunkedDecoder::feed(std::string_view data, std::string& body) {
  std::size_t i = 0;
  while (i < data.size() && status_ == Status::need_more) {
    if (state_ != State::data) {
      if (!framing_byte(data[i])) return i;
      ++i;
      continue;
    }
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(size_, data.size() - i));
    try {
      body.append(data.data() + i, n);
    } catch (const std::bad_alloc&) {
      fail(503);
      return i;
    }
    i += n;
    body_bytes_ += n;
    size_ -= n;
    if (size_ == 0) state_ = State::data_cr;
  }
  return i;
}

bool ChunkedDecoder::framing_byte(char c) {
  switch (state_) {
    case State::size_start:
    case State::size: {
      if (const int v = hex_value(c); v >= 0) {
        if (v != 0 || size_digits_ > 0) ++size_digits_;
        if (++size_bytes_ > max_size_bytes || size_digits_ > max_size_digits) return fail(400);
        size_ = size_ * 16 + static_cast<unsigned>(v);
        state_ = State::size;
        return true;
      }
      if (state_ == State::size_start) return fail(400);  // no size, or a sign or "0x" before it
      // Refused before the data arrives, so a client announcing too much sends none of it.
      if (size_ > limits_.max_body_bytes - body_bytes_) return fail(413);
      if (c == '\r') {
        state_ = State::size_lf;
        return true;
      }
      if (c != ';' && !is_bws(c)) return fail(400);
      state_ = State::ext_bws;
      return extension_byte(c);
    }
    case State::size_lf:
      if (c != '\n') return fail(400);
      state_ = size_ == 0 ? State::trailer_start : State::data;
      size_digits_ = 0;
      size_bytes_ = 0;
      return true;
    case State::data:
      return true;  // feed() copies data itself
    case State::data_cr:
    case State::data_lf:
      // Exactly CRLF: issue 12 was a body whose data ran on into the next chunk's size.
      if (c != (state_ == State::data_cr ? '\r' : '\n')) return fail(400);
      state_ = state_ == State::data_cr ? State::data_lf : State::size_start;
      return true;
    case State::trailer_start:
    case State::trailer_name:
    case State::trailer_value:
    case State::trailer_lf:
    case State::end_lf:
      return trailer_byte(c);
    default:
      return extension_byte(c);
  }
}

// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ), values a token or
// a quoted string (RFC 9112 §7.1.1). Extensions are ignored, but only once they parse: a proxy
// that reads them differently would frame the body differently.
bool ChunkedDecoder::extension_byte(char c) {
  if (++extension_bytes_ > limits_.max_field_bytes) return fail(400);
  const bool bws = is_bws(c);
  switch (state_) {
    case State::ext_bws:
      if (c == ';') state_ = State::ext_name_start;
      if (c == ';' || bws) return true;
      break;
    case State::ext_name_start:
      if (bws) return true;
      if (is_tchar(c)) {
        state_ = State::ext_name;
        return true;
      }
      break;
    case State::ext_name:
    case State::ext_after_name:
      if (state_ == State::ext_name && is_tchar(c)) return true;
      if (state_ == State::ext_name && c == '\r') {
        state_ = State::size_lf;
        return true;
      }
      if (bws) state_ = State::ext_after_name;
      if (c == '=') state_ = State::ext_value_start;
      if (c == ';') state_ = State::ext_name_start;
      if (bws || c == '=' || c == ';') return true;
      break;
    case State::ext_value_start:
      if (bws) return true;
      if (c == '"') state_ = State::ext_quoted;
      if (is_tchar(c)) state_ = State::ext_token;
      if (c == '"' || is_tchar(c)) return true;
      break;
    case State::ext_token:
    case State::ext_after_quoted:  // like the end of a token value, without more of it
      if (state_ == State::ext_token && is_tchar(c)) return true;
      if (c == '\r') {
        state_ = State::size_lf;
        return true;
      }
      if (bws) state_ = State::ext_bws;
      if (c == ';') state_ = State::ext_name_start;
      if (bws || c == ';') return true;
      break;
    case State::ext_quoted:
      if (c == '"') state_ = State::ext_after_quoted;
      if (c == '\\') state_ = State::ext_quoted_pair;
      if (c == '"' || c == '\\' || is_qdtext(c)) return true;
      break;
    case State::ext_quoted_pair:
      state_ = State::ext_quoted;
      if (is_quoted_pair_char(c)) return true;
      break;
    default:
      break;
  }
  return fail(400);
}

// trailer-section = *( field-line CRLF ) CRLF. Trailer fields count against the header limits
// and are dropped (nothing reads them), but only once they parse like header fields.
bool ChunkedDecoder::trailer_byte(char c) {
  if (state_ == State::trailer_name || state_ == State::trailer_value ||
      (state_ == State::trailer_start && c != '\r')) {
    if (++field_bytes_ > limits_.max_field_bytes) return fail(431);
  }
  switch (state_) {
    case State::trailer_start:
      if (c == '\r') {
        state_ = State::end_lf;
        return true;
      }
      // Whitespace here would be obs-fold, which another parser may unfold.
      if (!is_tchar(c)) return fail(400);
      if (++field_count_ > limits_.max_field_count) return fail(431);
      state_ = State::trailer_name;
      return true;
    case State::trailer_name:
      if (c == ':') state_ = State::trailer_value;
      if (c == ':' || is_tchar(c)) return true;
      return fail(400);
    case State::trailer_value:
      if (c == '\r') state_ = State::trailer_lf;
      if (c == '\r' || is_field_value_char(c)) return true;
      return fail(400);
    case State::trailer_lf:
    case State::end_lf:
      if (c != '\n') return fail(400);  // a bare CR ends a line for some parsers only
      if (state_ == State::end_lf) {
        status_ = Status::complete;
      } else {
        state_ = State::trailer_start;
      }
      return true;
    default:
      return false;
  }
}

bool ChunkedDecoder::fail(int status) {
  status_ = Status::error;
  error_status_ = status;
  return false;
}

}  // namespace roombus::http::detail
