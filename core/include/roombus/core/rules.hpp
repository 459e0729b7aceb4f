// Pure validation rules shared by commands and queries: emails, membership, durations, windows.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "roombus/core/model.hpp"
#include "roombus/core/result.hpp"

namespace roombus::core {

// Well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF) without NUL:
// what names must be, so that every consumer's JSON parser accepts them.
bool is_valid_utf8_text(std::string_view text);

// ASCII lowercase; emails and domains compare case-insensitively.
std::string lowercase(std::string_view text);

// A practical subset of RFC 5321 close to PHP's FILTER_VALIDATE_EMAIL: dot-atom local part of
// ASCII characters, a domain of at least two LDH labels; at most 254 characters.
bool is_valid_email(std::string_view email);

// "@example.com" with a valid domain after the '@'.
bool is_valid_domain_rule(std::string_view rule);

// A member entry is either a full email (exact, case-insensitive) or "@domain", which admits
// every address of exactly that domain.
bool is_member(const Server& server, std::string_view email);

// Durations come as text from every adapter. Accepted like PHP's numeric strings for whole
// values ("45", " 45", "45 ", "1e2", "70.0"); fractional, negative, non-numeric or absurdly long
// (over one year) durations are Errc::invalid_duration.
Result<std::int64_t> parse_duration(std::string_view text);

// getRooms' window in minutes: a whole number, possibly negative (an empty window), at most one
// year either way.
Result<std::int64_t> parse_minutes(std::string_view text);

inline constexpr std::int64_t kMaxDurationMinutes = 366 * 24 * 60;

}  // namespace roombus::core
