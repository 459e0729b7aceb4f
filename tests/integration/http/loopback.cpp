// Test support implementation: the loopback server's handler, the raw client and curl runs.
#include "loopback.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <stdexcept>
#include <system_error>

#include "roombus/http/params.hpp"

namespace roombus::http::test {
namespace {

using Clock = std::chrono::steady_clock;

std::size_t number_param(const Request& req, std::string_view name, std::size_t fallback) {
  Params params = parse_query(req.query);
  auto text = params.get(name);
  std::size_t value = fallback;
  if (text) std::from_chars(text->data(), text->data() + text->size(), value);
  return value;
}

Response echo(const Request& req) {
  std::string out;
  out += "method=" + req.method + "\n";
  out += "target=" + req.target + "\n";
  out += "path=" + req.path + "\n";
  out += "query=" + req.query + "\n";
  out += "version=1." + std::to_string(req.version_minor) + "\n";
  out += "keep_alive=" + std::to_string(req.keep_alive ? 1 : 0) + "\n";
  out += "remote=" + req.remote + "\n";
  for (const auto& h : req.headers) out += "header:" + h.name + "=" + h.value + "\n";
  out += "body_size=" + std::to_string(req.body.size()) + "\n";
  out += "body=" + req.body;
  return Response::text(200, std::move(out));
}

Response form(const Request& req) {
  FormResult r = parse_form_body(req.header("Content-Type").value_or(""), req.body);
  if (!r.ok()) return Response::text(400, "error=" + r.error);
  std::string out;
  for (const auto& p : r.params.items()) out += p.name + p.subscript + "=" + p.value + "\n";
  out += "get_name=" + std::string(r.params.get("name").value_or("<none>")) + "\n";
  out += "tags_is_array=" + std::to_string(r.params.is_array("tags") ? 1 : 0) + "\n";
  out += "has_file=" + std::to_string(r.params.contains("file") ? 1 : 0) + "\n";
  return Response::text(200, std::move(out));
}

// Named coroutine with its dependencies as parameters (no capturing lambda coroutines).
asio::awaitable<Response> handle(std::shared_ptr<HandlerRecord> record, Request& req) {
  ++record->started;
  struct Finish {
    HandlerRecord& r;
    ~Finish() { ++r.finished; }
  } finish{*record};

  if (req.path == "/slow") {
    asio::steady_timer timer(co_await asio::this_coro::executor,
                             milliseconds(static_cast<long>(number_param(req, "ms", 100))));
    co_await timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    co_return Response::text(200, "slow done");
  }
  if (req.path == "/throw") throw std::runtime_error("boom from the test handler");
  if (req.path == "/big")
    co_return Response::text(200, std::string(number_param(req, "n", 0), 'x'));
  if (req.path == "/close") {
    Response r = Response::text(200, "closing");
    r.set_header("Connection", "close");
    co_return r;
  }
  if (req.path == "/form") co_return form(req);
  if (req.path.starts_with("/echo")) co_return echo(req);
  co_return Response::text(404, "not found");
}

}  // namespace

ServerOptions fast_options() {
  ServerOptions o;
  o.max_url_bytes = 1024;
  o.max_header_bytes = 2048;
  o.max_header_count = 20;
  o.max_body_bytes = 64 * 1024;
  o.max_connections = 8;
  o.idle_timeout = milliseconds(400);
  o.request_timeout = milliseconds(400);
  o.write_timeout = milliseconds(500);
  o.linger_timeout = milliseconds(200);
  o.shutdown_timeout = milliseconds(1000);
  return o;
}

bool HandlerRecord::logged(std::string_view needle) {
  std::lock_guard lock(mutex);
  for (const auto& line : log_lines) {
    if (line.find(needle) != std::string::npos) return true;
  }
  return false;
}

LoopbackServer::LoopbackServer(ServerOptions options) : record_(std::make_shared<HandlerRecord>()) {
  std::shared_ptr<HandlerRecord> record = record_;
  options.log = [record](std::string_view line) {
    std::lock_guard lock(record->mutex);
    record->log_lines.emplace_back(line);
  };
  server_ = std::make_unique<Server>(
      io_, [record](Request& req) { return handle(record, req); }, std::move(options));
  server_->listen("127.0.0.1:0");
  port_ = server_->port();
  thread_ = std::thread([this] { io_.run(); });
}

LoopbackServer::~LoopbackServer() {
  if (!stopped_) stop();
  io_.stop();
  thread_.join();
  server_.reset();
}

std::string LoopbackServer::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

milliseconds LoopbackServer::stop() {
  stopped_ = true;
  auto start = Clock::now();
  std::future<void> done = asio::co_spawn(io_, server_->stop(), asio::use_future);
  if (done.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    throw std::runtime_error("Server::stop did not finish");
  }
  done.get();
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
}

std::size_t LoopbackServer::connections() {
  std::promise<std::size_t> count;
  asio::post(io_, [&] { count.set_value(server_->connection_count()); });
  return count.get_future().get();
}

bool LoopbackServer::busy(milliseconds recently) {
  std::promise<bool> answer;
  asio::post(io_, [&] { answer.set_value(server_->busy(recently)); });
  return answer.get_future().get();
}

std::optional<std::string> Reply::header(std::string_view name) const {
  std::size_t pos = head.find("\r\n");
  while (pos != std::string::npos && pos + 2 < head.size()) {
    std::size_t start = pos + 2;
    std::size_t end = head.find("\r\n", start);
    std::string_view line(head.data() + start,
                          (end == std::string::npos ? head.size() : end) - start);
    std::size_t colon = line.find(':');
    if (colon != std::string_view::npos && iequals(line.substr(0, colon), name)) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      return std::string(value);
    }
    pos = end;
  }
  return std::nullopt;
}

RawClient::RawClient(std::uint16_t port, int receive_buffer) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "socket");
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (receive_buffer > 0) {
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    int e = errno;
    ::close(fd_);
    throw std::system_error(e, std::generic_category(), "connect");
  }
}

RawClient::~RawClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawClient::can_connect(std::uint16_t port) {
  try {
    RawClient probe(port);
    return true;
  } catch (const std::system_error&) {
    return false;
  }
}

bool RawClient::send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool RawClient::receive(milliseconds timeout) {
  if (eof_) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
  char buf[65536];
  ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) {
    eof_ = true;
    return false;
  }
  pending_.append(buf, static_cast<std::size_t>(n));
  received_total_ += static_cast<std::size_t>(n);
  return true;
}

std::optional<Reply> RawClient::read_reply(milliseconds timeout, bool head_request) {
  auto give_up = Clock::now() + timeout;
  auto remaining = [&] {
    return std::max(milliseconds(0),
                    std::chrono::duration_cast<milliseconds>(give_up - Clock::now()));
  };
  std::size_t head_end;
  while ((head_end = pending_.find("\r\n\r\n")) == std::string::npos) {
    if (!receive(remaining())) return std::nullopt;
  }
  Reply reply;
  reply.head = pending_.substr(0, head_end);
  std::size_t space = reply.head.find(' ');
  if (space != std::string::npos) reply.status = std::atoi(reply.head.c_str() + space + 1);
  std::size_t length = 0;
  if (auto cl = reply.header("Content-Length"); cl && !head_request) {
    length = static_cast<std::size_t>(std::stoul(*cl));
  }
  while (pending_.size() < head_end + 4 + length) {
    if (!receive(remaining())) return std::nullopt;
  }
  reply.body = pending_.substr(head_end + 4, length);
  pending_.erase(0, head_end + 4 + length);
  return reply;
}

bool RawClient::closed_within(milliseconds timeout) {
  auto give_up = Clock::now() + timeout;
  while (!eof_) {
    auto left = std::chrono::duration_cast<milliseconds>(give_up - Clock::now());
    if (left <= milliseconds(0)) return false;
    receive(left);
  }
  return true;
}

CurlRun curl(const std::string& args) {
  std::string command = "curl -sS --max-time 10 " + args + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::system_error(errno, std::generic_category(), "popen");
  CurlRun run;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) run.output.append(buf, n);
  int status = ::pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

bool serves(const LoopbackServer& server) {
  CurlRun run = curl("-o /dev/null -w '%{http_code}' " + server.url("/echo"));
  return run.exit_code == 0 && run.output == "200";
}

TempFile::TempFile(std::string_view content) {
  std::string pattern = "/tmp/roombus-http-test-XXXXXX";
  int fd = ::mkstemp(pattern.data());
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "mkstemp");
  path_ = pattern;
  while (!content.empty()) {
    ssize_t n = ::write(fd, content.data(), content.size());
    if (n <= 0) break;
    content.remove_prefix(static_cast<std::size_t>(n));
  }
  ::close(fd);
}

TempFile::~TempFile() { ::unlink(path_.c_str()); }

}  // namespace roombus::http::test
