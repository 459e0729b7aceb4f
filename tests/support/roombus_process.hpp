// Test support: the real `roombus` binary as a child process, and a blocking loopback HTTP client.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/eventually.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace roombus::test {

using std::chrono::milliseconds;

// `roombus <args>` (the binary of this build), stdout and stderr going to `output_file`, started
// as a `Process` (environment without ROOMBUS_* plus `env`; SIGKILLed and reaped by the
// destructor).
class Child {
 public:
  Child(const std::vector<std::string>& args, std::filesystem::path output_file,
        const std::vector<std::string>& env = {});

  pid_t pid() const { return process_.pid(); }
  void signal(int sig) const { process_.signal(sig); }
  // The exit code (128 + signal for a signal), or nullopt if still running after `timeout`.
  std::optional<int> wait(milliseconds timeout) { return process_.wait(timeout); }
  // The port from the "listening on http://127.0.0.1:PORT" line; nullopt if the child exited
  // or `timeout` passed first.
  std::optional<std::uint16_t> wait_for_port(milliseconds timeout = kPatience);
  std::string output() const { return read_file(output_file_); }

 private:
  std::filesystem::path output_file_;
  Process process_;
};

// `roombus serve` on 127.0.0.1:0, its data in `data_dir`, its output in `log`, with an admin
// token and further `flags` (and `env`): the suites' one way to run the service. `port` is 0 when
// it did not come up (`output()` says why); callers REQUIRE it on the test thread.
inline constexpr std::string_view kTestAdminToken = "roombus-test-admin-token-0123456789";
struct RoombusServe {
  RoombusServe(const std::filesystem::path& data_dir, const std::filesystem::path& log,
               const std::vector<std::string>& flags = {}, std::string_view token = kTestAdminToken,
               const std::vector<std::string>& env = {});

  std::string output() const { return child->output(); }
  // Registers `url` through the admin API (see register_server below); its API key, "" on failure.
  std::string register_server(std::string_view url = "meet.example.com") const;

  std::string admin_token;
  std::unique_ptr<Child> child;
  std::uint16_t port = 0;
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
