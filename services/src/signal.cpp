// A fact that coroutines on one io_context wait for, until a deadline.
#include "roombus/services/signal.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

namespace roombus::services {

asio::awaitable<bool> Signal::wait(std::chrono::steady_clock::time_point deadline) {
  // set() cancels the wait; a wait begun after it never starts (set_ is checked first).
  while (!set_ && std::chrono::steady_clock::now() < deadline) {
    timer_.expires_at(deadline);
    co_await timer_.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  }
  co_return set_;
}

}  // namespace roombus::services
