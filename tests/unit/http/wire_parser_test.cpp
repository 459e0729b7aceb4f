// Unit tests: request parsing fed whole, byte by byte and pipelined, with limits.
#include "wire_parser.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using roombus::http::Request;
using roombus::http::detail::WireLimits;
using roombus::http::detail::WireParser;
using Status = WireParser::Status;

namespace {

// Feeds `wire` in pieces of `step` bytes and collects every complete request.
struct Fed {
  std::vector<Request> requests;
  Status last = Status::need_more;
  int error_status = 0;
};

Fed feed_all(std::string_view wire, std::size_t step, WireLimits limits = {}) {
  WireParser parser(limits);
  Fed fed;
  std::string pending;
  while (!wire.empty() || !pending.empty()) {
    if (!wire.empty()) {
      std::size_t n = std::min(step, wire.size());
      pending.append(wire.substr(0, n));
      wire.remove_prefix(n);
    }
    std::size_t used = parser.feed(pending);
    pending.erase(0, used);
    fed.last = parser.status();
    if (fed.last == Status::error) {
      fed.error_status = parser.error_status();
      return fed;
    }
    if (fed.last == Status::complete) {
      fed.requests.push_back(parser.take());
      continue;
    }
    if (wire.empty()) break;
  }
  return fed;
}

const std::string_view two_requests =
    "POST /api/v1/room%20s?x=1&y=%41 HTTP/1.1\r\n"
    "Host: example\r\n"
    "Content-Type: application/x-www-form-urlencoded \r\n"
    "X-Multi: a\r\n"
    "X-Multi: b\r\n"
    "Content-Length: 7\r\n"
    "\r\n"
    "a=1&b=2"
    "GET /second HTTP/1.1\r\n"
    "Transfer-Encoding: chunked\r\n"
    "\r\n"
    "3\r\nabc\r\n"
    "2;ext=1\r\nde\r\n"
    "0\r\n"
    "Trailer-Field: dropped\r\n"
    "\r\n";

}  // namespace

TEST_CASE("Pipelined requests parse the same whole and byte by byte", "[http]") {
  for (std::size_t step : {two_requests.size(), std::size_t{1}, std::size_t{5}}) {
    CAPTURE(step);
    Fed fed = feed_all(two_requests, step);
    REQUIRE(fed.requests.size() == 2);
    const Request& first = fed.requests[0];
    CHECK(first.method == "POST");
    CHECK(first.target == "/api/v1/room%20s?x=1&y=%41");
    CHECK(first.path == "/api/v1/room s");
    CHECK(first.query == "x=1&y=%41");
    CHECK(first.header("content-type") == "application/x-www-form-urlencoded");
    CHECK(first.header_values("X-Multi").size() == 2);
    CHECK(first.body == "a=1&b=2");
    CHECK(first.version_minor == 1);
    CHECK(first.keep_alive);
    const Request& second = fed.requests[1];
    CHECK(second.method == "GET");
    CHECK(second.path == "/second");
    CHECK(second.body == "abcde");
    CHECK_FALSE(second.header("Trailer-Field"));
  }
}

TEST_CASE("HTTP/1.0 requests keep the connection only when they ask for it", "[http]") {
  CHECK_FALSE(feed_all("GET / HTTP/1.0\r\n\r\n", 64).requests.at(0).keep_alive);
  auto fed = feed_all("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 64);
  CHECK(fed.requests.at(0).keep_alive);
  CHECK(fed.requests.at(0).version_minor == 0);
  CHECK_FALSE(
      feed_all("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 64).requests.at(0).keep_alive);
}

TEST_CASE("Absolute-form targets are split into path and query", "[http]") {
  auto fed = feed_all("GET http://h:80/a/b?q=1 HTTP/1.1\r\n\r\n", 64);
  REQUIRE(fed.requests.size() == 1);
  CHECK(fed.requests[0].path == "/a/b");
  CHECK(fed.requests[0].query == "q=1");
  CHECK(feed_all("GET http://h?x HTTP/1.1\r\n\r\n", 64).requests.at(0).path == "/");
  CHECK(feed_all("OPTIONS * HTTP/1.1\r\n\r\n", 64).requests.at(0).path == "*");
}

TEST_CASE("Limits and malformed input map to the right status", "[http]") {
  WireLimits small{16, 64, 3, 10};
  CHECK(feed_all("GET /" + std::string(40, 'a') + " HTTP/1.1\r\n\r\n", 7, small).error_status ==
        414);
  CHECK(feed_all("GET / HTTP/1.1\r\nX: " + std::string(80, 'v') + "\r\n\r\n", 7, small)
            .error_status == 431);
  CHECK(feed_all("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", 7, small).error_status ==
        431);
  CHECK(feed_all("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", 7, small).error_status == 413);
  CHECK(feed_all("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n"
                 "8\r\n12345678\r\n0\r\n\r\n",
                 7, small)
            .error_status == 413);
  CHECK(feed_all("\x16\x03\x01garbage\r\n\r\n", 64).error_status == 400);
  CHECK(feed_all("GET / HTTP/2.0\r\n\r\n", 64).error_status == 505);
  CHECK(feed_all("POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 64)
            .error_status == 400);
  CHECK(feed_all("POST / HTTP/1.1\r\nExpect: teapot\r\nContent-Length: 1\r\n\r\nx", 64)
            .error_status == 417);
}

TEST_CASE("Expect 100-continue is reported until the body arrives", "[http]") {
  WireParser parser({});
  std::string_view head = "POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n";
  CHECK(parser.feed(head) == head.size());
  CHECK(parser.in_message());
  CHECK(parser.expects_continue());
  CHECK(parser.feed("abc") == 3);
  CHECK(parser.status() == Status::complete);
  CHECK_FALSE(parser.expects_continue());
  CHECK(parser.take().body == "abc");
  CHECK_FALSE(parser.in_message());
}

TEST_CASE("Leading empty lines do not start a request", "[http]") {
  WireParser parser({});
  CHECK(parser.feed("\r\n\r\n") == 4);
  CHECK_FALSE(parser.in_message());
  CHECK(parser.feed("G") == 1);
  CHECK(parser.in_message());
}

TEST_CASE("Request lines off RFC 9112's grammar get a 400 though http_parser is lenient",
          "[http]") {
  for (std::string_view line :
       {"GET /x HTPT/1.1", "GET  /x HTTP/1.1", "GET /x  HTTP/1.1", "GET /x HTTP/01.1", "GET /x",
        "GET /x HTTP/1.1 ", " GET /x HTTP/1.1"}) {
    INFO(line);
    std::string wire = std::string(line) + "\r\nHost: h\r\n\r\n";
    CHECK(feed_all(wire, 64).error_status == 400);
    CHECK(feed_all(wire, 1).error_status == 400);
  }
  // Empty lines before the request stay accepted (RFC 9112 §2.2).
  CHECK(feed_all("\r\n\r\nGET /x HTTP/1.1\r\n\r\n", 3).requests.size() == 1);
  // A long but valid target is still checked across many feeds.
  std::string target = "/" + std::string(5000, 't');
  auto fed = feed_all("GET " + target + " HTTP/1.1\r\n\r\n", 13);
  REQUIRE(fed.requests.size() == 1);
  CHECK(fed.requests[0].target == target);
}

TEST_CASE("Field names must be tokens: no space before the colon, none inside", "[http]") {
  CHECK(feed_all("POST / HTTP/1.1\r\nContent-Length : 5\r\n\r\nabcde", 64).error_status == 400);
  CHECK(feed_all("GET / HTTP/1.1\r\nHo st: h\r\n\r\n", 1).error_status == 400);
  CHECK(feed_all("GET / HTTP/1.1\r\n Host: h\r\n\r\n", 64).error_status == 400);
  // Values: no NUL anywhere (http_parser alone lets one through at the start of a value).
  using namespace std::string_literals;  // literals with NULs inside
  CHECK(feed_all("GET / HTTP/1.1\r\nHost:\0 h\r\n\r\n"s, 64).error_status == 400);
  CHECK(feed_all("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n"s, 1).error_status == 400);
  CHECK(feed_all("GET / HTTP/1.1\r\nX-A_b.c~!#$%&'*+^`|: v\r\n\r\n", 64).requests.size() == 1);
  // The second request of a pipeline is checked afresh.
  auto fed = feed_all("GET /a HTTP/1.1\r\n\r\nGET  /b HTTP/1.1\r\n\r\n", 5);
  CHECK(fed.requests.size() == 1);
  CHECK(fed.error_status == 400);
}

TEST_CASE("A bare CR in the head is a 400 but in a body it is data", "[http]") {
  // http_parser alone would read the first as two fields, X and Content-Length.
  for (std::size_t step : {std::size_t{1}, std::size_t{64}}) {
    CHECK(feed_all("POST / HTTP/1.1\r\nX: \rZContent-Length: 5\r\n\r\nabcde", step).error_status ==
          400);
    CHECK(feed_all("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", step).error_status == 400);
    CHECK(feed_all("GET / HTTP/1.1\r\r\n\r\n", step).error_status == 400);
    auto fed =
        feed_all("POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\na\rbGET /2 HTTP/1.1\r\n\r\n", step);
    REQUIRE(fed.requests.size() == 2);
    CHECK(fed.requests[0].body == "a\rb");
    CHECK(fed.requests[1].target == "/2");
  }
}

namespace {

// Every way a request can be framed differently by two parsers (the smuggling cases of RFC 9112
// §6.3, §7.1 and §11.2, and http_parser's non-strict leniencies) must end in a 400, fed whole and
// byte by byte, with nothing handed on.
void check_refused(std::string_view wire) {
  for (std::size_t step : {wire.size(), std::size_t{1}, std::size_t{7}}) {
    INFO("step " << step);
    Fed fed = feed_all(wire, step);
    CHECK(fed.requests.empty());
    CHECK(fed.error_status == 400);
  }
}

std::string chunked_post(std::string_view body) {
  return "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + std::string(body);
}

std::string post_with(std::string_view fields, std::string_view body = "") {
  return "POST / HTTP/1.1\r\nHost: h\r\n" + std::string(fields) + "\r\n" + std::string(body);
}

}  // namespace

TEST_CASE("Chunk data must be followed by exactly CRLF", "[http][smuggling]") {
  for (std::string_view body : {
           "5\r\nhelloXX5\r\nworld\r\n0\r\n\r\n",  // issue 12: this created a room
           "5\r\nhello\n0\r\n\r\n",                // bare LF after the data
           "5\r\nhello\r0\r\n\r\n",                // bare CR after the data
           "5\r\nhello0\r\n\r\n",                  // nothing after the data
           "3\r\nhello\r\n0\r\n\r\n",              // more data than the size says
       }) {
    INFO(body);
    check_refused(chunked_post(body));
  }
}

TEST_CASE("Chunk sizes are hex digits and nothing else", "[http][smuggling]") {
  for (std::string_view body : {
           "5 \r\nhello\r\n0\r\n\r\n",    // whitespace without an extension
           " 5\r\nhello\r\n0\r\n\r\n",    // leading whitespace
           "+5\r\nhello\r\n0\r\n\r\n",    // sign
           "0x5\r\nhello\r\n0\r\n\r\n",   // C prefix
           "\r\nhello\r\n0\r\n\r\n",      // empty size
           "5\nhello\r\n0\r\n\r\n",       // bare LF ends the size line
           "5\rhello\r\n0\r\n\r\n",       // bare CR ends the size line
           "5\r\rhello\r\n0\r\n\r\n",     // CR CR
           "1ffffffffffffffff\r\nx\r\n",  // more than 64 bits
           "fffffffffffffffff\r\nx\r\n",  // 17 hex digits: overflows
           "0\r\n",                       // last chunk without the final CRLF, then more:
       }) {
    INFO(body);
    if (body == "0\r\n") {
      check_refused(chunked_post("0\r\nGET / HTTP/1.1\r\n\r\n"));  // a trailer without a colon
      continue;
    }
    check_refused(chunked_post(body));
  }
}

TEST_CASE("Chunk extensions follow RFC 9112's grammar: token names with token or quoted values",
          "[http][smuggling]") {
  using namespace std::string_literals;
  for (const std::string& body : {
           "5;\r\nhello\r\n0\r\n\r\n"s,             // no name
           "5;a b\r\nhello\r\n0\r\n\r\n"s,          // two names without a separator
           "5;a=\r\nhello\r\n0\r\n\r\n"s,           // no value
           "5;a=b c\r\nhello\r\n0\r\n\r\n"s,        // junk after a value
           "5;a=\"open\r\nhello\r\n0\r\n\r\n"s,     // unterminated quoted string
           "5;a=\"x\x01\"\r\nhello\r\n0\r\n\r\n"s,  // CTL in a quoted string
           "5;a\x7f\r\nhello\r\n0\r\n\r\n"s,        // DEL in a name
           "5;\0\r\nhello\r\n0\r\n\r\n"s,           // NUL
           "5;a\nX\r\nhello\r\n0\r\n\r\n"s,         // a bare LF inside the extension
           "5;a\rX\r\nhello\r\n0\r\n\r\n"s,         // a bare CR inside the extension
           "5;a=\"x\"y\r\nhello\r\n0\r\n\r\n"s,     // junk after a quoted string
           "0;\r\n\r\n"s,                           // on the last chunk too
       }) {
    INFO(body);
    check_refused(chunked_post(body));
  }
  // What the grammar allows still parses, whole and byte by byte.
  for (std::size_t step : {std::size_t{1}, std::size_t{64}}) {
    Fed fed = feed_all(chunked_post("5;a;b=c ; d = \"q\\\"\\\\ x\"\t;e=f\r\nhello\r\n"
                                    "0;last\r\n\r\n"),
                       step);
    REQUIRE(fed.requests.size() == 1);
    CHECK(fed.requests[0].body == "hello");
  }
}

TEST_CASE("Trailer fields are checked like header fields and then dropped", "[http][smuggling]") {
  for (std::string_view body : {
           "0\r\nX : v\r\n\r\n",            // space before the colon
           "0\r\nX: v\r\n folded\r\n\r\n",  // obs-fold
           "0\r\nX: v\n\r\n",               // bare LF
           "0\r\nX: a\rb\r\n\r\n",          // bare CR
           "0\r\nX: a\x01\r\n\r\n",         // CTL
           "0\r\nnocolon\r\n\r\n",          // not a field
           "0\r\n\n",                       // bare LF ends the body
           "0\r\n\rX",                      // bare CR ends the body
       }) {
    INFO(body);
    check_refused(chunked_post(body));
  }
  for (std::size_t step : {std::size_t{1}, std::size_t{64}}) {
    Fed fed = feed_all(
        chunked_post("2\r\nhi\r\n0\r\nX-T: 1\r\nY: \r\n\r\n") + "GET /next HTTP/1.1\r\n\r\n", step);
    REQUIRE(fed.requests.size() == 2);
    CHECK(fed.requests[0].body == "hi");
    CHECK_FALSE(fed.requests[0].header("X-T"));
    CHECK(fed.requests[1].target == "/next");
  }
}

TEST_CASE("Trailers and chunk extensions count against the header limits", "[http]") {
  WireLimits small{64, 128, 4, 1024};
  CHECK(feed_all(chunked_post("0\r\nX: " + std::string(200, 'v') + "\r\n\r\n"), 9, small)
            .error_status == 431);
  CHECK(
      feed_all(chunked_post("0\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\n\r\n"), 9, small).error_status ==
      431);
  CHECK(feed_all(chunked_post("1;" + std::string(200, 'e') + "\r\nx\r\n0\r\n\r\n"), 9, small)
            .error_status == 400);
}

TEST_CASE("Content-Length and Transfer-Encoding together are refused", "[http][smuggling]") {
  check_refused(
      post_with("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "5\r\nhello\r\n0\r\n\r\n"));
  check_refused(
      post_with("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "5\r\nhello\r\n0\r\n\r\n"));
  check_refused(post_with("Content-Length: 0\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"));
}

TEST_CASE("Content-Length is one field of digits only", "[http][smuggling]") {
  for (std::string_view fields : {
           "Content-Length: 5\r\nContent-Length: 5\r\n",  // twice, even equal
           "Content-Length: 5\r\nContent-Length: 6\r\n",
           "Content-Length: 5, 5\r\n",  // a list
           "Content-Length: 5,5\r\n",
           "Content-Length: +5\r\n",
           "Content-Length: -5\r\n",
           "Content-Length: 5 5\r\n",
           "Content-Length: 0x5\r\n",
           "Content-Length: 5.0\r\n",
           "Content-Length: \r\n",
           "Content-Length: 99999999999999999999999\r\n",
       }) {
    INFO(fields);
    check_refused(post_with(fields, "hellohello"));
  }
  CHECK(feed_all(post_with("Content-Length:  5 \r\n", "hello"), 1).requests.at(0).body == "hello");
  CHECK(feed_all(post_with("content-length: 05\r\n", "hello"), 64).requests.at(0).body == "hello");
}

TEST_CASE("Transfer-Encoding must be exactly chunked", "[http][smuggling]") {
  for (std::string_view fields : {
           "Transfer-Encoding: gzip\r\n",
           "Transfer-Encoding: identity\r\n",
           "Transfer-Encoding: chunked, gzip\r\n",  // chunked not last
           "Transfer-Encoding: gzip, chunked\r\n",  // a coding we do not decode
           "Transfer-Encoding: chunked, chunked\r\n",
           "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
           "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
           "Transfer-Encoding: xchunked\r\n",
           "Transfer-Encoding: chunked;q=1\r\n",
           "Transfer-Encoding: \"chunked\"\r\n",
           "Transfer-Encoding: \r\n",
           "Transfer-Encoding: ,chunked\r\n",
       }) {
    INFO(fields);
    check_refused(post_with(fields, "5\r\nhello\r\n0\r\n\r\n"));
  }
  // HTTP/1.0 has no chunked coding (RFC 9112 §6.1: the framing is faulty).
  check_refused("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  // Coding names are case-insensitive; optional whitespace around the value is not part of it.
  for (std::string_view fields :
       {"Transfer-Encoding: Chunked\r\n", "transfer-encoding:  CHUNKED \r\n"}) {
    auto fed = feed_all(post_with(fields, "5\r\nhello\r\n0\r\n\r\n"), 3);
    REQUIRE(fed.requests.size() == 1);
    CHECK(fed.requests[0].body == "hello");
  }
}

TEST_CASE("Obsolete line folding is refused rather than unfolded", "[http][smuggling]") {
  check_refused("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n");
  check_refused("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n");
  check_refused(post_with("X: a\r\n Content-Length: 5\r\n", "hello"));
}

TEST_CASE("Bare LF line ends are refused in the head", "[http][smuggling]") {
  check_refused("GET /x HTTP/1.1\nHost: h\n\n");
  check_refused("GET /x HTTP/1.1\r\nHost: h\n\r\n");
  check_refused("GET /x HTTP/1.1\r\nHost: h\r\n\n");
  check_refused("\nGET /x HTTP/1.1\r\nHost: h\r\n\r\n");
  check_refused(post_with("X: 1\nContent-Length: 5\r\n", "hello"));
}

TEST_CASE("Control characters other than HTAB are refused in field values", "[http][smuggling]") {
  using namespace std::string_literals;
  for (const std::string& field :
       {"X: \x01value\r\n"s, "X: va\x01lue\r\n"s, "X: value\x1b\r\n"s, "X: \x7f\r\n"s,
        "X: a\x7f b\r\n"s, "X: \x0b\r\n"s, "X: \x0c\r\n"s}) {
    INFO(field);
    check_refused("GET / HTTP/1.1\r\nHost: h\r\n" + field + "\r\n");
  }
  auto fed = feed_all("GET / HTTP/1.1\r\nX: a\tb \xc3\xa4\r\n\r\n", 1);
  REQUIRE(fed.requests.size() == 1);
  CHECK(fed.requests[0].header("X") == "a\tb \xc3\xa4");
}

TEST_CASE("Request targets carry no control characters and versions are one digit each",
          "[http][smuggling]") {
  check_refused("GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n");
  check_refused(
      "GET /a\x0c"
      "b HTTP/1.1\r\nHost: h\r\n\r\n");
  check_refused("GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n");
  check_refused("GET / HTTP/1.10\r\nHost: h\r\n\r\n");
  check_refused("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");  // RFC 9112 §3.2
}
