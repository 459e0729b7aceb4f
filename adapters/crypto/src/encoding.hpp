// Private text encodings of random bytes shared by the crypto adapter's sources.
#pragma once

#include <cstddef>
#include <span>
#include <string>

namespace roombus::crypto::detail {

std::string to_hex(std::span<const unsigned char> bytes);
std::string to_base32_lower(std::span<const unsigned char> bytes);
std::string to_base64url(std::span<const unsigned char> bytes);

}  // namespace roombus::crypto::detail
