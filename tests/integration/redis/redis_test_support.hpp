// Helpers of the Redis tests: running awaitables to completion, deadlines, a free port.
#pragma once

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/use_future.hpp>
#include <chrono>
#include <exception>
#include <future>
#include <memory>
#include <stdexcept>

#include "roombus/redis/reply.hpp"

namespace roombus::test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

inline redis::Deadline in(std::chrono::milliseconds ms) { return Clock::now() + ms; }

// Drives `io` on the calling thread until `task` completes, and returns its result.
template <class T>
T run_on(asio::io_context& io, asio::awaitable<T> task) {
  std::future<T> done = asio::co_spawn(io, std::move(task), asio::use_future);
  const auto limit = Clock::now() + 60s;
  while (done.wait_for(0s) != std::future_status::ready) {
    if (Clock::now() > limit) throw std::runtime_error("awaitable did not complete in 60 s");
    io.restart();
    io.run_one_for(10ms);
  }
  return done.get();
}

// Drives `io` on the calling thread until `condition()` holds or `limit` passes.
template <class Condition>
bool run_until(asio::io_context& io, Condition condition, std::chrono::milliseconds limit) {
  const auto until = Clock::now() + limit;
  while (!condition()) {
    if (Clock::now() > until) return false;
    io.restart();
    io.run_one_for(10ms);
  }
  return true;
}

// Runs make()'s awaitable on the io thread that runs `io` elsewhere, and waits for its result.
template <class T, class Make>
T on_io_thread(asio::io_context& io, Make make) {
  auto promise = std::make_shared<std::promise<T>>();
  std::future<T> done = promise->get_future();
  asio::post(io, [&io, promise, make = std::move(make)]() mutable {
    asio::co_spawn(io, make(), [promise](std::exception_ptr e, T value) {
      if (e) {
        promise->set_exception(e);
      } else {
        promise->set_value(std::move(value));
      }
    });
  });
  if (done.wait_for(60s) != std::future_status::ready) {
    throw std::runtime_error("io thread did not answer in 60 s");
  }
  return done.get();
}

}  // namespace roombus::test
