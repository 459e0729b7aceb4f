// Incremental request parsing: http_parser driven byte by byte, with the server's size limits.
#pragma once

#include <http_parser.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "chunked_decoder.hpp"
#include "roombus/http/request.hpp"

namespace roombus::http::detail {

struct WireLimits {
  std::size_t max_url_bytes = 8 * 1024;
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_header_count = 100;
  std::size_t max_body_bytes = 1024 * 1024;
};

// One per connection. Not copyable: http_parser keeps a pointer back to this object.
class WireParser {
 public:
  enum class Status { need_more, complete, error };

  explicit WireParser(WireLimits limits);
  WireParser(const WireParser&) = delete;
  WireParser& operator=(const WireParser&) = delete;

  // Parses as much of `data` as belongs to the current request and returns how many bytes that
  // was. It stops right after a complete request, so pipelined bytes stay with the caller for
  // the next call (after take()).
  std::size_t feed(std::string_view data);

  Status status() const noexcept { return status_; }
  // When status() is error: the status code to answer with (400, 413, 414, 417, 431, 505).
  int error_status() const noexcept { return error_status_; }
  // The current request has begun (leading empty lines do not count).
  bool in_message() const noexcept { return in_message_; }
  // Headers asked for "100-continue" and the body is still to come.
  bool expects_continue() const noexcept {
    return expect_continue_ && status_ == Status::need_more;
  }
  // The request asked for another protocol (Upgrade, CONNECT): nothing may follow on this
  // connection as HTTP/1.1.
  bool upgrade() const noexcept { return upgrade_; }

  // The complete request; readies the parser for the next one on the same connection.
  Request take();

 private:
  static int on_message_begin(http_parser* p) noexcept;
  static int on_url(http_parser* p, const char* at, std::size_t length) noexcept;
  static int on_header_field(http_parser* p, const char* at, std::size_t length) noexcept;
  static int on_header_value(http_parser* p, const char* at, std::size_t length) noexcept;
  static int on_headers_complete(http_parser* p) noexcept;
  static int on_body(http_parser* p, const char* at, std::size_t length) noexcept;
  static int on_message_complete(http_parser* p) noexcept;
  static WireParser& self(http_parser* p) noexcept;

  int fail(int status);
  int headers_complete();
  bool framing_is_unambiguous() const;
  void reset_message();
  // Whether the head bytes seen so far are well-formed.
  bool scan_head(std::string_view data);

  static const http_parser_settings settings_;
  WireLimits limits_;
  http_parser parser_{};
  Request request_;
  Status status_ = Status::need_more;
  int error_status_ = 0;
  bool in_message_ = false;
  bool expect_continue_ = false;
  bool upgrade_ = false;
  bool last_was_value_ = false;
  std::size_t header_bytes_ = 0;
  std::size_t header_count_ = 0;
  // The system http_parser is built without HTTP_PARSER_STRICT: it accepts "GET  / HTPT/1.1",
  // takes a bare CR for a line end and unfolds obs-fold. scan_head() sees the raw head bytes
  // first; chunked bodies never reach it (see ChunkedDecoder).
  std::string request_line_;  // raw, without its line end
  bool request_line_done_ = false;
  bool line_overflow_ = false;
  bool line_started_ = false;  // the current head line has a byte other than CR/LF
  bool head_cr_ = false;       // the last head byte was a CR
  bool head_done_ = false;     // the empty line ending the fields has been seen

  bool chunked_ = false;    // the head said Transfer-Encoding: chunked
  bool in_chunks_ = false;  // http_parser is done with the head; bytes go to chunks_
  ChunkedDecoder chunks_;
};

}  // namespace roombus::http::detail
