// A fact that coroutines on one io_context wait for, until a deadline: how components stop
// without polling.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>

namespace roombus::services {

// Single-threaded: set() and wait() on the io_context's thread (post set() there from other
// threads). Once set it stays set. Ownership: whoever posts set() from another thread keeps the
// Signal alive until it ran (a shared_ptr).
class Signal {
 public:
  explicit Signal(const asio::any_io_executor& executor) : timer_(executor) {}

  void set() {
    set_ = true;
    timer_.cancel();
  }
  bool is_set() const { return set_; }

  // True once set, false if `deadline` came first.
  asio::awaitable<bool> wait(std::chrono::steady_clock::time_point deadline);

 private:
  asio::steady_timer timer_;
  bool set_ = false;
};

}  // namespace roombus::services
