// Request parameter decoding with PHP's semantics: query strings, urlencoded and multipart forms.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace roombus::http {

// One decoded field. `name` is what PHP would use as the variable name: leading spaces dropped,
// ' ' and '.' turned into '_', cut at the first NUL. `subscript` is the raw bracket part of a PHP
// array field ("[]" for "a[]", "[x][y]" for "a[x][y]"), empty for a plain field.
struct Param {
  std::string name;
  std::string subscript;
  std::string value;

  bool is_array_element() const noexcept { return !subscript.empty(); }
};

// Fields in the order they were sent, answering lookups the way PHP's $_GET / $_POST would.
class Params {
 public:
  Params() = default;
  explicit Params(std::vector<Param> items, bool truncated = false)
      : items_(std::move(items)), truncated_(truncated) {}

  // $_GET[name] when it is a string: the LAST plain occurrence wins, and a later `name[]`
  // turns the variable into an array (then this returns nullopt and is_array() is true).
  std::optional<std::string_view> get(std::string_view name) const;
  // is_array($_GET[name]): callers that expect scalars reject these.
  bool is_array(std::string_view name) const;
  // isset($_GET[name]) in either form.
  bool contains(std::string_view name) const;

  const std::vector<Param>& items() const noexcept { return items_; }
  std::size_t size() const noexcept { return items_.size(); }
  // More fields than the limit were sent; the excess was dropped, as PHP's max_input_vars does.
  bool truncated() const noexcept { return truncated_; }

 private:
  std::vector<Param> items_;
  bool truncated_ = false;
};

// PHP's max_input_vars.
inline constexpr std::size_t default_max_fields = 1000;

// urldecode(): "%XX" decoded, invalid escapes kept verbatim; '+' is a space only when asked.
std::string percent_decode(std::string_view in, bool plus_is_space);

// Splits a PHP variable name into (name, subscript) as Param documents; nullopt when PHP would
// ignore the field (empty name).
std::optional<Param> php_variable(std::string_view raw_name, std::string value);

// A query string or an application/x-www-form-urlencoded body: '&'-separated, '+' is a space,
// a field without '=' has an empty value, fields with an empty name are skipped.
Params parse_query(std::string_view query, std::size_t max_fields = default_max_fields);
inline Params parse_urlencoded(std::string_view body, std::size_t max_fields = default_max_fields) {
  return parse_query(body, max_fields);
}

// "type/subtype" of a Content-Type value, lower-cased, parameters removed.
std::string media_type(std::string_view content_type);
// A parameter of a Content-Type value (name case-insensitive, quoted-string unquoted).
std::optional<std::string> media_type_param(std::string_view content_type, std::string_view name);

struct MultipartLimits {
  std::size_t max_parts = default_max_fields;  // file parts included
  std::size_t max_part_header_bytes = 8 * 1024;
};

// Outcome of decoding a body; `error` is a sentence for the client when decoding failed.
struct FormResult {
  Params params;
  std::string error;

  bool ok() const noexcept { return error.empty(); }
};

// multipart/form-data (RFC 7578). Like PHP's $_POST: fields become params (names mangled as
// above, values raw); parts with a filename are files and are left out; parts without a name
// are skipped. The body must be complete, with CRLF line ends and a closing delimiter.
FormResult parse_multipart(std::string_view content_type, std::string_view body,
                           const MultipartLimits& limits = {});

// What PHP puts in $_POST: urlencoded or multipart bodies are decoded, anything else (JSON,
// missing Content-Type) gives no params and no error.
FormResult parse_form_body(std::string_view content_type, std::string_view body,
                           const MultipartLimits& limits = {});

}  // namespace roombus::http
