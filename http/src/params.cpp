// Parameter decoding that mirrors PHP: urldecode, variable-name mangling, $_GET/$_POST lookups.
#include "roombus/http/params.hpp"

#include <algorithm>
#include <utility>

#include "roombus/http/request.hpp"

namespace roombus::http {
namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string_view trim(std::string_view v) noexcept {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

// Index of the last plain occurrence of `name`, or npos.
std::size_t last_plain(const std::vector<Param>& items, std::string_view name) {
  std::size_t found = std::string_view::npos;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!items[i].is_array_element() && items[i].name == name) found = i;
  }
  return found;
}

// Reads a token or a quoted-string at the start of `in` and advances past it. Backslash escapes
// only a quote or a backslash: browsers send Windows paths in filename="C:\x" unescaped.
std::string read_param_value(std::string_view& in) {
  std::string out;
  if (!in.empty() && in.front() == '"') {
    std::size_t i = 1;
    for (; i < in.size() && in[i] != '"'; ++i) {
      if (in[i] == '\\' && i + 1 < in.size() && (in[i + 1] == '"' || in[i + 1] == '\\')) ++i;
      out.push_back(in[i]);
    }
    in.remove_prefix(i < in.size() ? i + 1 : i);
    return out;
  }
  std::size_t end = in.find(';');
  if (end == std::string_view::npos) end = in.size();
  out = std::string(trim(in.substr(0, end)));
  in.remove_prefix(end);
  return out;
}

// Parameters of a header value "first; a=b; c="d"" (the first element is skipped); names are
// lower-cased. Returns the value of `name` if present.
std::optional<std::string> header_param(std::string_view value, std::string_view name) {
  std::size_t semi = value.find(';');
  if (semi == std::string_view::npos) return std::nullopt;
  std::string_view rest = value.substr(semi + 1);
  while (!rest.empty()) {
    rest = trim(rest);
    std::size_t eq = rest.find_first_of("=;");
    if (eq == std::string_view::npos) break;
    std::string_view key = trim(rest.substr(0, eq));
    if (rest[eq] == ';') {
      rest.remove_prefix(eq + 1);
      continue;
    }
    rest.remove_prefix(eq + 1);
    rest = trim(rest);
    std::string v = read_param_value(rest);
    if (iequals(key, name)) return v;
    std::size_t next = rest.find(';');
    if (next == std::string_view::npos) break;
    rest.remove_prefix(next + 1);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string_view> Params::get(std::string_view name) const {
  std::size_t plain = last_plain(items_, name);
  if (plain == std::string_view::npos) return std::nullopt;
  for (std::size_t i = plain + 1; i < items_.size(); ++i) {
    if (items_[i].is_array_element() && items_[i].name == name) return std::nullopt;
  }
  return items_[plain].value;
}

// A plain occurrence replaces the array built so far, exactly as a PHP assignment would.
bool Params::is_array(std::string_view name) const {
  std::size_t plain = last_plain(items_, name);
  std::size_t from = plain == std::string_view::npos ? 0 : plain + 1;
  for (std::size_t i = from; i < items_.size(); ++i) {
    if (items_[i].is_array_element() && items_[i].name == name) return true;
  }
  return false;
}

bool Params::contains(std::string_view name) const {
  for (const auto& p : items_) {
    if (p.name == name) return true;
  }
  return false;
}

std::string percent_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  std::size_t i = 0;
  while (i < in.size()) {
    // Runs without '%' (or '+') are copied whole: most paths and values have none.
    std::size_t special = i;
    while (special < in.size() && in[special] != '%' && !(plus_is_space && in[special] == '+')) {
      ++special;
    }
    out.append(in.data() + i, special - i);
    if (special == in.size()) break;
    i = special;
    if (in[i] == '+') {
      out.push_back(' ');
    } else if (i + 2 < in.size() && hex_value(in[i + 1]) >= 0 && hex_value(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2])));
      i += 2;
    } else {
      out.push_back('%');
    }
    ++i;
  }
  return out;
}

std::optional<Param> php_variable(std::string_view raw_name, std::string value) {
  // php_register_variable_ex(): names are C strings there, so a NUL ends them.
  raw_name = raw_name.substr(0, raw_name.find('\0'));
  while (!raw_name.empty() && raw_name.front() == ' ') raw_name.remove_prefix(1);

  Param p;
  p.value = std::move(value);
  std::size_t i = 0;
  for (; i < raw_name.size() && raw_name[i] != '['; ++i) {
    char c = raw_name[i];
    p.name.push_back(c == ' ' || c == '.' ? '_' : c);
  }
  if (p.name.empty()) return std::nullopt;
  if (i == raw_name.size()) return p;

  std::string_view rest = raw_name.substr(i);
  if (rest.find(']') == std::string_view::npos) {
    // An unclosed '[' is no array: PHP keeps the name, with '[', ' ' and '.' as '_'.
    for (char c : rest) p.name.push_back(c == ' ' || c == '.' || c == '[' ? '_' : c);
    return p;
  }
  p.subscript = std::string(rest);
  return p;
}

Params parse_query(std::string_view query, std::size_t max_fields) {
  std::vector<Param> items;
  // Sized up front: grown one field at a time, a create's form reallocated it four times.
  items.reserve(std::min<std::size_t>(
      static_cast<std::size_t>(std::count(query.begin(), query.end(), '&')) + 1, max_fields));
  bool truncated = false;
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view field = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (field.empty()) continue;
    if (items.size() >= max_fields) {
      truncated = true;
      break;
    }
    std::size_t eq = field.find('=');
    std::string_view key = field.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view{} : field.substr(eq + 1);
    if (auto p = php_variable(percent_decode(key, true), percent_decode(value, true))) {
      items.push_back(std::move(*p));
    }
  }
  return Params(std::move(items), truncated);
}

std::string media_type(std::string_view content_type) {
  const std::string_view type = trim(content_type.substr(0, content_type.find(';')));
  std::string out(type.size(), '\0');
  std::transform(type.begin(), type.end(), out.begin(), ascii_lower);
  return out;
}

std::optional<std::string> media_type_param(std::string_view content_type, std::string_view name) {
  return header_param(content_type, name);
}

FormResult parse_multipart(std::string_view content_type, std::string_view body,
                           const MultipartLimits& limits) {
  FormResult result;
  if (media_type(content_type) != "multipart/form-data") {
    result.error = "Content-Type is not multipart/form-data";
    return result;
  }
  auto boundary = media_type_param(content_type, "boundary");
  if (!boundary || boundary->empty() || boundary->size() > 70) {
    result.error = "multipart/form-data without a valid boundary parameter";
    return result;
  }
  const std::string delimiter = "--" + *boundary;
  const std::string next_delimiter = "\r\n" + delimiter;

  // A preamble before the first delimiter is allowed and ignored.
  std::size_t pos = 0;
  if (body.substr(0, delimiter.size()) != delimiter) {
    pos = body.find(next_delimiter);
    if (pos == std::string_view::npos) {
      result.error = "multipart body does not contain its boundary";
      return result;
    }
    pos += 2;
  }

  std::vector<Param> items;
  std::size_t parts = 0;
  for (;;) {
    pos += delimiter.size();
    if (body.substr(pos, 2) == "--") break;  // close delimiter; the epilogue is ignored
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
    if (body.substr(pos, 2) != "\r\n") {
      result.error = "multipart boundary line is malformed";
      return result;
    }
    pos += 2;
    if (++parts > limits.max_parts) {
      result.error = "multipart body has too many parts";
      return result;
    }

    // Part headers end at an empty line; a part may have none.
    std::size_t headers_end = body.substr(pos, 2) == "\r\n" ? pos : body.find("\r\n\r\n", pos);
    if (headers_end == std::string_view::npos) {
      result.error = "multipart part headers are not terminated";
      return result;
    }
    if (headers_end - pos > limits.max_part_header_bytes) {
      result.error = "multipart part headers are too large";
      return result;
    }
    std::string_view head = body.substr(pos, headers_end - pos);
    std::size_t content_begin = headers_end + (headers_end == pos ? 2 : 4);

    std::optional<std::string> name;
    bool is_file = false;
    while (!head.empty()) {
      std::size_t eol = head.find("\r\n");
      std::string_view line = head.substr(0, eol);
      head = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 2);
      std::size_t colon = line.find(':');
      if (colon == std::string_view::npos || colon == 0) {
        result.error = "multipart part header is malformed";
        return result;
      }
      if (iequals(trim(line.substr(0, colon)), "Content-Disposition")) {
        std::string_view value = trim(line.substr(colon + 1));
        name = header_param(value, "name");
        is_file = header_param(value, "filename").has_value() ||
                  header_param(value, "filename*").has_value();
      }
    }

    std::size_t content_end = body.find(next_delimiter, content_begin);
    if (content_end == std::string_view::npos) {
      result.error = "multipart body ends without a closing boundary";
      return result;
    }
    if (name && !is_file) {
      std::string value(body.substr(content_begin, content_end - content_begin));
      if (auto p = php_variable(*name, std::move(value))) items.push_back(std::move(*p));
    }
    pos = content_end + 2;
  }
  result.params = Params(std::move(items));
  return result;
}

FormResult parse_form_body(std::string_view content_type, std::string_view body,
                           const MultipartLimits& limits) {
  std::string type = media_type(content_type);
  if (type == "application/x-www-form-urlencoded") {
    return FormResult{parse_urlencoded(body, limits.max_parts), {}};
  }
  if (type == "multipart/form-data") return parse_multipart(content_type, body, limits);
  return {};
}

}  // namespace roombus::http
