// libFuzzer target: any record value and authorization header is either a well-formed command or
// refused with a reason; never a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "roombus/consumers/command_record.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // The first line is the authorization header's value, the rest the record's value.
  const auto newline = input.find('\n');
  const std::string header(newline == std::string_view::npos ? "" : input.substr(0, newline));
  const std::string_view value =
      newline == std::string_view::npos ? input : input.substr(newline + 1);
  auto decoded = roombus::consumers::decode_command(value, {{"authorization", header}});
  if (decoded.record) {
    const auto& r = *decoded.record;
    check(!r.id.empty() && r.id.size() <= 200);
    check(!r.key.empty() && r.key.find(' ') == std::string::npos);
    bool known = false;
    for (auto type : roombus::consumers::kCommandTypes) known = known || type == r.type;
    check(known);
  } else {
    check(!decoded.detail.empty());
  }
  return 0;
}
