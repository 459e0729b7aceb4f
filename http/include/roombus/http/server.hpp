// Driving adapter base: an HTTP/1.1 server on one io_context thread, one coroutine per connection.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "roombus/http/request.hpp"

namespace roombus::http {

namespace detail {
struct ServerState;
}

// The request stays valid until the returned awaitable completes. A handler that throws gets a
// 500 for its client and a log line; the connection carries on.
using Handler = std::function<asio::awaitable<Response>(Request&)>;
using LogFunction = std::function<void(std::string_view)>;

struct ServerOptions {
  std::size_t max_url_bytes = 8 * 1024;               // request-target; beyond: 414
  std::size_t max_header_bytes = 16 * 1024;           // names + values of all fields; beyond: 431
  std::size_t max_header_count = 100;                 // beyond: 431
  std::size_t max_body_bytes = 1024 * 1024;           // de-chunked; beyond: 413
  std::size_t max_connections = 512;                  // beyond: 503 and close
  std::chrono::milliseconds idle_timeout{30'000};     // keep-alive wait for a next request: close
  std::chrono::milliseconds request_timeout{15'000};  // first byte to last body byte: 408
  std::chrono::milliseconds write_timeout{15'000};    // writing one response: close
  std::chrono::milliseconds linger_timeout{2'000};    // draining a client we close on: close
  std::chrono::milliseconds shutdown_timeout{5'000};  // stop(): wait for in-flight requests
  LogFunction log;                                    // empty: one line per message to stderr
};

// Lifecycle: construct, listen(), run the io_context, co_await stop(). Not thread-safe: every
// member is called on the io_context's thread (or before it runs). Connections keep the shared
// state alive, so destroying the Server with connections open only closes their sockets.
class Server {
 public:
  Server(asio::io_context& io, Handler handler, ServerOptions options = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds "host:port" ("[::1]:0", "127.0.0.1:8080", "localhost:80"; port 0 picks a free one) and
  // starts accepting. Throws std::invalid_argument for a bad address, std::system_error when the
  // bind fails.
  void listen(std::string_view host_port);
  asio::ip::tcp::endpoint local_endpoint() const;
  std::uint16_t port() const;

  // Stops accepting, closes idle connections, lets requests in progress finish (their responses
  // carry Connection: close) for up to shutdown_timeout, then closes what is left and resumes.
  // Handlers still running after that finish on their own; their responses are dropped.
  asio::awaitable<void> stop();

  // Open connections, rejected ones (503) excluded. For metrics.
  std::size_t connection_count() const noexcept;
  // Whether a request is being served (read, not yet answered) or one was read within `recently`:
  // other work on the io_context gives way while HTTP is busy. Between the answers to a client's
  // requests and its next ones there are moments with none in progress, hence `recently`.
  bool busy(std::chrono::steady_clock::duration recently) const noexcept;

 private:
  std::shared_ptr<detail::ServerState> state_;
};

}  // namespace roombus::http
