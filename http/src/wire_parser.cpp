// http_parser callbacks turned into Request objects, with limits checked as bytes arrive.
#include "wire_parser.hpp"

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

// Method, two single spaces and the version: longer than this means junk around the target.
constexpr std::size_t request_line_slack = 64;

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
  // Before execute: headers_complete (called from inside it) checks the request line.
  if (!head_done_ && !scan_head(data)) {
    fail(400, "bare CR in the request head");
    return 0;
  }
  std::size_t used = http_parser_execute(&parser_, &settings_, data.data(), data.size());
  auto err = static_cast<http_errno>(parser_.http_errno);
  if (status_ == Status::complete || status_ == Status::error) return used;
  if (err != HPE_OK && err != HPE_PAUSED) {
    status_ = Status::error;
    error_status_ = err == HPE_HEADER_OVERFLOW ? 431 : 400;
    error_detail_ = http_errno_description(err);
  }
  return used;
}

// The bytes of the current message start `data` (the parser stops after each message), so its
// head comes first: empty lines (skipped, as http_parser does), the request line, fields, and an
// empty line. A CR must be followed by LF (RFC 9112 §2.2): http_parser would swallow the next
// byte as the LF, so "X: \rZContent-Length: 5" would be two fields here and one at a proxy.
bool WireParser::scan_head(std::string_view data) {
  for (std::size_t i = 0; i < data.size() && !head_done_; ++i) {
    const char c = data[i];
    if (head_cr_) {
      head_cr_ = false;
      if (c != '\n') return false;
    } else if (c == '\r') {
      head_cr_ = true;
      continue;
    }
    if (c == '\n') {
      if (!line_started_) {
        head_done_ = request_line_done_;  // before the request line, empty lines are skipped
      } else {
        request_line_done_ = true;
        line_started_ = false;
      }
      continue;
    }
    line_started_ = true;
    if (request_line_done_ || line_overflow_) continue;
    if (request_line_.size() >= limits_.max_url_bytes + request_line_slack) {
      line_overflow_ = true;
    } else {
      request_line_.push_back(c);
    }
  }
  return true;
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
  in_trailers_ = false;
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
  if (w.in_trailers_) return 0;  // trailer fields count against the limits but are dropped
  try {
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
  // RFC 9110 §5.5: reject NUL, CR, LF in values. The non-strict http_parser lets a NUL through
  // at the start of a value, and handlers or logs may echo values.
  if (std::string_view(at, length).find_first_of(std::string_view("\0\r\n", 3)) !=
      std::string_view::npos) {
    return w.fail(400, "invalid character in a header field value");
  }
  w.last_was_value_ = true;
  if (w.in_trailers_) return 0;
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
  std::string canonical = r.method + ' ' + r.target + " HTTP/" +
                          std::to_string(parser_.http_major) + '.' +
                          std::to_string(parser_.http_minor);
  if (line_overflow_ || request_line_ != canonical) return fail(400, "malformed request line");
  if (parser_.http_major != 1) return fail(505, "only HTTP/1.x is supported");

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
  in_trailers_ = true;
  return 0;
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
  w.status_ = Status::complete;
  // Pausing makes http_parser_execute return right after this request's last byte.
  http_parser_pause(p, 1);
  return 0;
}

}  // namespace roombus::http::detail
