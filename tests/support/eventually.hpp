// Test support: the one way a test waits, until the fact it asserts holds or a deadline passes.
#pragma once

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

namespace roombus::test {

using namespace std::chrono_literals;

// The deadline of a wait that only a broken program misses: generous, because a busy 2-vCPU
// machine running an ASan build beside other tests can be many times slower than a quiet one.
inline constexpr std::chrono::milliseconds kPatience = 30s;

// Evaluates `condition` until it returns true (then true) or `deadline` has passed (then false,
// after one last evaluation, so a condition that became true at the deadline still counts).
// Polls at 1 ms at first, backing off to 50 ms: a fast fact is seen at once, a slow one costs
// little CPU. Call it outside coroutines and assert on its result:
//   REQUIRE(eventually([&] { return store.size() == 3; }));
template <class Condition>
bool eventually(Condition&& condition, std::chrono::milliseconds deadline = kPatience) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  std::chrono::milliseconds pause = 1ms;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= until) return static_cast<bool>(condition());
    std::this_thread::sleep_for(pause);
    pause = std::min<std::chrono::milliseconds>(pause * 2, 50ms);
  }
}

}  // namespace roombus::test
