// libFuzzer target: the wire parser fed in random pieces agrees with itself fed whole, and every
// request it hands on respects the limits and the grammar the handlers rely on.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "wire_parser.hpp"

namespace {

using roombus::http::Request;
using roombus::http::detail::WireLimits;
using roombus::http::detail::WireParser;
using Status = WireParser::Status;

// A broken invariant must crash, so that libFuzzer keeps the input.
void check(bool ok) {
  if (!ok) std::abort();
}

bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

void check_request(const Request& r, const WireLimits& limits) {
  check(!r.method.empty());
  check(!r.target.empty() && r.target.size() <= limits.max_url_bytes);
  for (char c : r.target) check(static_cast<unsigned char>(c) > 0x20 && c != 0x7f);
  check(!r.path.empty() || r.method == "CONNECT");      // authority-form has no path
  check(r.version_minor >= 0 && r.version_minor <= 9);  // HTTP/1.x; x > 1 is answered as 1.1
  check(r.headers.size() <= limits.max_header_count);
  std::size_t header_bytes = 0;
  for (const auto& h : r.headers) {
    check(!h.name.empty());
    for (char c : h.name) check(is_tchar(c));
    // Handlers and logs may echo values: no control character but HTAB may come through.
    for (char c : h.value) {
      check(c == '\t' || (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f));
    }
    header_bytes += h.name.size() + h.value.size();
  }
  check(header_bytes <= limits.max_header_bytes);
  // Unambiguous framing (RFC 9112 §6.3): one Content-Length or one "chunked", never both.
  std::size_t framing = r.header_values("Content-Length").size();
  auto codings = r.header_values("Transfer-Encoding");
  for (std::string_view v : codings) check(roombus::http::iequals(v, "chunked"));
  check(framing + codings.size() <= 1 && r.header_values("Host").size() <= 1);
  check(r.body.size() <= limits.max_body_bytes);
}

struct Outcome {
  std::vector<Request> requests;
  Status last = Status::need_more;
  int error_status = 0;
};

// Feeds `wire` as the server does: pieces whose sizes come from `steps` (whole when empty),
// unparsed bytes kept for the next request, stopping where the server would close.
Outcome run(std::string_view wire, const WireLimits& limits, std::string_view steps) {
  WireParser parser(limits);
  Outcome out;
  std::string pending;
  std::size_t k = 0;
  bool more = true;
  while (more) {
    std::size_t n = wire.size();
    if (!steps.empty()) n = 1 + static_cast<unsigned char>(steps[k++ % steps.size()]) % 97;
    n = std::min(n, wire.size());
    pending.append(wire.substr(0, n));
    wire.remove_prefix(n);
    more = !wire.empty();
    for (;;) {
      std::size_t used = parser.feed(pending);
      check(used <= pending.size());
      pending.erase(0, used);
      out.last = parser.status();
      if (out.last == Status::error) {
        out.error_status = parser.error_status();
        return out;
      }
      if (out.last != Status::complete) break;
      out.requests.push_back(parser.take());
      const Request& r = out.requests.back();
      if (!r.keep_alive || parser.upgrade()) return out;  // the server closes here
    }
  }
  return out;
}

bool same(const Request& a, const Request& b) {
  if (a.method != b.method || a.target != b.target || a.path != b.path || a.query != b.query ||
      a.body != b.body || a.keep_alive != b.keep_alive || a.version_minor != b.version_minor ||
      a.headers.size() != b.headers.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.headers.size(); ++i) {
    if (a.headers[i].name != b.headers[i].name || a.headers[i].value != b.headers[i].value) {
      return false;
    }
  }
  return true;
}

}  // namespace

// Input: one byte choosing the limits, eight bytes of piece sizes, then the wire bytes.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 9) return 0;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // Small limits reach every limit path with short inputs; the defaults are what runs.
  WireLimits limits = (input[0] & 1) != 0 ? WireLimits{64, 256, 8, 128} : WireLimits{};
  std::string_view steps = input.substr(1, 8);
  std::string_view wire = input.substr(9);

  Outcome whole = run(wire, limits, {});
  Outcome pieces = run(wire, limits, steps);
  for (const Outcome* o : {&whole, &pieces}) {
    for (const Request& r : o->requests) check_request(r, limits);
    if (o->last == Status::error) {
      int s = o->error_status;
      check(s == 400 || s == 413 || s == 414 || s == 417 || s == 431 || s == 505);
    }
  }
  // Where a request is cut must not change what it means. (Which error a broken request gets
  // may: a long target is 414 as soon as it is too long, before a later bad byte is seen.)
  check(whole.requests.size() == pieces.requests.size());
  for (std::size_t i = 0; i < whole.requests.size(); ++i) {
    check(same(whole.requests[i], pieces.requests[i]));
  }
  check((whole.last == Status::error) == (pieces.last == Status::error));
  return 0;
}
