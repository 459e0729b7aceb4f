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
  // Bare LF line ends and empty lines before the request stay accepted (RFC 9112 §2.2).
  CHECK(feed_all("GET /x HTTP/1.1\nHost: h\n\n", 1).requests.size() == 1);
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

TEST_CASE("A bare CR in the head is a 400; in a body it is data", "[http]") {
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
