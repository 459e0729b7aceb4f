// Unit tests: PHP-compatible query, urlencoded and multipart decoding.
#include "roombus/http/params.hpp"

#include <catch2/catch.hpp>
#include <string>

using roombus::http::FormResult;
using roombus::http::media_type;
using roombus::http::media_type_param;
using roombus::http::parse_form_body;
using roombus::http::parse_multipart;
using roombus::http::parse_query;
using roombus::http::percent_decode;
using roombus::http::php_variable;

TEST_CASE("Percent-decoding turns %XX into bytes and keeps invalid escapes verbatim", "[http]") {
  CHECK(percent_decode("a%20b%2fc", false) == "a b/c");
  CHECK(percent_decode("100%", false) == "100%");
  CHECK(percent_decode("%zz%4", false) == "%zz%4");
  CHECK(percent_decode("%e2%82%AC", false) == "\xe2\x82\xac");
  CHECK(percent_decode("a+b", false) == "a+b");
  CHECK(percent_decode("a+b", true) == "a b");
  CHECK(percent_decode("%00", false) == std::string(1, '\0'));
  CHECK(percent_decode("%%41+%2", true) == "%A %2");
  CHECK(percent_decode("plain/path", false) == "plain/path");
  CHECK(percent_decode("", true).empty());
}

TEST_CASE("A query string keeps fields in order and decodes plus as space", "[http]") {
  auto p = parse_query("name=Team+Meeting&email=a%40b.c&empty=&flag&&=orphan");
  REQUIRE(p.size() == 4);
  CHECK(p.items()[0].name == "name");
  CHECK(p.items()[0].value == "Team Meeting");
  CHECK(p.get("email") == "a@b.c");
  CHECK(p.get("empty") == "");
  CHECK(p.get("flag") == "");
  CHECK_FALSE(p.get("missing"));
  CHECK_FALSE(p.contains(""));
}

TEST_CASE("A repeated plain field yields its last value like PHP's $_GET", "[http]") {
  auto p = parse_query("a=1&b=x&a=2&a=3");
  CHECK(p.get("a") == "3");
  CHECK_FALSE(p.is_array("a"));
}

TEST_CASE("Bracketed fields are PHP arrays so callers can reject them", "[http]") {
  auto p = parse_query("tags[]=x&tags[]=y&map[k]=v&n=1");
  CHECK(p.is_array("tags"));
  CHECK_FALSE(p.get("tags"));
  CHECK(p.is_array("map"));
  CHECK(p.items()[2].subscript == "[k]");
  CHECK(p.contains("tags"));
  CHECK_FALSE(p.is_array("n"));
}

TEST_CASE("The later of a plain field and an array field decides its type", "[http]") {
  CHECK(parse_query("a=1&a[]=2").is_array("a"));
  CHECK_FALSE(parse_query("a=1&a[]=2").get("a"));
  CHECK(parse_query("a[]=1&a=2").get("a") == "2");
  CHECK_FALSE(parse_query("a[]=1&a=2").is_array("a"));
  CHECK(parse_query("a[]=1&a=2&a[]=3").is_array("a"));
  CHECK_FALSE(parse_query("a[]=1&a=2&a[]=3").get("a"));
}

TEST_CASE("Field names are mangled the way PHP registers variables", "[http]") {
  CHECK(parse_query("a.b=1").get("a_b") == "1");
  CHECK(parse_query("a+b=1").get("a_b") == "1");
  CHECK(parse_query("++lead=1").get("lead") == "1");
  CHECK(parse_query("a[b=1").get("a_b") == "1");
  CHECK(parse_query("a%00junk=1").get("a") == "1");
  CHECK(parse_query("%5B%5D=1").size() == 0);  // "[]" has no name
  CHECK(parse_query("a%5B%5D=1").is_array("a"));
  auto v = php_variable("x.y[z]", "v");
  REQUIRE(v);
  CHECK(v->name == "x_y");
  CHECK(v->subscript == "[z]");
}

TEST_CASE("Fields beyond the limit are dropped and flagged", "[http]") {
  auto p = parse_query("a=1&b=2&c=3", 2);
  CHECK(p.size() == 2);
  CHECK(p.truncated());
  CHECK_FALSE(parse_query("a=1&b=2", 2).truncated());
}

TEST_CASE("Content-Type values give their media type and parameters", "[http]") {
  CHECK(media_type(" Multipart/Form-Data ; boundary=x") == "multipart/form-data");
  CHECK(media_type("application/json") == "application/json");
  CHECK(media_type_param("multipart/form-data; charset=utf-8; BOUNDARY=\"a b\"", "boundary") ==
        "a b");
  CHECK(media_type_param("text/plain; charset=utf-8", "boundary") == std::nullopt);
}

namespace {

const char* const form_type = "multipart/form-data; boundary=XyZ";

std::string multipart_body() {
  return "preamble\r\n"
         "--XyZ\r\n"
         "Content-Disposition: form-data; name=\"name\"\r\n"
         "\r\n"
         "Team\r\nMeeting\r\n"
         "--XyZ  \r\n"
         "content-disposition: form-data; name=\"upload\"; filename=\"C:\\a.txt\"\r\n"
         "Content-Type: text/plain\r\n"
         "\r\n"
         "file bytes\r\n"
         "--XyZ\r\n"
         "Content-Disposition: form-data; name=\"tags[]\"\r\n"
         "\r\n"
         "x\r\n"
         "--XyZ\r\n"
         "Content-Disposition: form-data\r\n"
         "\r\n"
         "nameless\r\n"
         "--XyZ\r\n"
         "Content-Disposition: form-data; name=\"name\"\r\n"
         "\r\n"
         "Later\r\n"
         "--XyZ--\r\n"
         "epilogue";
}

}  // namespace

TEST_CASE("Multipart fields become params and file parts are left out like $_POST", "[http]") {
  FormResult r = parse_multipart(form_type, multipart_body());
  REQUIRE(r.ok());
  CHECK(r.params.size() == 3);
  CHECK(r.params.get("name") == "Later");
  CHECK(r.params.items().front().value == "Team\r\nMeeting");  // CRLF inside a value is data
  CHECK(r.params.is_array("tags"));
  CHECK_FALSE(r.params.contains("upload"));
}

TEST_CASE("An empty multipart form with only the close delimiter is valid", "[http]") {
  FormResult r = parse_multipart(form_type, "--XyZ--\r\n");
  REQUIRE(r.ok());
  CHECK(r.params.size() == 0);
}

TEST_CASE("Malformed multipart bodies are rejected with a reason", "[http]") {
  auto error_of = [](std::string_view type, std::string_view body) {
    return parse_multipart(type, body).error;
  };
  CHECK(error_of("multipart/form-data", "--XyZ--") ==
        "multipart/form-data without a valid boundary parameter");
  CHECK(error_of("text/plain; boundary=XyZ", "") == "Content-Type is not multipart/form-data");
  CHECK(error_of(form_type, "no delimiter at all") ==
        "multipart body does not contain its boundary");
  CHECK(error_of(form_type,
                 "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue without end") ==
        "multipart body ends without a closing boundary");
  CHECK(error_of(form_type, "--XyZ\r\nno colon here\r\n\r\nv\r\n--XyZ--") ==
        "multipart part header is malformed");
  CHECK(error_of(form_type, "--XyZjunk\r\n\r\nv\r\n--XyZ--") ==
        "multipart boundary line is malformed");
  CHECK(error_of(form_type, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"") ==
        "multipart part headers are not terminated");
}

TEST_CASE("Multipart limits bound the number of parts and their header size", "[http]") {
  std::string body;
  for (int i = 0; i < 3; ++i) {
    body +=
        "--XyZ\r\nContent-Disposition: form-data; name=\"f" + std::to_string(i) + "\"\r\n\r\nv\r\n";
  }
  body += "--XyZ--\r\n";
  CHECK(parse_multipart(form_type, body, {2, 1024}).error == "multipart body has too many parts");
  CHECK(parse_multipart(form_type, body, {3, 1024}).ok());
  CHECK(parse_multipart(form_type, body, {3, 10}).error == "multipart part headers are too large");
}

TEST_CASE("Form bodies are decoded by Content-Type and other types give no params", "[http]") {
  auto urlencoded =
      parse_form_body("application/x-www-form-urlencoded; charset=UTF-8", "a=1&b=two+words");
  REQUIRE(urlencoded.ok());
  CHECK(urlencoded.params.get("b") == "two words");
  auto json = parse_form_body("application/json", "{\"a\":1}");
  CHECK(json.ok());
  CHECK(json.params.size() == 0);
  CHECK(parse_form_body(form_type, multipart_body()).params.get("name") == "Later");
  CHECK_FALSE(parse_form_body(form_type, "garbage").ok());
}
