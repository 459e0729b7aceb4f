// Test support: a Server on 127.0.0.1:0 in a background thread, a raw socket client, curl runs.
#pragma once

#include <asio/io_context.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "roombus/http/server.hpp"

namespace roombus::http::test {

using std::chrono::milliseconds;

// Short timeouts and small limits so that every bad-client case finishes quickly.
ServerOptions fast_options();

// What the test handler has seen; written on the io thread, read by the test thread.
struct HandlerRecord {
  std::atomic<int> started{0};
  std::atomic<int> finished{0};
  std::mutex mutex;
  std::vector<std::string> log_lines;

  bool logged(std::string_view needle);
};

// Routes: /echo (request as text), /slow?ms=N, /throw, /big?n=N, /close, /form (decoded form
// body), anything else 404.
class LoopbackServer {
 public:
  explicit LoopbackServer(ServerOptions options = fast_options());
  ~LoopbackServer();
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url(std::string_view path) const;
  // Runs Server::stop() on the io thread and waits for it; returns how long it took.
  milliseconds stop();
  // Server::connection_count(), read on the io thread.
  std::size_t connections();
  // Server::busy(recently), read on the io thread.
  bool busy(milliseconds recently);
  HandlerRecord& record() { return *record_; }

 private:
  asio::io_context io_;
  std::shared_ptr<HandlerRecord> record_;
  std::unique_ptr<Server> server_;
  std::uint16_t port_ = 0;
  bool stopped_ = false;
  std::thread thread_;
};

struct Reply {
  int status = 0;
  std::string head;  // status line and fields
  std::string body;

  std::optional<std::string> header(std::string_view name) const;
};

// Blocking POSIX client with poll() timeouts, for the byte-level cases curl cannot produce.
class RawClient {
 public:
  explicit RawClient(std::uint16_t port, int receive_buffer = 0);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  static bool can_connect(std::uint16_t port);

  bool send(std::string_view bytes);
  // One response; nullopt if the connection closed or the time ran out first.
  std::optional<Reply> read_reply(milliseconds timeout = milliseconds(3000),
                                  bool head_request = false);
  // Reads until the peer closes (EOF or reset). False if it stayed open for `timeout`.
  bool closed_within(milliseconds timeout);
  // Bytes received so far and not consumed by read_reply/closed_within.
  const std::string& pending() const { return pending_; }
  std::size_t received_total() const { return received_total_; }

 private:
  // Appends whatever arrives within `timeout`; false on EOF, error or timeout.
  bool receive(milliseconds timeout);

  int fd_ = -1;
  bool eof_ = false;
  std::string pending_;
  std::size_t received_total_ = 0;
};

struct CurlRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs the curl CLI (`curl -sS --max-time 10 <args>`).
CurlRun curl(const std::string& args);
// A GET /echo through curl gets a 200: the server still serves.
bool serves(const LoopbackServer& server);
// A file in /tmp holding `content`, removed by the destructor.
class TempFile {
 public:
  explicit TempFile(std::string_view content);
  ~TempFile();
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace roombus::http::test
