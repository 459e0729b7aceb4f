// The chunked transfer coding (RFC 9112 §7.1), decoded strictly: one body, fed in any pieces.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace roombus::http::detail {

struct ChunkLimits {
  std::size_t max_body_bytes = 1024 * 1024;  // chunk data in all; beyond: 413
  // Trailer field names and values, the head's fields included; beyond: 431. Also bounds the
  // body's chunk extensions in all; beyond: 400.
  std::size_t max_field_bytes = 16 * 1024;
  std::size_t max_field_count = 100;  // trailer fields, the head's included; beyond: 431
};

// Not http_parser's decoder: built without HTTP_PARSER_STRICT, it accepts chunk data not followed
// by CRLF and any bytes in chunk extensions, so a proxy in front could frame the body otherwise.
// Sizes are 1-16 significant hex digits; extensions must parse and are ignored; trailer fields
// must parse like header fields and are dropped (nothing reads them).
class ChunkedDecoder {
 public:
  enum class Status { need_more, complete, error };

  explicit ChunkedDecoder(ChunkLimits limits) : limits_(limits) {}

  // Readies the decoder for a new body, whose message's head used `field_bytes` and `field_count`
  // of the field limits already.
  void start(std::size_t field_bytes, std::size_t field_count);

  // Decodes as much of `data` as belongs to the body, appending the chunk data to `body`, and
  // returns how many bytes that was. It stops right after the body's last byte, so pipelined
  // bytes stay with the caller, or at the byte found in error.
  std::size_t feed(std::string_view data, std::string& body);

  Status status() const noexcept { return status_; }
  // When status() is error: the status code to answer with (400, 413, 431, or 503 when out of
  // memory).
  int error_status() const noexcept { return error_status_; }

 private:
  enum class State : unsigned char {
    size_start,        // the first hex digit of a chunk size
    size,              // hex digits, then ';', BWS or CR
    ext_bws,           // BWS after the size or a value: ';' must follow
    ext_name_start,    // after ';': BWS, then a token
    ext_name,          // token characters, then BWS, '=', ';' or CR
    ext_after_name,    // BWS after a name: '=' or ';' must follow
    ext_value_start,   // after '=': BWS, then a token or a quoted string
    ext_token,         // token characters, then BWS, ';' or CR
    ext_quoted,        // inside a quoted string
    ext_quoted_pair,   // after a backslash in a quoted string
    ext_after_quoted,  // after a quoted string: BWS, ';' or CR
    size_lf,           // the LF ending a chunk-size line
    data,              // chunk data
    data_cr,           // the CRLF after chunk data
    data_lf,
    trailer_start,  // a trailer field line, or the CR of the final empty line
    trailer_name,   // token characters, then ':'
    trailer_value,  // field value characters, then CR
    trailer_lf,     // the LF ending a trailer field line
    end_lf,         // the LF ending the body
  };

  // One byte of framing (anything but chunk data); false once the body is refused.
  bool framing_byte(char c);
  bool extension_byte(char c);
  bool trailer_byte(char c);
  bool fail(int status);

  ChunkLimits limits_;
  Status status_ = Status::need_more;
  int error_status_ = 0;
  State state_ = State::size_start;
  std::uint64_t size_ = 0;           // of the current chunk; in `data`: what is still to come
  std::size_t size_digits_ = 0;      // significant hex digits of the current size
  std::size_t size_bytes_ = 0;       // digits of the current size, leading zeros included
  std::size_t extension_bytes_ = 0;  // all chunk-extension bytes of this body
  std::size_t body_bytes_ = 0;       // chunk data so far
  std::size_t field_bytes_ = 0;      // the head's and the trailer's
  std::size_t field_count_ = 0;      // the head's and the trailer's
};

}  // namespace roombus::http::detail
