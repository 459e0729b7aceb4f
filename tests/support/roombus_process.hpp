// Test support: the real `roombus` binary as a child process, and a blocking loopback HTTP client.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roombus::test {

using std::chrono::milliseconds;

// A fresh directory under /tmp, removed with everything in it when the test ends.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

// `roombus <args>` started with posix_spawn, stdout and stderr going to `output_file`, and an
// environment without ROOMBUS_* variables (so only the arguments configure it). Signals go to
// this pid only; the destructor SIGKILLs and reaps a child that is still running. `env` adds
// NAME=value entries (a test of ROOMBUS_* variables states them there).
class Child {
 public:
  Child(const std::vector<std::string>& args, std::filesystem::path output_file,
        const std::vector<std::string>& env = {});
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig) const;
  // The exit code (128 + signal for a signal), or nullopt if still running after `timeout`.
  std::optional<int> wait(milliseconds timeout);
  // The port from the "listening on http://127.0.0.1:PORT" line; nullopt if the child exited
  // or `timeout` passed first.
  std::optional<std::uint16_t> wait_for_port(milliseconds timeout);
  std::string output() const;

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  std::filesystem::path output_file_;
};

struct Reply {
  int status = 0;
  std::string body;
};

// One keep-alive connection to 127.0.0.1:port with blocking I/O and a receive/send timeout.
// Every failure (refused, reset, EOF, timeout) is a nullopt reply; the connection is then dead.
class HttpConnection {
 public:
  explicit HttpConnection(std::uint16_t port, milliseconds timeout = milliseconds(10000));
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  std::optional<Reply> request(std::string_view method, std::string_view target,
                               const std::vector<std::string>& headers, std::string_view body,
                               std::string_view content_type = "");

 private:
  void drop();

  int fd_ = -1;
  std::string buffer_;
};

// "Authorization: Bearer <token>".
std::string bearer(std::string_view token);

// Registers `url` (members alice@x.de, clone allowed) through the admin API; returns its API key,
// empty on failure.
std::string register_server(std::uint16_t port, std::string_view admin_token,
                            std::string_view url = "meet.example.com");

// The value of the first "key":"value" string member in a flat JSON text, if any.
std::optional<std::string> json_string_field(std::string_view json, std::string_view key);

}  // namespace roombus::test
