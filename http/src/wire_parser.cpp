// http_parser callbacks turned into Request objects, with limits checked as bytes arrive.
#include "wire_parser.hpp"

#include <algorithm>
#include <limits>
#include <new>
#include <utility>

#include "roombus/http/params.hpp"

namespace roombus::http::detail {
namespace {

bool has_flag(const http_parser& p, unsigned flag) noexcept { return (p.flags & flag) != 0; }

void trim_trailing_ows(std::string& v) {
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.pop_back();
}

// RFC 9110 tchar. The non-strict http_parser also lets SP into field names, which would let
// "Content-Length : 5" through as an unknown field (RFC 9112 §5.1: MUST answer 400).
bool is_tchar(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_bws(char c) noexcept { return c == ' ' || c == '\t'; }

// RFC 9110 §5.5: field values are VCHAR, obs-text, SP and HTAB; every other control is refused.
bool is_field_value_char(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return c == '\t' || (u >= 0x20 && u != 0x7f);
}

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

// Whether `line` is exactly "<method> <target> HTTP/<major>.<minor>" (one-digit versions);
// compared piece by piece because building that string showed in profiles.
bool is_request_line(std::string_view line, std::string_view method, std::string_view target,
                     unsigned major, unsigned minor) noexcept {
  const char version[] = {' ',
                          'H',
                          'T',
                          'T',
                          'P',
                          '/',
                          static_cast<char>('0' + major),
                          '.',
                          static_cast<char>('0' + minor)};
  const std::string_view suffix(version, sizeof version);
  return line.size() == method.size() + 1 + target.size() + suffix.size() &&
         line.starts_with(method) && line[method.size()] == ' ' &&
         line.substr(method.size() + 1, target.size()) == target && line.ends_with(suffix);
}

// Method, two single spaces and the version: longer than this means junk around the target.
constexpr std::size_t request_line_slack = 64;
// A chunk size: at most 64 bits of significant hex digits, and this many digits in all.
constexpr std::size_t max_chunk_size_digits = 16;
constexpr std::size_t max_chunk_size_bytes = 64;

}  // namespace

const http_parser_settings WireParser::settings_ = [] {
  http_parser_settings s{};
  s.on_message_begin = &WireParser::on_message_begin;
  s.on_url = &WireParser::on_url;
  s.on_header_field = &WireParser::on_header_field;
  s.on_header_value = &WireParser::on_header_value;
  s.on_headers_complete = &WireParser::on_headers_complete;
  s.on_body = &WireParser::on_body;
  s.on_message_complete = &WireParser::on_message_complete;
  return s;
}();

WireParser::WireParser(WireLimits limits) : limits_(limits) {
  // http_parser_url stores offsets as uint16_t, so longer targets could not be split safely.
  if (limits_.max_url_bytes > std::numeric_limits<std::uint16_t>::max()) {
    limits_.max_url_bytes = std::numeric_limits<std::uint16_t>::max();
  }
  http_parser_init(&parser_, HTTP_REQUEST);
  parser_.data = this;
}

WireParser& WireParser::self(http_parser* p) noexcept { return *static_cast<WireParser*>(p->data); }

std::size_t WireParser::feed(std::string_view data) {
  if (status_ != Status::need_more || data.empty()) return 0;
  std::size_t used = 0;
  if (!in_chunks_) {
    // Before execute: headers_complete (called from inside it) checks the request line.
    if (!head_done_) {
      if (std::string_view why = scan_head(data); !why.empty()) {
        fail(400, why);
        return 0;
      }
    }
    used = http_parser_execute(&parser_, &settings_, data.data(), data.size());
    auto err = static_cast<http_errno>(parser_.http_errno);
    if (status_ == Status::complete || status_ == Status::error) return used;
    if (err != HPE_OK && err != HPE_PAUSED) {
      status_ = Status::error;
      error_status_ = err == HPE_HEADER_OVERFLOW ? 431 : 400;
      error_detail_ = http_errno_description(err);
      return used;
    }
    if (!in_chunks_) return used;
  }
  return used + feed_chunks(data.substr(used));
}

// The bytes of the current message start `data` (the parser stops after each message), so its
// head comes first: empty lines (skipped, as http_parser does), the request line, fields, and an
// empty line. Every line ends with CRLF (RFC 9112 §2.2): http_parser takes a bare CR for a line
// end and swallows the next byte, so "X: \rZContent-Length: 5" would be two fields here and one
// at a proxy; a bare LF is a line end to some parsers and not to others. A field line starting
// with whitespace is obs-fold (§5.2), which http_parser would unfold into the previous field.
std::string_view WireParser::scan_head(std::string_view data) {
  std::size_t i = 0;
  while (i < data.size() && !head_done_) {
    if (head_cr_) {
      head_cr_ = false;
      if (data[i] != '\n') return "bare CR in the request head";
      if (!line_started_) {
        head_done_ = request_line_done_;  // before the request line, empty lines are skipped
      } else {
        request_line_done_ = true;
        line_started_ = false;
      }
      ++i;
      continue;
    }
    if (data[i] == '\r') {
      head_cr_ = true;
      ++i;
      continue;
    }
    if (data[i] == '\n') return "bare LF in the request head (lines end with CRLF)";
    // A run of line bytes up to the next CR or LF, taken at once (this runs on every request).
    std::size_t end = i;
    while (end < data.size() && data[end] != '\r' && data[end] != '\n') ++end;
    if (!line_started_ && request_line_done_ && is_bws(data[i])) {
      return "obsolete line folding (a field line starting with whitespace)";
    }
    line_started_ = true;
    if (!request_line_done_ && !line_overflow_) {
      const std::size_t room = limits_.max_url_bytes + request_line_slack - request_line_.size();
      if (end - i > room) {
        line_overflow_ = true;
      } else {
        request_line_.append(data.data() + i, end - i);
      }
    }
    i = end;
  }
  return {};
}

std::size_t WireParser::feed_chunks(std::string_view data) {
  std::size_t i = 0;
  while (i < data.size() && status_ == Status::need_more) {
    if (chunk_ != Chunk::data) {
      if (!chunk_byte(data[i])) return i;
      ++i;
      continue;
    }
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_size_, data.size() - i));
    try {
      request_.body.append(data.data() + i, n);
    } catch (const std::bad_alloc&) {
      fail(503, "out of memory");
      return i;
    }
    i += n;
    chunk_size_ -= n;
    if (chunk_size_ == 0) chunk_ = Chunk::data_cr;
  }
  return i;
}

bool WireParser::chunk_byte(char c) {
  switch (chunk_) {
    case Chunk::size_start:
    case Chunk::size: {
      if (const int v = hex_value(c); v >= 0) {
        if (v != 0 || chunk_digits_ > 0) ++chunk_digits_;
        if (++chunk_size_bytes_ > max_chunk_size_bytes || chunk_digits_ > max_chunk_size_digits) {
          fail(400, "chunk size too long");
          return false;
        }
        chunk_size_ = chunk_size_ * 16 + static_cast<unsigned>(v);
        chunk_ = Chunk::size;
        return true;
      }
      if (chunk_ == Chunk::size_start) {
        fail(400, "a chunk must start with its size in hex digits");
        return false;
      }
      if (chunk_size_ > limits_.max_body_bytes - request_.body.size()) {
        fail(413, "body too large");
        return false;
      }
      if (c == '\r') {
        chunk_ = Chunk::size_lf;
        return true;
      }
      if (c != ';' && !is_bws(c)) {
        fail(400, "invalid character after a chunk size");
        return false;
      }
      chunk_ = Chunk::ext_bws;
      return chunk_ext_byte(c);
    }
    case Chunk::size_lf:
      if (c != '\n') {
        fail(400, "a chunk-size line must end with CRLF");
        return false;
      }
      chunk_ = chunk_size_ == 0 ? Chunk::trailer_start : Chunk::data;
      chunk_digits_ = 0;
      chunk_size_bytes_ = 0;
      return true;
    case Chunk::data:
      return true;  // feed_chunks() copies data itself
    case Chunk::data_cr:
    case Chunk::data_lf:
      if (c != (chunk_ == Chunk::data_cr ? '\r' : '\n')) {
        fail(400, "chunk data must be followed by CRLF");
        return false;
      }
      chunk_ = chunk_ == Chunk::data_cr ? Chunk::data_lf : Chunk::size_start;
      return true;
    case Chunk::trailer_start:
    case Chunk::trailer_name:
    case Chunk::trailer_value:
    case Chunk::trailer_lf:
    case Chunk::end_lf:
      return trailer_byte(c);
    default:
      return chunk_ext_byte(c);
  }
}

// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ), values a token or
// a quoted string (RFC 9112 §7.1.1). Extensions are ignored, but only once they parse: a proxy
// that reads them differently would frame the body differently.
bool WireParser::chunk_ext_byte(char c) {
  if (++chunk_ext_bytes_ > limits_.max_header_bytes) {
    fail(400, "chunk extensions too long");
    return false;
  }
  const bool bws = is_bws(c);
  switch (chunk_) {
    case Chunk::ext_bws:
      if (c == ';') chunk_ = Chunk::ext_name_start;
      if (c == ';' || bws) return true;
      break;
    case Chunk::ext_name_start:
      if (bws) return true;
      if (is_tchar(c)) {
        chunk_ = Chunk::ext_name;
        return true;
      }
      break;
    case Chunk::ext_name:
    case Chunk::ext_after_name:
      if (chunk_ == Chunk::ext_name && is_tchar(c)) return true;
      if (chunk_ == Chunk::ext_name && c == '\r') {
        chunk_ = Chunk::size_lf;
        return true;
      }
      if (bws) chunk_ = Chunk::ext_after_name;
      if (c == '=') chunk_ = Chunk::ext_value_start;
      if (c == ';') chunk_ = Chunk::ext_name_start;
      if (bws || c == '=' || c == ';') return true;
      break;
    case Chunk::ext_value_start:
      if (bws) return true;
      if (c == '"') chunk_ = Chunk::ext_quoted;
      if (is_tchar(c)) chunk_ = Chunk::ext_token;
      if (c == '"' || is_tchar(c)) return true;
      break;
    case Chunk::ext_token:
    case Chunk::ext_after_quoted:  // like the end of a token value, without more of it
      if (chunk_ == Chunk::ext_token && is_tchar(c)) return true;
      if (c == '\r') {
        chunk_ = Chunk::size_lf;
        return true;
      }
      if (bws) chunk_ = Chunk::ext_bws;
      if (c == ';') chunk_ = Chunk::ext_name_start;
      if (bws || c == ';') return true;
      break;
    case Chunk::ext_quoted:
      if (c == '"') chunk_ = Chunk::ext_after_quoted;
      if (c == '\\') chunk_ = Chunk::ext_quoted_pair;
      if (c == '"' || c == '\\' || is_qdtext(c)) return true;
      break;
    case Chunk::ext_quoted_pair:
      chunk_ = Chunk::ext_quoted;
      if (is_quoted_pair_char(c)) return true;
      break;
    default:
      break;
  }
  fail(400, "invalid chunk extension");
  return false;
}

// trailer-section = *( field-line CRLF ) CRLF. Trailer fields count against the header limits
// and are dropped (nothing reads them), but only once they parse like header fields.
bool WireParser::trailer_byte(char c) {
  if (chunk_ == Chunk::trailer_name || chunk_ == Chunk::trailer_value ||
      (chunk_ == Chunk::trailer_start && c != '\r')) {
    if (++header_bytes_ > limits_.max_header_bytes) {
      fail(431, "header fields too large");
      return false;
    }
  }
  switch (chunk_) {
    case Chunk::trailer_start:
      if (c == '\r') {
        chunk_ = Chunk::end_lf;
        return true;
      }
      if (is_tchar(c)) {
        if (++header_count_ > limits_.max_header_count) {
          fail(431, "too many header fields");
          return false;
        }
        chunk_ = Chunk::trailer_name;
        return true;
      }
      fail(400, "invalid trailer field line");
      return false;
    case Chunk::trailer_name:
      if (c == ':') chunk_ = Chunk::trailer_value;
      if (c == ':' || is_tchar(c)) return true;
      fail(400, "invalid trailer field name");
      return false;
    case Chunk::trailer_value:
      if (c == '\r') chunk_ = Chunk::trailer_lf;
      if (c == '\r' || is_field_value_char(c)) return true;
      fail(400, "invalid character in a trailer field value");
      return false;
    case Chunk::trailer_lf:
    case Chunk::end_lf:
      if (c != '\n') {
        fail(400, "a bare CR in the trailer section");
        return false;
      }
      if (chunk_ == Chunk::end_lf) {
        status_ = Status::complete;
      } else {
        chunk_ = Chunk::trailer_start;
      }
      return true;
    default:
      return false;
  }
}

Request WireParser::take() {
  Request out = std::move(request_);
  reset_message();
  http_parser_pause(&parser_, 0);
  return out;
}

void WireParser::reset_message() {
  request_ = Request{};
  status_ = Status::need_more;
  in_message_ = false;
  expect_continue_ = false;
  last_was_value_ = false;
  header_bytes_ = 0;
  header_count_ = 0;
  request_line_.clear();
  request_line_done_ = false;
  line_overflow_ = false;
  line_started_ = false;
  head_cr_ = false;
  head_done_ = false;
  chunked_ = false;
  in_chunks_ = false;
  chunk_ = Chunk::size_start;
  chunk_size_ = 0;
  chunk_digits_ = 0;
  chunk_size_bytes_ = 0;
  chunk_ext_bytes_ = 0;
}

int WireParser::fail(int status, std::string_view detail) {
  status_ = Status::error;
  error_status_ = status;
  error_detail_ = std::string(detail);
  return -1;
}

// Callbacks never let an exception into the C parser; running out of memory fails the request.
int WireParser::on_message_begin(http_parser* p) noexcept {
  self(p).in_message_ = true;
  return 0;
}

int WireParser::on_url(http_parser* p, const char* at, std::size_t length) noexcept {
  WireParser& w = self(p);
  if (w.request_.target.size() + length > w.limits_.max_url_bytes) {
    return w.fail(414, "request target too long");
  }
  try {
    w.request_.target.append(at, length);
  } catch (const std::bad_alloc&) {
    return w.fail(503, "out of memory");
  }
  return 0;
}

int WireParser::on_header_field(http_parser* p, const char* at, std::size_t length) noexcept {
  WireParser& w = self(p);
  w.header_bytes_ += length;
  if (w.header_bytes_ > w.limits_.max_header_bytes) return w.fail(431, "header fields too large");
  for (char c : std::string_view(at, length)) {
    if (!is_tchar(c)) return w.fail(400, "invalid header field name");
  }
  bool new_field = w.last_was_value_ || w.header_count_ == 0;
  w.last_was_value_ = false;
  if (new_field && ++w.header_count_ > w.limits_.max_header_count) {
    return w.fail(431, "too many header fields");
  }
  try {
    // Room for a usual request's fields at once, instead of growing 1, 2, 4, 8.
    if (new_field && w.request_.headers.empty()) w.request_.headers.reserve(8);
    if (new_field) w.request_.headers.emplace_back();
    w.request_.headers.back().name.append(at, length);
  } catch (const std::bad_alloc&) {
    return w.fail(503, "out of memory");
  }
  return 0;
}

int WireParser::on_header_value(http_parser* p, const char* at, std::size_t length) noexcept {
  WireParser& w = self(p);
  w.header_bytes_ += length;
  if (w.header_bytes_ > w.limits_.max_header_bytes) return w.fail(431, "header fields too large");
  // RFC 9110 §5.5: no controls but HTAB in values. http_parser lets any byte through at the
  // start of a value, and handlers or logs may echo values.
  for (char c : std::string_view(at, length)) {
    if (!is_field_value_char(c)) return w.fail(400, "invalid character in a header field value");
  }
  w.last_was_value_ = true;
  try {
    w.request_.headers.back().value.append(at, length);
  } catch (const std::bad_alloc&) {
    return w.fail(503, "out of memory");
  }
  return 0;
}

int WireParser::on_headers_complete(http_parser* p) noexcept {
  try {
    return self(p).headers_complete();
  } catch (const std::bad_alloc&) {
    return self(p).fail(503, "out of memory");
  }
}

int WireParser::headers_complete() {
  Request& r = request_;
  for (auto& h : r.headers) trim_trailing_ows(h.value);
  auto method = static_cast<http_method>(parser_.method);
  r.method = http_method_str(method);

  // What http_parser understood, spelled canonically, must be exactly what was sent (the line
  // end is not recorded). Also turns HTTP/0.9's version-less line into a 400.
  if (line_overflow_ || parser_.http_minor > 9 || parser_.http_major > 9 ||
      !is_request_line(request_line_, r.method, r.target, parser_.http_major, parser_.http_minor)) {
    return fail(400, "malformed request line");
  }
  if (parser_.http_major != 1) return fail(505, "only HTTP/1.x is supported");
  // The non-strict http_parser lets HTAB and FF into targets.
  for (char c : r.target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return fail(400, "invalid character in the request target");
    }
  }
  if (std::string_view why = check_framing_fields(); !why.empty()) return fail(400, why);

  r.version_minor = parser_.http_minor;
  r.keep_alive = http_should_keep_alive(&parser_) != 0;
  upgrade_ = parser_.upgrade != 0;

  http_parser_url url;
  http_parser_url_init(&url);
  if (http_parser_parse_url(r.target.data(), r.target.size(), method == HTTP_CONNECT ? 1 : 0,
                            &url) != 0) {
    return fail(400, "invalid request target");
  }
  auto field = [&](http_parser_url_fields f) -> std::string_view {
    if ((url.field_set & (1u << f)) == 0) return {};
    return std::string_view(r.target).substr(url.field_data[f].off, url.field_data[f].len);
  };
  r.path = percent_decode(field(UF_PATH), false);
  // An absolute-form target may omit the path; it then means "/" (RFC 9112 §3.2.2).
  if (r.path.empty() && method != HTTP_CONNECT) r.path = "/";
  r.query = std::string(field(UF_QUERY));

  chunked_ = has_flag(parser_, F_CHUNKED);
  if (has_flag(parser_, F_CONTENTLENGTH) && parser_.content_length > limits_.max_body_bytes) {
    return fail(413, "body too large");
  }
  bool has_body = has_flag(parser_, F_CHUNKED) ||
                  (parser_.content_length > 0 &&
                   parser_.content_length != std::numeric_limits<std::uint64_t>::max());
  if (auto expect = r.header("Expect")) {
    if (!iequals(*expect, "100-continue")) return fail(417, "unsupported expectation");
    expect_continue_ = has_body && r.version_minor >= 1;
  }
  // 1 = no body for http_parser: it ends the message after the head and feed_chunks() decodes
  // the chunked body.
  return chunked_ ? 1 : 0;
}

// RFC 9112 §6.3: a message's framing must be unambiguous, or a proxy in front may frame it
// differently and smuggle a request past us. http_parser already refuses most of what is here,
// but not all (several Transfer-Encoding fields, codings before chunked), and not by contract.
std::string_view WireParser::check_framing_fields() const {
  int hosts = 0;
  int lengths = 0;
  int codings = 0;
  for (const auto& h : request_.headers) {
    if (iequals(h.name, "Host")) {
      ++hosts;
    } else if (iequals(h.name, "Content-Length")) {
      ++lengths;
      if (h.value.empty() || h.value.find_first_not_of("0123456789") != std::string::npos) {
        return "Content-Length must be decimal digits";
      }
    } else if (iequals(h.name, "Transfer-Encoding")) {
      ++codings;
      // Any other coding is one we do not decode, and "chunked" must be the last one anyway.
      if (!iequals(h.value, "chunked")) return "Transfer-Encoding must be exactly chunked";
    }
  }
  if (hosts > 1) return "more than one Host field";  // RFC 9112 §3.2
  if (lengths > 1) return "more than one Content-Length field";
  if (codings > 1) return "more than one Transfer-Encoding field";
  if (codings > 0 && lengths > 0) return "both Content-Length and Transfer-Encoding";
  if (codings > 0 && parser_.http_minor == 0) return "Transfer-Encoding in an HTTP/1.0 request";
  if ((codings > 0) != has_flag(parser_, F_CHUNKED)) return "ambiguous message framing";
  return {};
}

int WireParser::on_body(http_parser* p, const char* at, std::size_t length) noexcept {
  WireParser& w = self(p);
  if (w.request_.body.size() + length > w.limits_.max_body_bytes) {
    return w.fail(413, "body too large");
  }
  try {
    w.request_.body.append(at, length);
  } catch (const std::bad_alloc&) {
    return w.fail(503, "out of memory");
  }
  return 0;
}

int WireParser::on_message_complete(http_parser* p) noexcept {
  WireParser& w = self(p);
  if (w.chunked_) {
    w.in_chunks_ = true;  // the head only: feed() hands the body to feed_chunks()
  } else {
    w.status_ = Status::complete;
  }
  // Pausing makes http_parser_execute return right after this request's last byte.
  http_parser_pause(p, 1);
  return 0;
}

}  // namespace roombus::http::detail
