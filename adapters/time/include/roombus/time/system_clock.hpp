// The Clock port on std::chrono::system_clock.
#pragma once

#include "roombus/core/ports.hpp"

namespace roombus::time {

// Whole seconds, because the core's instants are seconds (jitsi-admin stores no fractions).
class SystemClock final : public core::Clock {
 public:
  core::Instant now() const override;
};

}  // namespace roombus::time
