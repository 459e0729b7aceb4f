// Test support implementation: the roombus binary as a Process, its port, the HTTP client.
#include "support/roombus_process.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <stdexcept>
#include <system_error>

namespace roombus::test {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::vector<std::string> roombus_argv(const std::vector<std::string>& args) {
  std::vector<std::string> argv{ROOMBUS_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

}  // namespace

Child::Child(const std::vector<std::string>& args, std::filesystem::path output_file,
             const std::vector<std::string>& env)
    : output_file_(std::move(output_file)),
      process_(roombus_argv(args), {output_file_, output_file_}, env) {}

std::optional<std::uint16_t> Child::wait_for_port(milliseconds timeout) {
  constexpr std::string_view kMarker = "listening on http://127.0.0.1:";
  std::optional<std::uint16_t> port;
  eventually(
      [&] {
        const std::string text = output();
        if (const auto at = text.find(kMarker); at != std::string::npos) {
          const char* first = text.data() + at + kMarker.size();
          unsigned value = 0;
          const auto [end, ec] = std::from_chars(first, text.data() + text.size(), value);
          if (ec == std::errc() && end != first && value > 0 && value <= 65535) {
            port = static_cast<std::uint16_t>(value);
            return true;
          }
        }
        return wait(milliseconds(0)).has_value();  // exited: no port will come
      },
      timeout);
  return port;
}

RoombusServe::RoombusServe(const std::filesystem::path& data_dir, const std::filesystem::path& log,
                           const std::vector<std::string>& flags, std::string_view token,
                           const std::vector<std::string>& env)
    : admin_token(token) {
  std::vector<std::string> args{
      "serve",           "--listen",      "127.0.0.1:0",           "--data-dir",
      data_dir.string(), "--admin-token", std::string(admin_token)};
  args.insert(args.end(), flags.begin(), flags.end());
  child = std::make_unique<Child>(args, log, env);
  port = child->wait_for_port().value_or(0);
}

std::string RoombusServe::register_server(std::string_view url) const {
  return test::register_server(port, admin_token, url);
}

HttpConnection::HttpConnection(std::uint16_t port, milliseconds timeout) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) drop();
}

HttpConnection::~HttpConnection() { drop(); }

void HttpConnection::drop() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::optional<Reply> HttpConnection::request(std::string_view method, std::string_view target,
                                             const std::vector<std::string>& headers,
                                             std::string_view body, std::string_view content_type) {
  if (fd_ < 0) return std::nullopt;
  std::string out;
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  for (const auto& h : headers) out.append(h).append("\r\n");
  if (!content_type.empty()) out.append("Content-Type: ").append(content_type).append("\r\n");
  if (!body.empty() || method == "POST" || method == "PUT") {
    out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  out.append("\r\n").append(body);
  for (std::size_t sent = 0; sent < out.size();) {
    // MSG_NOSIGNAL: a killed server must not take the test down with SIGPIPE.
    const ssize_t n = ::send(fd_, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      drop();
      return std::nullopt;
    }
    sent += static_cast<std::size_t>(n);
  }

  auto receive = [this]() {
    char chunk[16384];
    for (;;) {
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n > 0) {
        buffer_.append(chunk, static_cast<std::size_t>(n));
        return true;
      }
      if (n < 0 && errno == EINTR) continue;
      return false;
    }
  };
  std::size_t head_end;
  while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!receive()) {
      drop();
      return std::nullopt;
    }
  }
  const std::string head = buffer_.substr(0, head_end);
  Reply reply;
  if (head.size() < 12 || head.compare(0, 5, "HTTP/") != 0) {
    drop();
    return std::nullopt;
  }
  std::from_chars(head.data() + 9, head.data() + 12, reply.status);
  std::size_t length = 0;
  bool close_after = false;
  for (std::size_t line = head.find("\r\n"); line != std::string::npos;) {
    const std::size_t next = head.find("\r\n", line + 2);
    const std::string field =
        head.substr(line + 2, next == std::string::npos ? std::string::npos : next - line - 2);
    line = next;
    const auto colon = field.find(':');
    if (colon == std::string::npos) continue;
    const std::string_view name(field.data(), colon);
    std::string_view value(field);
    value.remove_prefix(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (iequals(name, "Content-Length")) {
      std::from_chars(value.data(), value.data() + value.size(), length);
    } else if (iequals(name, "Connection") && iequals(value, "close")) {
      close_after = true;
    }
  }
  const std::size_t body_start = head_end + 4;
  while (buffer_.size() < body_start + length) {
    if (!receive()) {
      drop();
      return std::nullopt;
    }
  }
  reply.body = buffer_.substr(body_start, length);
  buffer_.erase(0, body_start + length);
  if (close_after) drop();
  return reply;
}

std::optional<std::string> json_string_field(std::string_view json, std::string_view key) {
  const std::string needle = "\"" + std::string(key) + "\":\"";
  const auto at = json.find(needle);
  if (at == std::string_view::npos) return std::nullopt;
  std::string value;
  for (std::size_t i = at + needle.size(); i < json.size(); ++i) {
    if (json[i] == '"') return value;
    if (json[i] == '\\' && i + 1 < json.size()) ++i;
    value.push_back(json[i]);
  }
  return std::nullopt;
}

std::string bearer(std::string_view token) { return "Authorization: Bearer " + std::string(token); }

std::string register_server(std::uint16_t port, std::string_view admin_token,
                            std::string_view url) {
  HttpConnection connection(port);
  const auto reply = connection.request(
      "POST", "/admin/v1/servers", {bearer(admin_token)},
      R"({"url":")" + std::string(url) +
          R"(","name":"Meet","app_id":"","app_secret":"","members":["alice@x.de"],)"
          R"("allow_clone":true})",
      "application/json");
  if (!reply || reply->status != 201) return {};
  return json_string_field(reply->body, "api_key").value_or("");
}

}  // namespace roombus::test
