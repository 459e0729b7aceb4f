// http_parser callbacks turned into Request objects, with limits checked as bytes arrive.
#include "wire_parser.hpp"

#include <limits>
#include <new>
#include <utility>

#include "field_chars.hpp"
#include "roombus/http/params.hpp"

namespace roombus::http::detail {
namespace {

bool has_flag(const http_parser& p, unsigned flag) noexcept { return (p.flags & flag) != 0; }

void trim_trailing_ows(std::string& v) {
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.pop_back();
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

WireParser::WireParser(WireLimits limits)
    : limits_(limits),
      chunks_(
          ChunkLimits{limits.max_body_bytes, limits.max_header_bytes, limits.max_header_count}) {
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
    if (!head_done_ && !scan_head(data)) {
      fail(400);
      return 0;
    }
    used = http_parser_execute(&parser_, &settings_, data.data(), data.size());
    auto err = static_cast<http_errno>(parser_.http_errno);
    if (status_ == Status::complete || status_ == Status::error) return used;
    if (err != HPE_OK && err != HPE_PAUSED) {
      fail(err == HPE_HEADER_OVERFLOW ? 431 : 400);
      return used;
    }
    if (!in_chunks_) return used;
  }
  used += chunks_.feed(data.substr(used), request_.body);
  if (chunks_.status() == ChunkedDecoder::Status::complete) status_ = Status::complete;
  if (chunks_.status() == ChunkedDecoder::Status::error) fail(chunks_.error_status());
  return used;
}

// The bytes of the current message start `data` (the parser stops after each message), so its
// head comes first: empty lines (skipped, as http_parser does), the request line, fields, and an
// empty line. Every line ends with CRLF (RFC 9112 §2.2): http_parser takes a bare CR for a line
// end and swallows the next byte, so "X: \rZContent-Length: 5" would be two fields here and one
// at a proxy; a bare LF is a line end to some parsers and not to others. A field line starting
// with whitespace is obs-fold (§5.2), which http_parser would unfold into the previous field.
bool WireParser::scan_head(std::string_view data) {
  std::size_t i = 0;
  while (i < data.size() && !head_done_) {
    if (head_cr_) {
      head_cr_ = false;
      if (data[i] != '\n') return false;
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
    if (data[i] == '\n') return false;
    // A run of line bytes up to the next CR or LF, taken at once (this runs on every request).
    std::size_t end = i;
    while (end < data.size() && data[end] != '\r' && data[end] != '\n') ++end;
    if (!line_started_ && request_line_done_ && is_bws(data[i])) return false;  // obs-fold
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
}

int WireParser::fail(int status) {
  status_ = Status::error;
  error_status_ = status;
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
    return w.fail(414);
  }
  try {
    w.request_.target.append(at, length);
  } catch (const std::bad_alloc&) {
    return w.fail(503);
  }
  return 0;
}

int WireParser::on_header_field(http_parser* p, const char* at, std::size_t length) noexcept {
  WireParser& w = self(p);
  w.header_bytes_ += length;
  if (w.header_bytes_ > w.limits_.max_header_bytes) return w.fail(431);
  for (char c : std::string_view(at, length)) {
    if (!is_tchar(c)) return w.fail(400);
  }
  bool new_field = w.last_was_value_ || w.header_count_ == 0;
  w.last_was_value_ = false;
  if (new_field && ++w.header_count_ > w.limits_.max_header_count) {
    return w.fail(431);
  }
  try {
    // Room for a usual request's fields at once, instead of growing 1, 2, 4, 8.
    if (new_field && w.request_.headers.empty()) w.request_.headers.reserve(8);
    if (new_field) w.request_.headers.emplace_back();
    w.request_.headers.back().name.append(at, length);
  } catch (const std::bad_alloc&) {
    return w.fail(503);
  }
  return 0;
}

int WireParser::on_header_value(http_parser* p, const char* at, std::size_t length) noexcept {
  WireParser& w = self(p);
  w.header_bytes_ += length;
  if (w.header_bytes_ > w.limits_.max_header_bytes) return w.fail(431);
  // RFC 9110 §5.5: no controls but HTAB in values. http_parser lets any byte through at the
  // start of a value, and handlers or logs may echo values.
  for (char c : std::string_view(at, length)) {
    if (!is_field_value_char(c)) return w.fail(400);
  }
  w.last_was_value_ = true;
  try {
    w.request_.headers.back().value.append(at, length);
  } catch (const std::bad_alloc&) {
    return w.fail(503);
  }
  return 0;
}

int WireParser::on_headers_complete(http_parser* p) noexcept {
  try {
    return self(p).headers_complete();
  } catch (const std::bad_alloc&) {
    return self(p).fail(503);
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
    return fail(400);
  }
  if (parser_.http_major != 1) return fail(505);
  // The non-strict http_parser lets HTAB and FF into targets.
  for (char c : r.target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return fail(400);
    }
  }
  if (!framing_is_unambiguous()) return fail(400);

  r.version_minor = parser_.http_minor;
  r.keep_alive = http_should_keep_alive(&parser_) != 0;
  upgrade_ = parser_.upgrade != 0;

  http_parser_url url;
  http_parser_url_init(&url);
  if (http_parser_parse_url(r.target.data(), r.target.size(), method == HTTP_CONNECT ? 1 : 0,
                            &url) != 0) {
    return fail(400);
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
    return fail(413);
  }
  bool has_body = has_flag(parser_, F_CHUNKED) ||
                  (parser_.content_length > 0 &&
                   parser_.content_length != std::numeric_limits<std::uint64_t>::max());
  if (auto expect = r.header("Expect")) {
    if (!iequals(*expect, "100-continue")) return fail(417);
    expect_continue_ = has_body && r.version_minor >= 1;
  }
  // 1 = no body for http_parser: it ends the message after the head and chunks_ decodes the
  // chunked body.
  return chunked_ ? 1 : 0;
}

// RFC 9112 §6.3: a message's framing must be unambiguous, or a proxy in front may frame it
// differently and smuggle a request past us. http_parser already refuses most of what is here,
// but not all (several Transfer-Encoding fields, codings before chunked), and not by contract.
bool WireParser::framing_is_unambiguous() const {
  int hosts = 0;
  int lengths = 0;
  int codings = 0;
  for (const auto& h : request_.headers) {
    if (iequals(h.name, "Host")) {
      ++hosts;
    } else if (iequals(h.name, "Content-Length")) {
      ++lengths;
      if (h.value.empty() || h.value.find_first_not_of("0123456789") != std::string::npos) {
        return false;  // no sign, no list: another parser may read those otherwise
      }
    } else if (iequals(h.name, "Transfer-Encoding")) {
      ++codings;
      // Any other coding is one we do not decode, and "chunked" must be the last one anyway.
      if (!iequals(h.value, "chunked")) return false;
    }
  }
  // RFC 9112 §3.2 for Host; any repeat, even of an equal Content-Length, is refused.
  if (hosts > 1 || lengths > 1 || codings > 1) return false;
  if (codings > 0 && lengths > 0) return false;
  if (codings > 0 && parser_.http_minor == 0) return false;  // HTTP/1.0 has no chunked coding
  return (codings > 0) == has_flag(parser_, F_CHUNKED);
}

int WireParser::on_body(http_parser* p, const char* at, std::size_t length) noexcept {
  WireParser& w = self(p);
  if (w.request_.body.size() + length > w.limits_.max_body_bytes) {
    return w.fail(413);
  }
  try {
    w.request_.body.append(at, length);
  } catch (const std::bad_alloc&) {
    return w.fail(503);
  }
  return 0;
}

int WireParser::on_message_complete(http_parser* p) noexcept {
  WireParser& w = self(p);
  if (w.chunked_) {
    // The head only: feed() hands the body to the decoder, which counts trailer fields on.
    w.in_chunks_ = true;
    w.chunks_.start(w.header_bytes_, w.header_count_);
  } else {
    w.status_ = Status::complete;
  }
  // Pausing makes http_parser_execute return right after this request's last byte.
  http_parser_pause(p, 1);
  return 0;
}

}  // namespace roombus::http::detail
