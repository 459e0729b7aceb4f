// Unit tests of the Redis URL grammar: what is accepted, what each refusal says, no secrets leak.
#include "roombus/redis/url.hpp"

#include <catch2/catch.hpp>
#include <string>

using roombus::redis::parse_url;
using roombus::redis::UrlError;

namespace {

// The message of the UrlError that parsing `text` throws (empty if it parses).
std::string refusal(const std::string& text) {
  try {
    parse_url(text);
  } catch (const UrlError& e) {
    return e.what();
  }
  return {};
}

}  // namespace

TEST_CASE("A URL with host, port and database is taken apart", "[redis][url]") {
  const auto url = parse_url("redis://cache.example.com:6380/2");
  CHECK(url.host == "cache.example.com");
  CHECK(url.port == 6380);
  CHECK(url.db == 2);
  CHECK_FALSE(url.has_password);
  CHECK(url.user.empty());
}

TEST_CASE("Port and database have defaults: 6379 and 0", "[redis][url]") {
  const auto bare = parse_url("redis://localhost");
  CHECK(bare.port == 6379);
  CHECK(bare.db == 0);
  CHECK(parse_url("redis://localhost/").db == 0);
  CHECK(parse_url("redis://127.0.0.1:7000").port == 7000);
}

TEST_CASE("A password alone, or a user and a password, come from the user info", "[redis][url]") {
  const auto password_only = parse_url("redis://:s3cret@10.0.0.5:6379/1");
  CHECK(password_only.has_password);
  CHECK(password_only.user.empty());
  CHECK(password_only.password == "s3cret");
  CHECK(password_only.host == "10.0.0.5");
  CHECK(password_only.db == 1);

  const auto with_user = parse_url("redis://roombus:pa55@redis:6379");
  CHECK(with_user.user == "roombus");
  CHECK(with_user.password == "pa55");
}

TEST_CASE("Percent-encoded user info is decoded, so any byte can be in a password",
          "[redis][url]") {
  const auto url = parse_url("redis://:p%40ss%2Fw%3Ard%25@h:1");
  CHECK(url.password == "p@ss/w:rd%");
  CHECK(url.host == "h");
  CHECK(url.port == 1);
  CHECK(parse_url("redis://:a:b@h").password == "a:b");  // the first ':' separates the user
}

TEST_CASE("An IPv6 host is written in brackets", "[redis][url]") {
  const auto url = parse_url("redis://[::1]:6390/3");
  CHECK(url.host == "::1");
  CHECK(url.port == 6390);
  CHECK(url.db == 3);
  CHECK(parse_url("redis://[fe80::1]").port == 6379);
}

TEST_CASE("Malformed URLs are refused with a message naming what is wrong", "[redis][url]") {
  CHECK_THAT(refusal(""), Catch::Contains("empty"));
  CHECK_THAT(refusal("http://h:6379"), Catch::Contains("must start with redis://"));
  CHECK_THAT(refusal("rediss://h:6379"), Catch::Contains("TLS"));
  CHECK_THAT(refusal("redis://"), Catch::Contains("host is missing"));
  CHECK_THAT(refusal("redis://:6379"), Catch::Contains("host is missing"));
  CHECK_THAT(refusal("redis://h_st:6379"), Catch::Contains("not a valid name"));
  CHECK_THAT(refusal("redis://h:0"), Catch::Contains("port"));
  CHECK_THAT(refusal("redis://h:65536"), Catch::Contains("port"));
  CHECK_THAT(refusal("redis://h:63a"), Catch::Contains("port"));
  CHECK_THAT(refusal("redis://h:"), Catch::Contains("port"));
  CHECK_THAT(refusal("redis://h:+80"), Catch::Contains("port"));
  CHECK_THAT(refusal("redis://h/x"), Catch::Contains("database"));
  CHECK_THAT(refusal("redis://h/-1"), Catch::Contains("database"));
  CHECK_THAT(refusal("redis://h/1/2"), Catch::Contains("database"));
  CHECK_THAT(refusal("redis://h/99999999999"), Catch::Contains("database"));
  CHECK_THAT(refusal("redis://h?db=1"), Catch::Contains("query"));
  CHECK_THAT(refusal("redis://h#x"), Catch::Contains("fragment"));
  CHECK_THAT(refusal("redis://h :1"), Catch::Contains("whitespace"));
  CHECK_THAT(refusal("redis://[::1"), Catch::Contains("closing ]"));
  CHECK_THAT(refusal("redis://[::1]x"), Catch::Contains("after the IPv6 host"));
  CHECK_THAT(refusal("redis://[zz]:1"), Catch::Contains("IPv6"));
  CHECK_THAT(refusal("redis://pw@h"), Catch::Contains("user:password"));
  CHECK_THAT(refusal("redis://user:@h"), Catch::Contains("password is empty"));
  CHECK_THAT(refusal("redis://:a%4@h"), Catch::Contains("percent-encoding"));
  CHECK_THAT(refusal("redis://:a%zz@h"), Catch::Contains("percent-encoding"));
  CHECK_THAT(refusal("redis://:a/b@h"), Catch::Contains("percent-encoded"));
  CHECK_THAT(refusal("redis://:a@b@h"), Catch::Contains("percent-encoded"));
}

TEST_CASE("Every refusal is one line that shows the expected form", "[redis][url]") {
  for (const char* text : {"", "http://x", "redis://h:0", "redis://:p@h/x", "redis://a b"}) {
    const std::string message = refusal(text);
    INFO(text);
    CHECK(message.find('\n') == std::string::npos);
    CHECK_THAT(message, Catch::Contains("redis://[[user]:password@]host[:port][/db]"));
  }
}

TEST_CASE("Neither an error nor the redacted form shows the password", "[redis][url]") {
  CHECK_THAT(refusal("redis://:hunter2@host:99999"), !Catch::Contains("hunter2"));
  CHECK_THAT(refusal("redis://u:hunter2@host/x"), !Catch::Contains("hunter2"));
  CHECK_THAT(refusal("redis://:hun%ZZter2@host"), !Catch::Contains("hun"));
  const auto url = parse_url("redis://admin:hunter2@[::1]:7000/4");
  CHECK(url.redacted() == "redis://admin:***@[::1]:7000/4");
  CHECK(parse_url("redis://h").redacted() == "redis://h:6379/0");
}
