// HTTP message helpers: field lookup and reason phrases.
#include "roombus/http/request.hpp"

#include <http_parser.h>

#include <algorithm>
#include <utility>

namespace roombus::http {
namespace {

constexpr char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string_view trim_trailing_ows(std::string_view v) noexcept {
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

std::optional<std::string_view> find_header(const Headers& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (iequals(h.name, name)) return trim_trailing_ows(h.value);
  }
  return std::nullopt;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

std::optional<std::string_view> Request::header(std::string_view name) const {
  return find_header(headers, name);
}

std::vector<std::string_view> Request::header_values(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& h : headers) {
    if (iequals(h.name, name)) out.push_back(trim_trailing_ows(h.value));
  }
  return out;
}

std::string_view reason_phrase(int status) noexcept {
  // http_parser's table follows the IANA registry; it answers "<unknown>" for unregistered codes.
  if (status < 100 || status > 999) return {};
  std::string_view text = http_status_str(static_cast<http_status>(status));
  return text == "<unknown>" ? std::string_view{} : text;
}

std::optional<std::string_view> Response::header(std::string_view name) const {
  return find_header(headers, name);
}

Response& Response::set_header(std::string_view name, std::string value) {
  std::erase_if(headers, [name](const Header& h) { return iequals(h.name, name); });
  headers.push_back(Header{std::string(name), std::move(value)});
  return *this;
}

Response Response::text(int status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.headers.push_back(Header{"Content-Type", std::move(content_type)});
  r.body = std::move(body);
  return r;
}

}  // namespace roombus::http
