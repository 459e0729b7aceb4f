// The server: acceptor, connection limit and graceful stop; connection.cpp serves each client.
#include "roombus/http/server.hpp"

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/address.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <charconv>
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>

#include "connection.hpp"
#include "server_state.hpp"

namespace roombus::http {
namespace {

using asio::ip::tcp;
using detail::Clock;
using detail::Connection;
using detail::Phase;
using detail::ServerState;
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

// 503 answers in progress at once; beyond this, excess connections are closed unanswered so a
// connection flood cannot pin file descriptors through the rejection path.
constexpr std::size_t max_rejections_in_flight = 64;

// Completion handler for spawned coroutines: an escaped exception is a bug, so log it loudly
// instead of letting `detached` swallow it.
struct LogFailure {
  std::shared_ptr<ServerState> server;
  const char* what;

  void operator()(std::exception_ptr e) const {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      server->log(std::string(what) + " failed: " + ex.what());
    } catch (...) {
      server->log(std::string(what) + " failed: unknown exception");
    }
  }
};

void start_connection(const std::shared_ptr<ServerState>& server, tcp::socket socket) {
  if (server->served >= server->options.max_connections) {
    if (server->rejected >= max_rejections_in_flight) return;  // socket closes here
    auto conn = std::make_shared<Connection>(server, std::move(socket), true);
    asio::co_spawn(server->io, detail::watchdog(conn), LogFailure{server, "watchdog"});
    asio::co_spawn(server->io, detail::reject(conn), LogFailure{server, "rejection"});
    return;
  }
  std::error_code ignored;
  // Responses go out in one write; waiting for more data to coalesce would only add latency.
  socket.set_option(tcp::no_delay(true), ignored);
  auto conn = std::make_shared<Connection>(server, std::move(socket), false);
  asio::co_spawn(server->io, detail::watchdog(conn), LogFailure{server, "watchdog"});
  asio::co_spawn(server->io, detail::session(conn), LogFailure{server, "session"});
}

asio::awaitable<void> accept_loop(std::shared_ptr<ServerState> server) {
  while (!server->stopping) {
    auto [ec, socket] = co_await server->acceptor.async_accept(use_tuple);
    if (server->stopping || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // Typically EMFILE: back off instead of spinning on a listen queue we cannot drain.
      server->log("accept failed: " + ec.message());
      asio::steady_timer pause(server->io, std::chrono::milliseconds(50));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    start_connection(server, std::move(socket));
  }
}

asio::awaitable<void> drain(std::shared_ptr<ServerState> server) {
  server->stopping = true;
  std::error_code ignored;
  server->acceptor.close(ignored);
  // Idle connections have nothing in flight; waking their reads lets the sessions end.
  for (Connection* c : server->connections) {
    if (c->phase == Phase::idle || c->rejecting) c->close();
  }
  const auto give_up = Clock::now() + server->options.shutdown_timeout;
  while (!server->connections.empty() && Clock::now() < give_up) {
    server->drain_timer.expires_at(give_up);
    co_await server->drain_timer.async_wait(use_tuple);
  }
  if (!server->connections.empty()) {
    server->log("stop: closing " + std::to_string(server->connections.size()) +
                " connection(s) still busy after the shutdown timeout");
    for (Connection* c : server->connections) c->close();
  }
}

std::uint16_t parse_port(std::string_view text, std::string_view whole) {
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size() || value > 65535) {
    throw std::invalid_argument("invalid port in listen address \"" + std::string(whole) + "\"");
  }
  return static_cast<std::uint16_t>(value);
}

tcp::endpoint resolve_listen_address(asio::io_context& io, std::string_view host_port) {
  std::size_t colon = host_port.rfind(':');
  if (colon == std::string_view::npos) {
    throw std::invalid_argument("listen address \"" + std::string(host_port) +
                                "\" is not host:port");
  }
  std::string_view host = host_port.substr(0, colon);
  std::uint16_t port = parse_port(host_port.substr(colon + 1), host_port);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty() || host == "*") return tcp::endpoint(tcp::v4(), port);
  std::error_code ec;
  asio::ip::address address = asio::ip::make_address(std::string(host), ec);
  if (!ec) return tcp::endpoint(address, port);
  tcp::resolver resolver(io);
  auto results = resolver.resolve(std::string(host), std::to_string(port), ec);
  if (ec || results.empty()) {
    throw std::invalid_argument("cannot resolve host \"" + std::string(host) +
                                "\" in listen address: " + ec.message());
  }
  return results.begin()->endpoint();
}

}  // namespace

Server::Server(asio::io_context& io, Handler handler, ServerOptions options)
    : state_(std::make_shared<ServerState>(io, std::move(handler), std::move(options))) {}

Server::~Server() {
  state_->stopping = true;
  std::error_code ignored;
  state_->acceptor.close(ignored);
  for (Connection* c : state_->connections) c->close();
}

void Server::listen(std::string_view host_port) {
  if (state_->listening) throw std::logic_error("Server::listen called twice");
  tcp::endpoint endpoint = resolve_listen_address(state_->io, host_port);
  tcp::acceptor& acceptor = state_->acceptor;
  acceptor.open(endpoint.protocol());
  acceptor.set_option(tcp::acceptor::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen(asio::socket_base::max_listen_connections);
  state_->listening = true;
  asio::co_spawn(state_->io, accept_loop(state_), LogFailure{state_, "accept loop"});
}

tcp::endpoint Server::local_endpoint() const { return state_->acceptor.local_endpoint(); }

std::uint16_t Server::port() const { return local_endpoint().port(); }

asio::awaitable<void> Server::stop() { return drain(state_); }

std::size_t Server::connection_count() const noexcept { return state_->served; }

bool Server::busy(std::chrono::steady_clock::duration recently) const noexcept {
  return state_->handling > 0 || std::chrono::steady_clock::now() - state_->last_request < recently;
}

}  // namespace roombus::http
