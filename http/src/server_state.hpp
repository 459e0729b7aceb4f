// What a Server shares with its connections: handler, options, acceptor, open connections, counts.
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <iostream>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "roombus/http/server.hpp"

namespace roombus::http::detail {

struct Connection;

// Connections hold it by shared_ptr, so it outlives a Server destroyed with connections open.
struct ServerState {
  ServerState(asio::io_context& context, Handler h, ServerOptions o)
      : io(context),
        handler(std::move(h)),
        options(std::move(o)),
        acceptor(context),
        drain_timer(context) {}

  void log(std::string_view line) const {
    if (options.log) {
      options.log(line);
    } else {
      std::cerr << "http: " << line << '\n';
    }
  }

  asio::io_context& io;
  Handler handler;
  ServerOptions options;
  asio::ip::tcp::acceptor acceptor;
  asio::steady_timer drain_timer;  // stop() sleeps on it; the last connection to go wakes it
  bool listening = false;
  bool stopping = false;
  std::unordered_set<Connection*> connections;
  std::size_t served = 0;    // connections counted against max_connections
  std::size_t rejected = 0;  // connections being answered with 503
  std::size_t handling = 0;  // requests read and not yet answered
  std::chrono::steady_clock::time_point last_request{};
};

}  // namespace roombus::http::detail
