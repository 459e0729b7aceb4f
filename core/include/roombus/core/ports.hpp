// Ports owned by the core: what the hexagon needs from the outside, and the contract of each.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "roombus/core/time.hpp"

namespace roombus::core {

// Wall clock. Contract: non-blocking, called on the core's (io_context) thread only.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Instant now() const = 0;
};

// Where fresh identifiers and secrets come from. Contract: non-blocking; values are drawn from a
// cryptographically secure generator; called on the core's thread only.
class IdSource {
 public:
  virtual ~IdSource() = default;
  // 32 lowercase hex characters (128 random bits): public room uids.
  virtual std::string room_uid() = 0;
  // An unguessable Jitsi room name: lowercase letters and digits only, at least 128 bits.
  virtual std::string jitsi_name() = 0;
  // A fresh API key: printable, URL-safe, at least 128 random bits, no whitespace.
  virtual std::string api_key() = 0;
};

// One-way hashing of API keys, so that only hashes are held. Contract: pure, deterministic,
// non-blocking; the same key always gives the same hash (keys are looked up by hash).
class KeyHasher {
 public:
  virtual ~KeyHasher() = default;
  virtual std::string hash(std::string_view key) const = 0;
};

// The configured IANA zone of the v1 API. Contract: pure and non-blocking (the tz database is
// loaded once at start-up); safe to call from the core's thread.
class TimeZone {
 public:
  virtual ~TimeZone() = default;
  virtual std::string name() const = 0;
  // Wall-clock reading in this zone -> instant. A reading inside a DST gap is moved forward by
  // the gap (02:30 on a spring-forward night becomes 03:30, as PHP does); an ambiguous reading
  // in a fall-back overlap takes the earlier instant.
  virtual Instant to_utc(const LocalDateTime& local) const = 0;
  // Instant -> wall-clock reading in this zone.
  virtual LocalDateTime to_local(Instant t) const = 0;
  // The zone's abbreviation in force at t ("CET", "CEST", "UTC", "+04").
  virtual std::string abbreviation(Instant t) const = 0;
};

}  // namespace roombus::core
