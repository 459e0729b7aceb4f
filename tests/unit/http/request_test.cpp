// Unit tests: request field lookup and response helpers.
#include "roombus/http/request.hpp"

#include <catch2/catch.hpp>
#include <memory>
#include <string>

using roombus::http::Request;
using roombus::http::Response;

TEST_CASE("Header lookup ignores case and keeps repeated fields", "[http]") {
  Request r;
  r.headers = {{"Content-Type", "text/plain "}, {"X-Tag", "a"}, {"x-tag", "b"}};
  CHECK(r.header("content-type") == "text/plain");
  CHECK(r.header("X-TAG") == "a");
  CHECK(r.header_values("x-tag") == std::vector<std::string_view>{"a", "b"});
  CHECK_FALSE(r.header("Missing"));
}

TEST_CASE("Reason phrases come from the status; an unknown status has none", "[http]") {
  using roombus::http::reason_phrase;
  CHECK(reason_phrase(200) == "OK");
  CHECK(reason_phrase(431) == "Request Header Fields Too Large");
  CHECK(reason_phrase(299).empty());
  CHECK(reason_phrase(-1).empty());
}

TEST_CASE("A response sends its shared body when it has one, else its own", "[http]") {
  Response r = Response::text(200, "own");
  CHECK(r.content() == "own");
  auto shared = std::make_shared<const std::string>("shared bytes");
  r.shared_body = shared;
  CHECK(r.content() == "shared bytes");
  CHECK(r.content().data() == shared->data());  // the cache's bytes, not a copy
}

TEST_CASE("Setting a response header replaces every field of that name", "[http]") {
  Response r = Response::text(201, "made");
  r.headers.push_back({"x-a", "1"});
  r.headers.push_back({"X-A", "2"});
  r.set_header("X-a", "3");
  CHECK(r.header("x-a") == "3");
  CHECK(r.headers.size() == 2);
  CHECK(r.header("Content-Type") == "text/plain; charset=utf-8");
  CHECK(r.status == 201);
}
