// Reference for bench/: roombus's HTTP server with a handler that does nothing, the HTTP ceiling.
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <cstdio>
#include <string>

#include "roombus/http/server.hpp"

// What a durable create costs beyond HTTP is what roombus adds to this server's numbers: the
// same parser, sessions, thread and client, but a handler that answers at once with a reply
// the size of a create's. Usage: http_null_server PORT (0: any); prints "listening on PORT",
// runs until SIGTERM or SIGINT.
namespace {

asio::awaitable<roombus::http::Response> answer(roombus::http::Request&) {
  roombus::http::Response r;
  r.body =
      R"({"error":false,"uid":"0123456789abcdef0123456789abcdef","text":"Meeting erfolgreich angelegt"})";
  r.set_header("Content-Type", "application/json");
  r.set_header("Cache-Control", "no-cache, private");
  co_return r;
}

asio::awaitable<void> stop_server(roombus::http::Server& server, asio::io_context& io) {
  co_await server.stop();
  io.stop();
}

void ignore_exception(std::exception_ptr) {}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: http_null_server PORT\n");
    return 2;
  }
  asio::io_context io{1};
  roombus::http::ServerOptions options;
  options.max_connections = 4096;
  roombus::http::Server server(io, answer, options);
  server.listen(std::string("127.0.0.1:") + argv[1]);
  std::printf("listening on %u\n", static_cast<unsigned>(server.port()));
  std::fflush(stdout);

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const std::error_code& ec, int) {
    if (!ec) asio::co_spawn(io, stop_server(server, io), ignore_exception);
  });
  io.run();
  return 0;
}
