// SystemClock: the wall clock floored to seconds.
#include "roombus/time/system_clock.hpp"

#include <chrono>

namespace roombus::time {

core::Instant SystemClock::now() const {
  // floor, not round: an instant must never lie in the future of the real clock.
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

}  // namespace roombus::time
