// Unit tests: the chunked body decoder on its own, fed whole, byte by byte and in odd pieces.
#include "chunked_decoder.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <string_view>

using roombus::http::detail::ChunkedDecoder;
using roombus::http::detail::ChunkLimits;
using Status = ChunkedDecoder::Status;
using namespace std::string_literals;  // bodies with NULs inside

namespace {

struct Decoded {
  Status status = Status::need_more;
  int error_status = 0;
  std::string body;
  std::size_t used = 0;  // bytes of the wire taken
};

// Feeds `wire` in pieces of `step` bytes until the decoder stops taking them.
Decoded decode(std::string_view wire, std::size_t step, ChunkLimits limits = {},
               std::size_t head_field_bytes = 0, std::size_t head_field_count = 0) {
  ChunkedDecoder decoder(limits);
  decoder.start(head_field_bytes, head_field_count);
  Decoded out;
  while (out.used < wire.size()) {
    const std::string_view piece = wire.substr(out.used, step);
    const std::size_t taken = decoder.feed(piece, out.body);
    out.used += taken;
    if (taken < piece.size()) break;
  }
  out.status = decoder.status();
  out.error_status = decoder.error_status();
  return out;
}

constexpr std::size_t steps[] = {1, 2, 3, 7, 4096};

// Refused with `status`, whole and in every piece size, and nothing after the bad byte taken.
void check_refused(std::string_view wire, int status, ChunkLimits limits = {}) {
  for (std::size_t step : steps) {
    INFO("step " << step);
    const Decoded d = decode(wire, step, limits);
    CHECK(d.status == Status::error);
    CHECK(d.error_status == status);
    CHECK(d.used < wire.size());
  }
}

// Decodes to `body`, whole and in every piece size, taking exactly the body's bytes.
void check_decodes(std::string_view wire, std::string_view body, std::string_view next = "") {
  const std::string fed = std::string(wire) + std::string(next);
  for (std::size_t step : steps) {
    INFO("step " << step);
    const Decoded d = decode(fed, step);
    CHECK(d.status == Status::complete);
    CHECK(d.body == body);
    CHECK(d.used == wire.size());
  }
}

}  // namespace

TEST_CASE("Chunks decode the same whole, byte by byte and in odd pieces", "[http][chunked]") {
  check_decodes("3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", "abcde");
  check_decodes("0\r\n\r\n", "");
  // Hex digits in either case; CR, LF and NUL inside data are data.
  check_decodes("A\r\n0123456789\r\n5\r\n\r\n\0\r\n\r\n0\r\n\r\n"s, "0123456789\r\n\0\r\n"s);
  check_decodes("1a\r\n" + std::string(26, 'x') + "\r\n0\r\n\r\n", std::string(26, 'x'));
  // Leading zeros are no significant digits.
  check_decodes("0000000000000000000005\r\nhello\r\n0\r\n\r\n", "hello");
}

TEST_CASE("The decoder stops right after the body: what follows is the next request",
          "[http][chunked]") {
  check_decodes("2\r\nhi\r\n0\r\n\r\n", "hi", "GET / HTTP/1.1\r\n\r\n");
  ChunkedDecoder decoder({});
  decoder.start(0, 0);
  std::string body;
  CHECK(decoder.feed("1\r\na\r\n0\r\n\r\nrest", body) == 11);
  CHECK(decoder.status() == Status::complete);
  CHECK(decoder.feed("more", body) == 0);  // done until started again
  decoder.start(0, 0);
  body.clear();
  CHECK(decoder.feed("2\r\nbc\r\n0\r\n\r\n", body) == 12);
  CHECK(decoder.status() == Status::complete);
  CHECK(body == "bc");
}

TEST_CASE("Chunk extensions parse by RFC 9112's grammar and are ignored", "[http][chunked]") {
  check_decodes(
      "5;a;b=c ; d = \"q\\\"\\\\ x\"\t;e=f\r\nhello\r\n"
      "1;x=\"\"\r\n!\r\n0;last\r\n\r\n",
      "hello!");
  for (const std::string& body : {
           "5;\r\nhello\r\n0\r\n\r\n"s,               // no name
           "5;a b\r\nhello\r\n0\r\n\r\n"s,            // two names without a separator
           "5;a=\r\nhello\r\n0\r\n\r\n"s,             // no value
           "5;a=b c\r\nhello\r\n0\r\n\r\n"s,          // junk after a value
           "5;a=\"open\r\nhello\r\n0\r\n\r\n"s,       // unterminated quoted string
           "5;a=\"x\x01\"\r\nhello\r\n0\r\n\r\n"s,    // CTL in a quoted string
           "5;a\x7f\r\nhello\r\n0\r\n\r\n"s,          // DEL in a name
           "5;\0\r\nhello\r\n0\r\n\r\n"s,             // NUL
           "5;a\nX\r\nhello\r\n0\r\n\r\n"s,           // a bare LF inside the extension
           "5;a\rX\r\nhello\r\n0\r\n\r\n"s,           // a bare CR inside the extension
           "5;a=\"x\"y\r\nhello\r\n0\r\n\r\n"s,       // junk after a quoted string
           "5 ;a=\"\\\x01\"\r\nhello\r\n0\r\n\r\n"s,  // a CTL quoted
           "0;\r\n\r\n"s,                             // on the last chunk too
       }) {
    INFO(body);
    check_refused(body, 400);
  }
}

TEST_CASE("Trailer fields parse like header fields and are dropped", "[http][chunked]") {
  check_decodes("2\r\nhi\r\n0\r\nX-T: 1\r\nY: \r\nZ:\tv\xc3\xa4\r\n\r\n", "hi");
  for (std::string_view body : {
           "0\r\nX : v\r\n\r\n",            // space before the colon
           "0\r\nX: v\r\n folded\r\n\r\n",  // obs-fold
           "0\r\nX: v\n\r\n",               // bare LF
           "0\r\nX: a\rb\r\n\r\n",          // bare CR
           "0\r\nX: a\x01\r\n\r\n",         // CTL
           "0\r\nnocolon\r\n\r\n",          // not a field
           "0\r\n:v\r\n\r\n",               // no name
           "0\r\n\n",                       // bare LF ends the body
           "0\r\n\rX",                      // bare CR ends the body
       }) {
    INFO(body);
    check_refused(body, 400);
  }
}

TEST_CASE("A chunk size over 64 bits or 64 digits is refused, not wrapped", "[http][chunked]") {
  check_refused("1ffffffffffffffff\r\nx\r\n0\r\n\r\n", 400);
  check_refused("fffffffffffffffff\r\nx\r\n0\r\n\r\n", 400);
  check_refused("10000000000000000\r\nx\r\n0\r\n\r\n", 400);  // 2^64 would wrap to 0
  check_refused(std::string(64, '0') + "5\r\nhello\r\n0\r\n\r\n", 400);
  check_decodes(std::string(63, '0') + "5\r\nhello\r\n0\r\n\r\n", "hello");
  // 16 digits fit in 64 bits and are then too large a body.
  check_refused("ffffffffffffffff\r\nx\r\n0\r\n\r\n", 413);
}

TEST_CASE("A chunk size is hex digits only: no sign, prefix, space or fraction",
          "[http][chunked]") {
  for (std::string_view body : {
           "g\r\nx\r\n0\r\n\r\n",        // not hex
           "5g\r\nhello\r\n0\r\n\r\n",   // junk after the digits
           "5 \r\nhello\r\n0\r\n\r\n",   // whitespace without an extension
           " 5\r\nhello\r\n0\r\n\r\n",   // leading whitespace
           "+5\r\nhello\r\n0\r\n\r\n",   // sign
           "-5\r\nhello\r\n0\r\n\r\n",   // sign
           "0x5\r\nhello\r\n0\r\n\r\n",  // C prefix
           "\r\nhello\r\n0\r\n\r\n",     // empty size
           "5.0\r\nhello\r\n0\r\n\r\n",  // not an integer
       }) {
    INFO(body);
    check_refused(body, 400);
  }
}

TEST_CASE("Every line of the framing ends with exactly CRLF", "[http][chunked]") {
  for (std::string_view body : {
           "5\nhello\r\n0\r\n\r\n",                // bare LF ends the size line
           "5\rhello\r\n0\r\n\r\n",                // bare CR ends the size line
           "5\r\rhello\r\n0\r\n\r\n",              // CR CR
           "5\r\nhelloXX5\r\nworld\r\n0\r\n\r\n",  // issue 12: data not followed by CRLF
           "5\r\nhello\n0\r\n\r\n",                // bare LF after the data
           "5\r\nhello\r0\r\n\r\n",                // bare CR after the data
           "5\r\nhello0\r\n\r\n",                  // nothing after the data
           "3\r\nhello\r\n0\r\n\r\n",              // more data than the size says
           "0\r\n\r\r",                            // the final CRLF
       }) {
    INFO(body);
    check_refused(body, 400);
  }
}

TEST_CASE("A body larger than the limit is refused before its data arrives", "[http][chunked]") {
  const ChunkLimits small{10, 64, 3};
  check_refused("b\r\nhello world\r\n0\r\n\r\n", 413, small);
  for (std::size_t step : steps) {
    INFO("step " << step);
    const Decoded d = decode("8\r\n12345678\r\n3\r\n123\r\n0\r\n\r\n", step, small);
    CHECK(d.error_status == 413);
    CHECK(d.body == "12345678");
    CHECK(d.used == 14);  // at the CR ending the size line that overflows
  }
  const Decoded fits = decode("8\r\n12345678\r\n2\r\n12\r\n0\r\n\r\n", 1, small);
  CHECK(fits.status == Status::complete);
  CHECK(fits.body == "1234567812");
}

TEST_CASE("Trailer fields count on from the head's fields; extensions have a budget of their own",
          "[http][chunked]") {
  const ChunkLimits small{1024, 32, 3};
  // The trailer's field line counts 12 bytes (its colon and CR included): on top of the head's
  // 20 it fits, on top of 25 it does not.
  const std::string trailer = "0\r\nAbcd: 12345\r\n\r\n";
  CHECK(decode(trailer, 1, small, 20, 0).status == Status::complete);
  const Decoded over = decode(trailer, 1, small, 25, 0);
  CHECK(over.status == Status::error);
  CHECK(over.error_status == 431);
  // Fields: one more than the head's 2 fits, two more do not.
  CHECK(decode("0\r\nA: 1\r\n\r\n", 1, small, 0, 2).status == Status::complete);
  CHECK(decode("0\r\nA: 1\r\nB: 2\r\n\r\n", 1, small, 0, 2).error_status == 431);
  // Chunk extensions: 32 bytes (CRs included) for the whole body, whatever the head used.
  const std::string ext = ";" + std::string(14, 'e');
  CHECK(decode("1" + ext + ext + "\r\nx\r\n0\r\n\r\n", 1, small, 32, 3).status == Status::complete);
  CHECK(
      decode("1" + ext + "\r\nx\r\n1" + ext + ext + "\r\ny\r\n0\r\n\r\n", 1, small).error_status ==
      400);
}
