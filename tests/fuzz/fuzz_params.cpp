// libFuzzer target: PHP-style parameter decoding never crashes, keeps its invariants, and gives
// back exactly what a fully percent-encoded form carried.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "roombus/http/params.hpp"

namespace {

using namespace roombus::http;

// A broken invariant must crash, so that libFuzzer keeps the input.
void check(bool ok) {
  if (!ok) std::abort();
}

void check_params(const Params& p, std::size_t max_fields) {
  check(p.size() <= max_fields);
  for (const Param& item : p.items()) {
    // PHP's variable names: never empty, cut at NUL, no leading space, ' ' '.' '[' mangled.
    check(!item.name.empty());
    check(item.name.find_first_of(std::string_view(" .[\0", 4)) == std::string::npos);
    check(item.subscript.empty() || item.subscript.front() == '[');
    check(p.contains(item.name));
    auto value = p.get(item.name);
    check(!(value && p.is_array(item.name)));
    if (!item.is_array_element()) check(value || p.is_array(item.name));
  }
}

// Fields built from the input: each '&'-free segment picks a name (f0..f4) with its first byte,
// the rest is the value, sent with every byte as %XX.
void check_round_trip(std::string_view data) {
  std::string query;
  std::map<std::string, std::string> last;
  std::size_t fields = 0;
  while (!data.empty() && fields < default_max_fields) {
    std::size_t end = data.find('\xff');
    std::string_view segment = data.substr(0, end);
    data = end == std::string_view::npos ? std::string_view{} : data.substr(end + 1);
    if (segment.empty()) continue;
    std::string name = "f" + std::to_string(static_cast<unsigned char>(segment[0]) % 5);
    std::string_view value = segment.substr(1);
    if (!query.empty()) query.push_back('&');
    query += name + "=";
    for (char c : value) {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", static_cast<unsigned char>(c));
      query += hex;
    }
    last[name] = std::string(value);
    ++fields;
  }
  Params p = parse_query(query);
  check(p.size() == fields);
  check(!p.truncated());
  for (const auto& [name, value] : last) check(p.get(name) == std::string_view(value));
}

}  // namespace

// Input: one byte choosing the decoder, then its input (for bodies: a Content-Type line first).
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const unsigned mode = static_cast<unsigned char>(input[0]) % 5;
  const std::size_t max_fields = 1 + static_cast<unsigned char>(input[1]) % 16;
  input.remove_prefix(2);
  std::size_t eol = input.find('\n');
  std::string_view content_type = input.substr(0, eol);
  std::string_view body =
      eol == std::string_view::npos ? std::string_view{} : input.substr(eol + 1);

  switch (mode) {
    case 0: {
      check_params(parse_query(input), default_max_fields);
      Params few = parse_query(input, max_fields);
      check_params(few, max_fields);
      break;
    }
    case 1: {
      // urldecode never grows its input; '+' handling only changes bytes, not the length.
      std::string plus = percent_decode(input, true);
      std::string raw = percent_decode(input, false);
      check(plus.size() <= input.size() && plus.size() == raw.size());
      break;
    }
    case 2: {
      MultipartLimits limits{max_fields, 64};
      FormResult r = parse_multipart(content_type, body, limits);
      if (r.ok()) check_params(r.params, max_fields);
      FormResult f = parse_form_body(content_type, body, limits);
      if (f.ok()) check_params(f.params, max_fields);
      break;
    }
    case 3: {
      std::string type = media_type(content_type);
      for (char c : type) check(!(c >= 'A' && c <= 'Z'));
      (void)media_type_param(content_type, "boundary");
      (void)media_type_param(content_type, "charset");
      break;
    }
    default:
      check_round_trip(input);
      break;
  }
  return 0;
}
