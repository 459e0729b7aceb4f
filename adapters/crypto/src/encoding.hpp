// Private text encodings of random bytes shared by the crypto adapter's sources.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace roombus::crypto::detail {

std::string to_hex(std::span<const unsigned char> bytes);
std::string to_base32_lower(std::span<const unsigned char> bytes);
std::string to_base64url(std::span<const unsigned char> bytes);
// The bytes of unpadded base64url text in its one canonical spelling (the unused low bits of the
// last character are zero); nullopt for anything else, so no two texts decode to the same bytes.
std::optional<std::vector<unsigned char>> from_base64url(std::string_view text);

}  // namespace roombus::crypto::detail
