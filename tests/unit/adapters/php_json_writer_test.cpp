// Unit tests of PhpJsonWriter against strings PHP json_encode (Symfony default flags) produces.
#include "roombus/json/php_json_writer.hpp"

#include <catch2/catch.hpp>
#include <limits>
#include <stdexcept>
#include <string>

using roombus::json::php_json_string;
using roombus::json::PhpJsonWriter;

namespace {

std::string number_text(double value) {
  std::string out;
  roombus::json::append_php_json_number(out, value);
  return out;
}

}  // namespace

TEST_CASE("A v1 error body is written exactly as jitsi-admin writes it", "[json]") {
  PhpJsonWriter w;
  w.start_object().key("error").boolean(true).key("text").string("Room not found ").end_object();
  CHECK(w.take() == R"({"error":true,"text":"Room not found "})");
}

TEST_CASE("Slashes are escaped as PHP does", "[json]") {
  CHECK(php_json_string("http://host/room/join/b/84") == R"("http:\/\/host\/room\/join\/b\/84")");
}

TEST_CASE("Non-ASCII characters become lowercase \\u escapes", "[json]") {
  CHECK(php_json_string("gelöscht") == R"("gel\u00f6scht")");
  CHECK(php_json_string("hinzugefügt") == R"("hinzugef\u00fcgt")");
  CHECK(php_json_string("€") == R"("\u20ac")");
  CHECK(php_json_string("\u2028") == R"("\u2028")");
}

TEST_CASE("Astral characters become a UTF-16 surrogate pair", "[json]") {
  CHECK(php_json_string("\xF0\x9F\x98\x80") == R"("\ud83d\ude00")");  // U+1F600
  CHECK(php_json_string("\xF4\x8F\xBF\xBF") == R"("\udbff\udfff")");  // U+10FFFF
}

TEST_CASE("HTML-sensitive characters use PHP's uppercase JSON_HEX_* escapes", "[json]") {
  CHECK(php_json_string("<>'&\"") == R"("\u003C\u003E\u0027\u0026\u0022")");
  CHECK(php_json_string("a\\b") == R"("a\\b")");
}

TEST_CASE("Control characters use short escapes or lowercase \\u00xx", "[json]") {
  CHECK(php_json_string("\b\f\n\r\t") == R"("\b\f\n\r\t")");
  CHECK(php_json_string(std::string_view("\0\x01\x1f", 3)) == R"("\u0000\u0001\u001f")");
  CHECK(php_json_string("\x7f") == "\"\x7f\"");  // DEL is not escaped by PHP
  CHECK(php_json_string("") == R"("")");
}

TEST_CASE("Each ASCII byte is written the same amid plain text as alone", "[json]") {
  // Plain runs are copied whole: an escape must neither end a run early nor be skipped.
  for (int b = 0; b < 0x80; ++b) {
    const std::string byte(1, static_cast<char>(b));
    const std::string alone = php_json_string(byte);
    const std::string inner = alone.substr(1, alone.size() - 2);
    INFO("byte " << b);
    CHECK(php_json_string("ab" + byte + "cd") == "\"ab" + inner + "cd\"");
    CHECK(php_json_string(byte + byte + "x") == "\"" + inner + inner + "x\"");
  }
}

TEST_CASE("Strings appended to a growing document keep what came before", "[json]") {
  std::string out = "[";
  for (int i = 0; i < 100; ++i) {
    if (i > 0) out += ',';
    roombus::json::append_php_json_string(out, "room/" + std::to_string(i) + " ä");
  }
  out += ']';
  CHECK(out.rfind(R"(["room\/0 \u00e4","room\/1 \u00e4",)", 0) == 0);
  CHECK(out.size() > 100 * 16);
  CHECK(out.substr(out.size() - 18) == R"("room\/99 \u00e4"])");
}

TEST_CASE("Invalid UTF-8 becomes U+FFFD per maximal subpart and never breaks the output",
          "[json]") {
  CHECK(php_json_string("a\xFFz") == R"("a\ufffdz")");
  CHECK(php_json_string("\xC3") == R"("\ufffd")");                      // truncated at the end
  CHECK(php_json_string("\xC3(") == R"("\ufffd(")");                    // ASCII is not swallowed
  CHECK(php_json_string("\xE2\x82") == R"("\ufffd")");                  // one broken 3-byte char
  CHECK(php_json_string("\xC0\xAF") == R"("\ufffd\ufffd")");            // overlong '/'
  CHECK(php_json_string("\xED\xA0\x80") == R"("\ufffd\ufffd\ufffd")");  // a surrogate
  CHECK(php_json_string("\xF4\x90\x80\x80") == R"("\ufffd\ufffd\ufffd\ufffd")");  // > U+10FFFF
  CHECK(php_json_string("\x80\xE4\xBD\xA0") == R"("\ufffd\u4f60")");
}

TEST_CASE("Nested arrays and objects get commas and keep insertion order", "[json]") {
  PhpJsonWriter w;
  w.start_object();
  w.key("rooms").start_array();
  w.start_object().key("uid").string("b/84").key("n").integer(45).end_object();
  w.start_object().key("z").null().key("a").start_array().end_array().end_object();
  w.end_array();
  w.key("empty").start_object().end_object();
  w.key("list").start_array().integer(1).boolean(false).number(1.5).raw("[7]").end_array();
  w.end_object();
  CHECK(w.take() == R"({"rooms":[{"uid":"b\/84","n":45},{"z":null,"a":[]}],"empty":{},)"
                    R"("list":[1,false,1.5,[7]]})");
}

TEST_CASE("Keys are escaped like values", "[json]") {
  PhpJsonWriter w;
  w.start_object().key("a/ö").integer(1).end_object();
  CHECK(w.take() == R"({"a\/\u00f6":1})");
}

TEST_CASE("The writer is empty after take and can write a top-level scalar", "[json]") {
  PhpJsonWriter w;
  w.start_array().end_array();
  CHECK(w.take() == "[]");
  w.string("x");
  CHECK(w.take() == R"("x")");
  w.integer(-9223372036854775807 - 1);
  CHECK(w.take() == "-9223372036854775808");
}

TEST_CASE("Numbers follow PHP's serialize_precision=-1 format", "[json]") {
  CHECK(number_text(45) == "45");
  CHECK(number_text(1.5) == "1.5");
  CHECK(number_text(70.0) == "70");
  CHECK(number_text(-0.0) == "-0");
  CHECK(number_text(0.0) == "0");
  CHECK(number_text(0.1) == "0.1");
  CHECK(number_text(0.1 + 0.2) == "0.30000000000000004");
  CHECK(number_text(-2.5) == "-2.5");
  CHECK(number_text(0.0001) == "0.0001");
  CHECK(number_text(0.00001) == "1.0e-5");
  CHECK(number_text(1.5e-7) == "1.5e-7");
  CHECK(number_text(123456.789) == "123456.789");
  CHECK(number_text(1e16) == "10000000000000000");
  CHECK(number_text(1e17) == "1.0e+17");
  CHECK(number_text(1e25) == "1.0e+25");
  CHECK(number_text(-1.8446744073709552e19) == "-1.8446744073709552e+19");
  CHECK(number_text(1e-300) == "1.0e-300");
  CHECK(number_text(std::numeric_limits<double>::max()) == "1.7976931348623157e+308");
}

TEST_CASE("NaN and infinity are refused and leave the document untouched", "[json]") {
  PhpJsonWriter w;
  w.start_array().integer(1);
  CHECK_THROWS_AS(w.number(std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
  CHECK_THROWS_AS(w.number(std::numeric_limits<double>::infinity()), std::invalid_argument);
  w.number(2.0).end_array();
  CHECK(w.take() == "[1,2]");
}
