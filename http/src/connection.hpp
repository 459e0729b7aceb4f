// One client connection: its socket, deadline and phase, and the coroutines that serve it.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "server_state.hpp"

namespace roombus::http::detail {

using Clock = std::chrono::steady_clock;

// What the connection waits for; stop() closes only idle ones at once.
enum class Phase { idle, reading, handling, writing, closing };

// Shared by a connection's session and watchdog coroutines; whichever ends last frees it.
// Registers itself in the server's connections and counts (served, or rejected with 503).
struct Connection {
  Connection(std::shared_ptr<ServerState> s, asio::ip::tcp::socket sock, bool reject);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The watchdog only sleeps longer by itself; an earlier deadline has to wake it.
  void set_deadline(Clock::duration d) {
    deadline = Clock::now() + d;
    deadline_hit = false;
    if (deadline < timer.expiry()) timer.cancel();
  }
  void clear_deadline() { deadline = Clock::time_point::max(); }
  void close() {
    std::error_code ignored;
    socket.close(ignored);
  }

  std::shared_ptr<ServerState> server;
  asio::ip::tcp::socket socket;
  asio::steady_timer timer;
  std::vector<char> buffer;
  std::string head;  // the response head being written; kept for its capacity
  Clock::time_point deadline = Clock::time_point::max();
  bool deadline_hit = false;
  bool finished = false;
  bool rejecting;
  Phase phase = Phase::idle;
};

using ConnectionPtr = std::shared_ptr<Connection>;

// Each connection runs a watchdog beside either a session or a rejection.

// Enforces the connection's current deadline by cancelling its pending socket operation.
asio::awaitable<void> watchdog(ConnectionPtr conn);
// Reads requests, awaits the handler for each and writes its response, until either side closes.
asio::awaitable<void> session(ConnectionPtr conn);
// Answers 503 (too many connections) and closes.
asio::awaitable<void> reject(ConnectionPtr conn);

}  // namespace roombus::http::detail
