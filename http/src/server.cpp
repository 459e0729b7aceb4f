// HTTP/1.1 server: accept loop, per-connection session and watchdog coroutines, graceful stop.
#include "roombus/http/server.hpp"

#include <algorithm>
#include <array>
#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/address.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <exception>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "wire_parser.hpp"

namespace roombus::http {
namespace {

using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

// Reads land here; http_parser copies what it keeps, so this bounds per-read memory only.
constexpr std::size_t read_buffer_bytes = 16 * 1024;
// Bytes discarded from a client we are closing on before giving up on a clean close.
constexpr std::size_t max_linger_bytes = 1024 * 1024;
// 503 answers in progress at once; beyond this, excess connections are closed unanswered so a
// connection flood cannot pin file descriptors through the rejection path.
constexpr std::size_t max_rejections_in_flight = 64;

enum class Phase { idle, reading, handling, writing, closing };

struct Connection;

}  // namespace

namespace detail {

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
  tcp::acceptor acceptor;
  asio::steady_timer drain_timer;  // stop() sleeps on it; the last connection to go wakes it
  bool listening = false;
  bool stopping = false;
  std::unordered_set<Connection*> connections;
  std::size_t served = 0;    // connections counted against max_connections
  std::size_t rejected = 0;  // connections being answered with 503
  std::size_t handling = 0;  // requests read and not yet answered
  std::chrono::steady_clock::time_point last_request{};
};

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

}  // namespace detail

namespace {

using detail::ServerState;

// Shared by a connection's session and watchdog coroutines; whichever ends last frees it.
struct Connection {
  Connection(std::shared_ptr<ServerState> s, tcp::socket sock, bool reject)
      : server(std::move(s)),
        socket(std::move(sock)),
        timer(server->io),
        buffer(read_buffer_bytes),
        rejecting(reject) {
    server->connections.insert(this);
    ++(rejecting ? server->rejected : server->served);
  }
  ~Connection() {
    server->connections.erase(this);
    --(rejecting ? server->rejected : server->served);
    if (server->stopping && server->connections.empty()) server->drain_timer.cancel();
  }
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
  tcp::socket socket;
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

std::string http_date(std::chrono::system_clock::time_point t) {
  static constexpr std::array<const char*, 7> days = {"Sun", "Mon", "Tue", "Wed",
                                                      "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  std::array<char, 40> out{};
  int n = std::snprintf(out.data(), out.size(), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                        days.at(static_cast<std::size_t>(tm.tm_wday)), tm.tm_mday,
                        months.at(static_cast<std::size_t>(tm.tm_mon)), tm.tm_year + 1900,
                        tm.tm_hour, tm.tm_min, tm.tm_sec);
  return std::string(out.data(), n > 0 ? static_cast<std::size_t>(n) : 0);
}

// The Date field changes once a second; formatting it (gmtime_r, snprintf) for every response
// showed in profiles. One cache per thread.
const std::string& current_http_date() {
  thread_local std::time_t cached_second = -1;
  thread_local std::string cached;
  const auto now = std::chrono::system_clock::now();
  const std::time_t second = std::chrono::system_clock::to_time_t(now);
  if (second != cached_second) {
    cached = http_date(now);
    cached_second = second;
  }
  return cached;
}

std::string endpoint_text(const tcp::endpoint& ep) {
  std::string address = ep.address().to_string();
  if (ep.address().is_v6()) address = "[" + address + "]";
  return address + ":" + std::to_string(ep.port());
}

Response error_response(int status) {
  std::string body(reason_phrase(status));
  body.push_back('\n');
  return Response::text(status, std::move(body));
}

bool framing_header(std::string_view name) {
  return iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") ||
         iequals(name, "Date") || iequals(name, "Connection");
}

bool safe_field(std::string_view text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

// Handlers build responses freely; anything that would break framing becomes a 500.
std::string_view invalid_response_reason(const Response& res) {
  if (res.status < 200 || res.status > 999) return "status outside 200-999";
  for (const auto& h : res.headers) {
    if (h.name.empty() || !safe_field(h.name) || !safe_field(h.value)) {
      return "header with CR, LF or NUL";
    }
  }
  return {};
}

bool wants_close(const Response& res) {
  auto c = res.header("Connection");
  return c && iequals(*c, "close");
}

// Status line and fields into `head` (the connection's, reused so that a response allocates
// nothing here); the body is written from the Response itself to avoid a copy.
void serialize_head(const Response& res, bool keep_alive, int request_minor, std::string& head) {
  head.clear();
  head += "HTTP/1.1 ";
  head += std::to_string(res.status);
  head += ' ';
  head += reason_phrase(res.status);
  head += "\r\n";
  for (const auto& h : res.headers) {
    if (framing_header(h.name)) continue;
    head += h.name;
    head += ": ";
    head += h.value;
    head += "\r\n";
  }
  head += "Date: ";
  head += current_http_date();
  head += "\r\n";
  if (res.status != 204 && res.status != 304) {
    head += "Content-Length: ";
    head += std::to_string(res.content().size());
    head += "\r\n";
  }
  if (!keep_alive) {
    head += "Connection: close\r\n";
  } else if (request_minor == 0) {
    head += "Connection: keep-alive\r\n";
  }
  head += "\r\n";
}

// The head and the body of `res` as one write, after the head is serialized into conn->head;
// arms the write deadline. The buffers refer to conn->head and `res`, which must outlive the write.
std::array<asio::const_buffer, 2> begin_write(Connection& conn, const Response& res,
                                              bool keep_alive, int request_minor, bool head_only) {
  conn.phase = Phase::writing;
  conn.set_deadline(conn.server->options.write_timeout);
  serialize_head(res, keep_alive, request_minor, conn.head);
  const std::string_view body = res.content();
  const bool with_body = !head_only && res.status != 204 && res.status != 304;
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

// Enforces the connection's current deadline by cancelling its pending socket operation;
// the session sees operation_aborted with deadline_hit set and decides what to answer.
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
  detail::WireParser parser(detail::WireLimits{options.max_url_bytes, options.max_header_bytes,
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
          if (parser.status() == detail::WireParser::Status::need_more) {
            conn->set_deadline(options.request_timeout);
          }
        }
        if (begin == end) begin = end = 0;
      }
      if (parser.status() != detail::WireParser::Status::need_more) break;
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
    if (parser.status() == detail::WireParser::Status::error) {
      co_await send_final(conn, error_response(parser.error_status()));
      co_return;
    }

    Request request = parser.take();
    request.remote = remote;
    conn->phase = Phase::handling;
    conn->clear_deadline();
    std::optional<detail::Handling> handling(std::in_place, server);
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

void start_connection(const std::shared_ptr<ServerState>& server, tcp::socket socket) {
  if (server->served >= server->options.max_connections) {
    if (server->rejected >= max_rejections_in_flight) return;  // socket closes here
    auto conn = std::make_shared<Connection>(server, std::move(socket), true);
    asio::co_spawn(server->io, watchdog(conn), LogFailure{server, "watchdog"});
    asio::co_spawn(server->io, reject(conn), LogFailure{server, "rejection"});
    return;
  }
  std::error_code ignored;
  // Responses go out in one write; waiting for more data to coalesce would only add latency.
  socket.set_option(tcp::no_delay(true), ignored);
  auto conn = std::make_shared<Connection>(server, std::move(socket), false);
  asio::co_spawn(server->io, watchdog(conn), LogFailure{server, "watchdog"});
  asio::co_spawn(server->io, session(conn), LogFailure{server, "session"});
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
