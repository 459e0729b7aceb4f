// Test support: Debian's redis-server on a free loopback port, started and stopped by pid, and a
// blocking client (hiredis's synchronous API) to look at or disturb it beside the code under test.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "support/held_port.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace roombus::test {

// A reply as the blocking client sees it: arrays are flattened one level into `items`.
struct CliReply {
  bool error = false;
  bool nil = false;
  std::string text;  // string, status or error text
  long long integer = 0;
  std::vector<std::string> items;
};

// `redis-server --port <held> --bind 127.0.0.1 --save "" --appendonly no` (no persistence: a
// restart comes back empty), with `--requirepass` when a password is given and DEBUG allowed from
// loopback. Its port is held (`HeldPort`) for the object's whole life, so a restart gets the same
// port back and nothing else can take it meanwhile. Its data and log live in a fresh directory
// under /tmp, removed by the destructor. Signals go to its pid only; it is never looked up by
// name.
class RedisServer {
 public:
  explicit RedisServer(std::string password = "");
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  std::uint16_t port() const { return port_.number(); }
  bool running() const { return process_ != nullptr; }
  // redis://[:password@]127.0.0.1:<port>/<db>
  std::string url(int db = 0) const;

  // SIGTERM, then waits for the exit (SIGKILL after 5 s). No-op when not running.
  void stop();
  // Starts it again on the same port (empty, since nothing is persisted); waits until it answers.
  void start();

  // One command on a fresh blocking connection (authenticated when there is a password).
  // Throws std::runtime_error when Redis cannot be reached.
  CliReply command(const std::vector<std::string>& argv,
                   std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) const;

 private:
  TempDir dir_{"redis"};
  HeldPort port_;
  std::string password_;
  std::unique_ptr<Process> process_;
};

}  // namespace roombus::test
