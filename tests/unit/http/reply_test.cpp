// Unit tests: response heads as the server writes them, and the responses it refuses to send.
#include "reply.hpp"

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <string_view>

using roombus::http::Response;
using roombus::http::detail::error_response;
using roombus::http::detail::invalid_response_reason;
using roombus::http::detail::serialize_head;
using roombus::http::detail::wants_close;

namespace {

std::string head_of(const Response& res, bool keep_alive = true, int request_minor = 1) {
  std::string head = "left over from the previous response";
  serialize_head(res, keep_alive, request_minor, head);
  return head;
}

bool has_line(const std::string& head, std::string_view line) {
  return head.find("\r\n" + std::string(line) + "\r\n") != std::string::npos;
}

}  // namespace

TEST_CASE("The status line carries the reason phrase, empty for an unknown status", "[http]") {
  CHECK(head_of(Response::text(431, ""))
            .starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
  CHECK(head_of(Response::text(299, "")).starts_with("HTTP/1.1 299 \r\n"));
  const std::string head = head_of(Response::text(200, "hello"));
  CHECK(head.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(head.ends_with("\r\n\r\n"));
  CHECK(head.find("hello") == std::string::npos);  // the body goes out from the Response
}

TEST_CASE("Framing fields are the server's: a handler's are dropped", "[http]") {
  Response res = Response::text(200, "12345");
  res.headers.push_back({"content-length", "99"});
  res.headers.push_back({"Transfer-Encoding", "chunked"});
  res.headers.push_back({"Date", "yesterday"});
  res.headers.push_back({"X-Kept", "yes"});
  const std::string head = head_of(res);
  CHECK(has_line(head, "Content-Length: 5"));
  CHECK(has_line(head, "X-Kept: yes"));
  CHECK(head.find("99") == std::string::npos);
  CHECK(head.find("chunked") == std::string::npos);
  CHECK(head.find("yesterday") == std::string::npos);
  CHECK(head.find("\r\nDate: ") != std::string::npos);
  CHECK(head.find("GMT\r\n") != std::string::npos);
}

TEST_CASE("204 and 304 have no Content-Length", "[http]") {
  for (int status : {204, 304}) {
    Response res;
    res.status = status;
    CHECK(head_of(res).find("Content-Length") == std::string::npos);
  }
  Response shared;
  shared.shared_body = std::make_shared<const std::string>("shared");
  CHECK(has_line(head_of(shared), "Content-Length: 6"));
}

TEST_CASE("Connection says close when closing, keep-alive only to HTTP/1.0", "[http]") {
  const Response res = Response::text(200, "");
  CHECK(has_line(head_of(res, false, 1), "Connection: close"));
  CHECK(has_line(head_of(res, false, 0), "Connection: close"));
  CHECK(has_line(head_of(res, true, 0), "Connection: keep-alive"));
  CHECK(head_of(res, true, 1).find("Connection") == std::string::npos);
  Response closing = Response::text(200, "");
  closing.set_header("Connection", "Close");
  CHECK(wants_close(closing));
  CHECK_FALSE(wants_close(res));
}

TEST_CASE("Responses that would break framing are refused", "[http]") {
  CHECK(invalid_response_reason(Response::text(200, "")).empty());
  CHECK_FALSE(invalid_response_reason(Response::text(101, "")).empty());
  CHECK_FALSE(invalid_response_reason(Response::text(1000, "")).empty());
  for (std::string_view bad :
       {std::string_view("a\rb"), std::string_view("a\nb"), std::string_view("a\0b", 3)}) {
    Response value = Response::text(200, "");
    value.headers.push_back({"X", std::string(bad)});
    CHECK_FALSE(invalid_response_reason(value).empty());
    Response name = Response::text(200, "");
    name.headers.push_back({std::string(bad), "v"});
    CHECK_FALSE(invalid_response_reason(name).empty());
  }
  Response unnamed = Response::text(200, "");
  unnamed.headers.push_back({"", "v"});
  CHECK_FALSE(invalid_response_reason(unnamed).empty());
}

TEST_CASE("The server's own error responses are the reason phrase as plain text", "[http]") {
  const Response res = error_response(503);
  CHECK(res.status == 503);
  CHECK(res.body == "Service Unavailable\n");
  CHECK(res.header("Content-Type") == "text/plain; charset=utf-8");
}
