// The KeyHasher port, SHA-256 and a timing-safe comparison for secrets.
#pragma once

#include <string>
#include <string_view>

#include "roombus/core/ports.hpp"

namespace roombus::crypto {

// Unsalted SHA-256 on purpose: keys are looked up by their hash, and they carry 256 random bits,
// so neither salt nor stretching adds anything.
class Sha256KeyHasher final : public core::KeyHasher {
 public:
  std::string hash(std::string_view key) const override;  // sha256_hex(key)
};

// 64 lowercase hex characters.
std::string sha256_hex(std::string_view data);

// Equal lengths and equal bytes. The time taken does not depend on where the contents differ;
// the lengths are not secret (hashes and tokens have fixed lengths).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace roombus::crypto
