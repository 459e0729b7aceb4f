// A connection's session: read a request, await the handler, write the response; deadlines.
#include "connection.hpp"

#include <algorithm>
#include <array>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <exception>
#include <optional>
#include <string_view>
#include <utility>

#include "reply.hpp"
#include "wire_parser.hpp"

namespace roombus::http::detail {
namespace {

using asio::ip::tcp;
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

// Reads land here; http_parser copies what it keeps, so this bounds per-read memory only.
constexpr std::size_t read_buffer_bytes = 16 * 1024;
// Bytes discarded from a client we are closing on before giving up on a clean close.
constexpr std::size_t max_linger_bytes = 1024 * 1024;

// Counts a request from its last byte read until its response is written (or given up).
class Handling {
 public:
  explicit Handling(ServerState& server) : server_(server) {
    ++server_.handling;
    server_.last_request = std::chrono::steady_clock::now();
  }
  ~Handling() { --server_.handling; }
  Handling(const Handling&) = delete;
  Handling& operator=(const Handling&) = delete;

 private:
  ServerState& server_;
};

// Ends the watchdog and the socket whenever the session frame goes, exceptions included.
class SessionGuard {
 public:
  explicit SessionGuard(Connection& c) : c_(c) {}
  ~SessionGuard() {
    c_.finished = true;
    c_.timer.cancel();
    c_.close();
  }
  SessionGuard(const SessionGuard&) = delete;
  SessionGuard& operator=(const SessionGuard&) = delete;

 private:
  Connection& c_;
};

std::string endpoint_text(const tcp::endpoint& ep) {
  std::string address = ep.address().to_string();
  if (ep.address().is_v6()) address = "[" + address + "]";
  return address + ":" + std::to_string(ep.port());
}

// The head and the body of `res` as one write, after the head is serialized into conn->head;
// arms the write deadline. The buffers refer to conn->head and `res`, which must outlive the write.
std::array<asio::const_buffer, 2> begin_write(Connection& conn, const Response& res,
                                              bool keep_alive, int request_minor, bool head_only) {
  conn.phase = Phase::writing;
  conn.set_deadline(conn.server->options.write_timeout);
  serialize_head(res, keep_alive, request_minor, conn.head);
  const std::string_view body = res.content();
  const bool with_body = !head_only && has_body(res.status);
  return {asio::buffer(conn.head), asio::buffer(body.data(), with_body ? body.size() : 0)};
}

asio::awaitable<bool> write_response(ConnectionPtr conn, const Response& res, bool keep_alive,
                                     int request_minor, bool head_only) {
  auto buffers = begin_write(*conn, res, keep_alive, request_minor, head_only);
  auto [ec, n] = co_await asio::async_write(conn->socket, buffers, use_tuple);
  conn->clear_deadline();
  co_return !ec;
}

// Half-closes, then reads and drops what the client still sends so that closing does not
// reset the connection and destroy our last response in the client's receive buffer.
asio::awaitable<void> linger_close(ConnectionPtr conn) {
  conn->phase = Phase::closing;
  std::error_code ec;
  conn->socket.shutdown(tcp::socket::shutdown_send, ec);
  if (!ec) {
    conn->set_deadline(conn->server->options.linger_timeout);
    std::size_t drained = 0;
    while (drained < max_linger_bytes) {
      auto [rec, n] = co_await conn->socket.async_read_some(asio::buffer(conn->buffer), use_tuple);
      if (rec) break;
      drained += n;
    }
  }
  conn->close();
}

asio::awaitable<void> send_final(ConnectionPtr conn, Response res) {
  // GCC 12.2 miscompiles `if (co_await ...)` (crashes on resume), so await into a variable.
  bool written = co_await write_response(conn, res, false, 1, false);
  if (written) co_await linger_close(conn);
}

// The handler's response, or a 500 (logged) when it threw (`failure`) or built an invalid one.
Response checked_response(const ServerState& server, const Request& req,
                          std::optional<Response> handled, std::string failure) {
  if (handled) {
    std::string_view invalid = invalid_response_reason(*handled);
    if (invalid.empty()) return std::move(*handled);
    failure = "invalid response (" + std::string(invalid) + ")";
  }
  server.log("handler for " + req.method + " " + req.path + " failed: " + failure);
  return error_response(500);
}

}  // namespace

Connection::Connection(std::shared_ptr<ServerState> s, tcp::socket sock, bool reject)
    : server(std::move(s)),
      socket(std::move(sock)),
      timer(server->io),
      buffer(read_buffer_bytes),
      rejecting(reject) {
  server->connections.insert(this);
  ++(rejecting ? server->rejected : server->served);
}

Connection::~Connection() {
  server->connections.erase(this);
  --(rejecting ? server->rejected : server->served);
  if (server->stopping && server->connections.empty()) server->drain_timer.cancel();
}

// The session sees its operation end with operation_aborted and deadline_hit set, and decides
// what to answer.
asio::awaitable<void> watchdog(ConnectionPtr conn) {
  while (!conn->finished) {
    if (conn->deadline <= Clock::now()) {
      conn->deadline_hit = true;
      conn->deadline = Clock::time_point::max();
      std::error_code ignored;
      conn->socket.cancel(ignored);
    }
    conn->timer.expires_at(conn->deadline);
    co_await conn->timer.async_wait(use_tuple);
  }
}

asio::awaitable<void> session(ConnectionPtr conn) {
  SessionGuard guard(*conn);
  ServerState& server = *conn->server;
  const ServerOptions& options = server.options;
  WireParser parser(WireLimits{options.max_url_bytes, options.max_header_bytes,
                               options.max_header_count, options.max_body_bytes});
  std::error_code ec;
  const std::string remote = endpoint_text(conn->socket.remote_endpoint(ec));
  std::size_t begin = 0;
  std::size_t end = 0;

  for (;;) {
    // Wait for one complete request; pipelined bytes may already be in the buffer.
    conn->phase = Phase::idle;
    conn->set_deadline(options.idle_timeout);
    bool continue_sent = false;
    for (;;) {
      if (begin < end) {
        bool was_in_message = parser.in_message();
        begin += parser.feed(std::string_view(conn->buffer.data() + begin, end - begin));
        if (!was_in_message && parser.in_message()) {
          conn->phase = Phase::reading;
          // A request read whole in one go (the usual case) needs no reading deadline.
          if (parser.status() == WireParser::Status::need_more) {
            conn->set_deadline(options.request_timeout);
          }
        }
        if (begin == end) begin = end = 0;
      }
      if (parser.status() != WireParser::Status::need_more) break;
      if (server.stopping && conn->phase == Phase::idle) co_return;
      if (parser.expects_continue() && !continue_sent) {
        // The client waits for this before sending the body (RFC 9110 §10.1.1).
        continue_sent = true;
        static constexpr std::string_view interim = "HTTP/1.1 100 Continue\r\n\r\n";
        auto [wec, wn] = co_await asio::async_write(conn->socket, asio::buffer(interim), use_tuple);
        if (wec) co_return;
      }
      if (begin > 0) {  // keep unparsed bytes at the front so reads always have room
        std::copy(conn->buffer.begin() + static_cast<std::ptrdiff_t>(begin),
                  conn->buffer.begin() + static_cast<std::ptrdiff_t>(end), conn->buffer.begin());
        end -= begin;
        begin = 0;
      }
      auto [rec, n] = co_await conn->socket.async_read_some(
          asio::buffer(conn->buffer.data() + end, conn->buffer.size() - end), use_tuple);
      if (rec) {
        if (conn->deadline_hit && conn->phase == Phase::reading) {
          co_await send_final(conn, error_response(408));
        }
        co_return;
      }
      end += n;
    }
    if (parser.status() == WireParser::Status::error) {
      co_await send_final(conn, error_response(parser.error_status()));
      co_return;
    }

    Request request = parser.take();
    request.remote = remote;
    conn->phase = Phase::handling;
    conn->clear_deadline();
    std::optional<Handling> handling(std::in_place, server);
    // The handler is awaited here rather than in a coroutine of its own, and so is the write
    // below: each nested coroutine frame per request showed in profiles.
    std::optional<Response> handled;
    std::string failure;
    try {
      // Into a variable first: GCC 12.2 has miscompiled co_await inside larger expressions.
      Response answered = co_await server.handler(request);
      handled.emplace(std::move(answered));
    } catch (const std::exception& e) {
      failure = std::string("exception: ") + e.what();
    } catch (...) {
      failure = "unknown exception";
    }
    Response response = checked_response(server, request, std::move(handled), std::move(failure));
    if (!conn->socket.is_open()) co_return;  // stop() gave up on this request

    bool keep_alive =
        request.keep_alive && !server.stopping && !parser.upgrade() && !wants_close(response);
    bool head_only = request.method == "HEAD";
    auto buffers = begin_write(*conn, response, keep_alive, request.version_minor, head_only);
    auto [write_ec, written] = co_await asio::async_write(conn->socket, buffers, use_tuple);
    conn->clear_deadline();
    handling.reset();
    if (write_ec) co_return;
    if (!keep_alive || server.stopping) {
      co_await linger_close(conn);
      co_return;
    }
  }
}

asio::awaitable<void> reject(ConnectionPtr conn) {
  SessionGuard guard(*conn);
  co_await send_final(conn, error_response(503));
}

}  // namespace roombus::http::detail
