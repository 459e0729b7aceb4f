// PhpJsonWriter: JSON text byte-identical to PHP json_encode with Symfony's default flags.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace roombus::json {

// A streaming writer for the v1 API's responses, whose clients were written against jitsi-admin
// (PHP json_encode, flags JSON_HEX_TAG|JSON_HEX_APOS|JSON_HEX_AMP|JSON_HEX_QUOT): `/` is written
// `\/`, every non-ASCII character `\uxxxx` (lower-case hex, astral characters as a surrogate
// pair), `<>'&"` as `\u003C \u003E \u0027 \u0026 \u0022` (upper-case hex, as PHP writes them),
// control characters as `\b \f \n \r \t` or `\u00xx`.
//
// Deliberate difference: invalid UTF-8 does not fail; each maximal invalid subsequence (Unicode
// "substitution of maximal subparts") becomes `\ufffd`, so the output is always valid JSON.
//
// Commas and colons are inserted automatically; members keep insertion order. Calls must form a
// well-nested document (checked with assert only: misuse is a programming error).
class PhpJsonWriter {
 public:
  PhpJsonWriter& start_object();
  PhpJsonWriter& end_object();
  PhpJsonWriter& start_array();
  PhpJsonWriter& end_array();
  // The next member's name; must be followed by exactly one value.
  PhpJsonWriter& key(std::string_view name);

  PhpJsonWriter& string(std::string_view text);
  PhpJsonWriter& integer(std::int64_t value);
  // As PHP with serialize_precision=-1: the shortest text that reads back as the same double,
  // no ".0" on whole numbers (70.0 -> `70`, -0.0 -> `-0`), exponent form when |value| < 1e-4 or
  // |value| >= 1e17 (1e25 -> `1.0e+25`, 0.00001 -> `1.0e-5`), as PHP's zend_gcvt in mode 0.
  // Throws std::invalid_argument for NaN and infinities, which JSON cannot represent (PHP fails
  // the encode too).
  PhpJsonWriter& number(double value);
  PhpJsonWriter& boolean(bool value);
  PhpJsonWriter& null();
  // A value that is already JSON text, inserted verbatim; the caller vouches for it.
  PhpJsonWriter& raw(std::string_view json);

  // The finished document; the writer is empty afterwards and can be reused.
  std::string take();

 private:
  struct Level {
    bool is_object;
    bool has_members;
  };
  void before_value();
  void open(char bracket, bool is_object);
  void close(char bracket, bool is_object);

  std::string out_;
  std::vector<Level> levels_;
  bool after_key_ = false;
};

// `text` as a quoted JSON string with the escaping above.
std::string php_json_string(std::string_view text);
// Appends `text`, quoted and escaped as above, to `out`.
void append_php_json_string(std::string& out, std::string_view text);
// Appends `value` formatted as PhpJsonWriter::number does.
void append_php_json_number(std::string& out, double value);

}  // namespace roombus::json
