// Integration tests: the HTTP server over loopback, driven by curl and by raw sockets.
#include <asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "loopback.hpp"
#include "support/eventually.hpp"

using namespace roombus::http;
using namespace roombus::http::test;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string get(std::string_view target, std::string_view extra = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra) + "\r\n";
}

asio::awaitable<Response> answer_ok(Request&) { co_return Response{}; }

}  // namespace

TEST_CASE("curl GET reaches the handler with decoded path, raw query and headers", "[http]") {
  LoopbackServer server;
  CurlRun run = curl("-i -H 'X-Test: yes' '" + server.url("/echo/a%20b?x=1+2&y=%41") + "'");
  REQUIRE(run.exit_code == 0);
  CHECK(contains(run.output, "HTTP/1.1 200 OK\r\n"));
  CHECK(contains(run.output, "\r\nDate: "));
  CHECK(contains(run.output, " GMT\r\n"));
  CHECK(contains(run.output, "\r\nContent-Length: "));
  CHECK(contains(run.output, "path=/echo/a b\n"));
  CHECK(contains(run.output, "query=x=1+2&y=%41\n"));
  CHECK(contains(run.output, "header:X-Test=yes\n"));
  CHECK(contains(run.output, "remote=127.0.0.1:"));
}

TEST_CASE("curl gets 100 Continue before it sends a large form body", "[http]") {
  LoopbackServer server;
  std::string body = "name=Team+Meeting&pad=" + std::string(4000, 'p');
  TempFile file(body);
  CurlRun run = curl(
      "-v -H 'Expect: 100-continue' -H 'Content-Type: application/x-www-form-urlencoded' "
      "--data-binary @" +
      file.path() + " " + server.url("/form"));
  REQUIRE(run.exit_code == 0);
  CHECK(contains(run.output, "< HTTP/1.1 100 Continue"));
  CHECK(contains(run.output, "< HTTP/1.1 200 OK"));
  CHECK(contains(run.output, "get_name=Team Meeting\n"));
}

TEST_CASE("curl multipart form fields are decodable and file parts are left out", "[http]") {
  LoopbackServer server;
  TempFile file("file content");
  CurlRun run =
      curl("-F name=Standup -F 'tags[]=a' -F 'file=@" + file.path() + "' " + server.url("/form"));
  REQUIRE(run.exit_code == 0);
  CHECK(contains(run.output, "get_name=Standup\n"));
  CHECK(contains(run.output, "tags_is_array=1\n"));
  CHECK(contains(run.output, "has_file=0\n"));
}

TEST_CASE("curl reuses one keep-alive connection for consecutive requests", "[http]") {
  LoopbackServer server;
  CurlRun run = curl("-v " + server.url("/echo/1") + " " + server.url("/echo/2"));
  REQUIRE(run.exit_code == 0);
  CHECK(contains(run.output, "Re-using existing connection"));
  CHECK(contains(run.output, "path=/echo/2\n"));
}

TEST_CASE("A raw client sends several requests over one connection", "[http]") {
  LoopbackServer server;
  RawClient client(server.port());
  std::string remote;
  for (int i = 0; i < 3; ++i) {
    REQUIRE(client.send(get("/echo?i=" + std::to_string(i))));
    auto reply = client.read_reply();
    REQUIRE(reply);
    CHECK(reply->status == 200);
    CHECK_FALSE(reply->header("Connection"));
    auto at = reply->body.find("remote=");
    std::string this_remote = reply->body.substr(at, reply->body.find('\n', at) - at);
    if (i == 0) remote = this_remote;
    CHECK(this_remote == remote);
  }
}

TEST_CASE("Pipelined requests are answered in order even when the first is slow", "[http]") {
  LoopbackServer server;
  RawClient client(server.port());
  REQUIRE(client.send(get("/slow?ms=150") + get("/echo/second") + get("/echo/third")));
  auto first = client.read_reply();
  auto second = client.read_reply();
  auto third = client.read_reply();
  REQUIRE(first);
  REQUIRE(second);
  REQUIRE(third);
  CHECK(first->body == "slow done");
  CHECK(contains(second->body, "path=/echo/second\n"));
  CHECK(contains(third->body, "path=/echo/third\n"));
}

TEST_CASE("A request sent one byte at a time is parsed like any other", "[http]") {
  LoopbackServer server;
  RawClient client(server.port());
  std::string wire = "POST /echo/bytes HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello";
  for (char c : wire) {
    REQUIRE(client.send(std::string_view(&c, 1)));
    std::this_thread::sleep_for(1ms);
  }
  auto reply = client.read_reply();
  REQUIRE(reply);
  CHECK(reply->status == 200);
  CHECK(contains(reply->body, "body=hello"));
}

TEST_CASE("HTTP/1.0 is closed after the response unless it asks for keep-alive", "[http]") {
  LoopbackServer server;
  {
    RawClient client(server.port());
    REQUIRE(client.send("GET /echo HTTP/1.0\r\n\r\n"));
    auto reply = client.read_reply();
    REQUIRE(reply);
    CHECK(reply->header("Connection") == "close");
    CHECK(contains(reply->body, "version=1.0\n"));
    CHECK(client.closed_within(10s));
  }
  RawClient client(server.port());
  REQUIRE(client.send("GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  auto reply = client.read_reply();
  REQUIRE(reply);
  CHECK(reply->header("Connection") == "keep-alive");
  REQUIRE(client.send("GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  CHECK(client.read_reply());
}

TEST_CASE("A handler asking for Connection close gets the connection closed", "[http]") {
  LoopbackServer server;
  RawClient client(server.port());
  REQUIRE(client.send(get("/close") + get("/echo")));
  auto reply = client.read_reply();
  REQUIRE(reply);
  CHECK(reply->body == "closing");
  CHECK(reply->header("Connection") == "close");
  CHECK(client.closed_within(10s));
  CHECK(client.pending().empty());  // the pipelined second request was not answered
}

TEST_CASE("HEAD gets the fields of GET without the body", "[http]") {
  LoopbackServer server;
  RawClient client(server.port());
  REQUIRE(client.send("HEAD /big?n=100 HTTP/1.1\r\nHost: t\r\n\r\n" + get("/echo/after")));
  auto head = client.read_reply(3s, true);
  REQUIRE(head);
  CHECK(head->header("Content-Length") == "100");
  CHECK(head->body.empty());
  auto after = client.read_reply();
  REQUIRE(after);
  CHECK(contains(after->body, "path=/echo/after\n"));
}

TEST_CASE("Garbage bytes get a 400 and a closed connection, then the server serves on", "[http]") {
  LoopbackServer server;
  RawClient client(server.port());
  REQUIRE(client.send(std::string("\x16\x03\x01\x02\x00\x01garbage\r\n\r\n", 17)));
  auto reply = client.read_reply();
  REQUIRE(reply);
  CHECK(reply->status == 400);
  CHECK(reply->header("Connection") == "close");
  CHECK(client.closed_within(10s));
  CHECK(serves(server));
}

TEST_CASE("Smuggling attempts get a 400 and a closed connection and reach no handler",
          "[http][smuggling]") {
  // Each is followed by a request a lenient parser would see as the next one on the connection.
  const std::string smuggled = "GET /echo/smuggled HTTP/1.1\r\nHost: t\r\n\r\n";
  const std::string chunked =
      "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::vector<std::string> attempts = {
      chunked + "5\r\nhelloXX5\r\nworld\r\n0\r\n\r\n",  // issue 12: this created a room
      chunked + "5;\x01\r\nhello\r\n0\r\n\r\n",
      chunked + "5\nhello\r\n0\r\n\r\n",
      "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0\r\n\r\n",
      "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n",
      "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n"
      "0\r\n\r\n",
      "POST /echo HTTP/1.1\r\nHost: t\r\nX: a\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "GET /echo HTTP/1.1\nHost: t\n\n",
  };
  LoopbackServer server;
  for (const std::string& attempt : attempts) {
    INFO(attempt);
    RawClient client(server.port());
    REQUIRE(client.send(attempt + smuggled));
    auto reply = client.read_reply();
    REQUIRE(reply);
    CHECK(reply->status == 400);
    CHECK(reply->header("Connection") == "close");
    CHECK(client.closed_within(10s));
  }
  CHECK(server.record().started == 0);
  CHECK(serves(server));
}

TEST_CASE("An oversized request target gets a 414", "[http]") {
  LoopbackServer server;
  RawClient client(server.port());
  REQUIRE(client.send(get("/echo?" + std::string(4000, 'u'))));
  auto reply = client.read_reply();
  REQUIRE(reply);
  CHECK(reply->status == 414);
  CHECK(client.closed_within(10s));
  CHECK(serves(server));
}

TEST_CASE("Oversized or too many header fields get a 431", "[http]") {
  LoopbackServer server;
  {
    RawClient client(server.port());
    REQUIRE(client.send(get("/echo", "X-Big: " + std::string(3000, 'h') + "\r\n")));
    auto reply = client.read_reply();
    REQUIRE(reply);
    CHECK(reply->status == 431);
    CHECK(client.closed_within(10s));
  }
  {
    std::string many;
    for (int i = 0; i < 30; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
    RawClient client(server.port());
    REQUIRE(client.send(get("/echo", many)));
    auto reply = client.read_reply();
    REQUIRE(reply);
    CHECK(reply->status == 431);
  }
  CHECK(serves(server));
}

TEST_CASE("A declared body over the limit gets a 413 before any body byte", "[http]") {
  LoopbackServer server;
  RawClient client(server.port());
  REQUIRE(client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100000000\r\n\r\n"));
  auto reply = client.read_reply();
  REQUIRE(reply);
  CHECK(reply->status == 413);
  CHECK(client.closed_within(10s));

  RawClient expecting(server.port());  // asked to wait: it gets the 413 instead of a 100
  REQUIRE(
      expecting.send("POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                     "Content-Length: 100000\r\n\r\n"));
  auto refused = expecting.read_reply();
  REQUIRE(refused);
  CHECK(refused->status == 413);

  TempFile big(std::string(100 * 1024, 'b'));
  CurlRun run = curl("-o /dev/null -w '%{http_code}' --data-binary @" + big.path() + " " +
                     server.url("/echo"));
  CHECK(run.output == "413");
  CHECK(serves(server));
}

TEST_CASE("A chunked body over the limit gets a 413", "[http]") {
  LoopbackServer server;
  RawClient client(server.port());
  std::string wire = "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::string chunk = "4000\r\n" + std::string(0x4000, 'c') + "\r\n";
  for (int i = 0; i < 5; ++i) wire += chunk;  // 80 KiB against a 64 KiB limit
  wire += "0\r\n\r\n";
  client.send(wire);  // may fail part-way once the server has answered and closed
  auto reply = client.read_reply();
  REQUIRE(reply);
  CHECK(reply->status == 413);
  CHECK(serves(server));
}

TEST_CASE("A chunked request body reaches the handler reassembled", "[http]") {
  LoopbackServer server;
  RawClient client(server.port());
  REQUIRE(
      client.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "5\r\nhello\r\n6;ext=x\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"));
  auto reply = client.read_reply();
  REQUIRE(reply);
  CHECK(contains(reply->body, "body_size=11\nbody=hello world"));

  TempFile file("chunk" + std::string(3000, 'k'));
  CurlRun run = curl("-v -H 'Transfer-Encoding: chunked' --data-binary @" + file.path() + " " +
                     server.url("/echo"));
  CHECK(contains(run.output, "body_size=3005\n"));
}

TEST_CASE("A raw client gets 100 Continue and only then sends the body", "[http]") {
  LoopbackServer server;
  RawClient client(server.port());
  REQUIRE(
      client.send("POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                  "Content-Length: 4\r\n\r\n"));
  auto interim = client.read_reply();
  REQUIRE(interim);
  CHECK(interim->status == 100);
  REQUIRE(client.send("body"));
  auto reply = client.read_reply();
  REQUIRE(reply);
  CHECK(reply->status == 200);
  CHECK(contains(reply->body, "body=body"));
}

TEST_CASE("A request that trickles in gets a 408 at the request deadline", "[http]") {
  LoopbackServer server;  // request_timeout 400 ms
  RawClient client(server.port());
  REQUIRE(client.send("GET /echo HTTP/1.1\r\nHost: t\r\n"));
  std::optional<Reply> reply;
  for (int i = 0; i < 30 && !reply; ++i) {
    client.send("X");  // one header byte every 50 ms never completes the request
    reply = client.read_reply(50ms);
  }
  REQUIRE(reply);  // if each byte pushed the deadline back, no answer would ever come
  CHECK(reply->status == 408);
  CHECK(client.closed_within(10s));
  CHECK(serves(server));
}

TEST_CASE("An idle keep-alive connection is closed silently after the idle timeout", "[http]") {
  ServerOptions options = fast_options();
  options.idle_timeout = 3s;
  LoopbackServer server(options);
  RawClient client(server.port());
  REQUIRE(client.send(get("/echo")));
  REQUIRE(client.read_reply());
  CHECK_FALSE(client.closed_within(1s));  // not before the idle timeout (3 s)
  CHECK(client.closed_within(10s));
  CHECK(client.pending().empty());

  RawClient silent(server.port());  // never sends a byte
  CHECK(silent.closed_within(10s));
  CHECK(silent.received_total() == 0);
}

TEST_CASE("A handler that throws gives a 500 and the connection keeps serving", "[http]") {
  LoopbackServer server;
  RawClient client(server.port());
  REQUIRE(client.send(get("/throw")));
  auto failed = client.read_reply();
  REQUIRE(failed);
  CHECK(failed->status == 500);
  CHECK(failed->body == "Internal Server Error\n");
  REQUIRE(client.send(get("/echo/next")));
  auto next = client.read_reply();
  REQUIRE(next);
  CHECK(next->status == 200);
  CHECK(server.record().logged("boom from the test handler"));
}

TEST_CASE("Connections over the limit get a 503 and are closed", "[http]") {
  ServerOptions options = fast_options();
  options.max_connections = 4;
  options.idle_timeout = 5s;
  LoopbackServer server(options);
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<RawClient>(server.port()));
    REQUIRE(held.back()->send(get("/echo")));
    REQUIRE(held.back()->read_reply());  // accepted and served: counted
  }
  RawClient extra(server.port());
  REQUIRE(extra.send(get("/echo")));
  auto reply = extra.read_reply();
  REQUIRE(reply);
  CHECK(reply->status == 503);
  CHECK(reply->header("Connection") == "close");
  CHECK(extra.closed_within(10s));

  CurlRun run = curl("-o /dev/null -w '%{http_code}' " + server.url("/echo"));
  CHECK(run.output == "503");

  held.pop_back();  // one slot frees up, once the server has seen the close
  CHECK(roombus::test::eventually([&] { return serves(server); }));
}

TEST_CASE("A client that never reads a large response is dropped at the write deadline", "[http]") {
  LoopbackServer server;  // write_timeout 500 ms
  RawClient client(server.port(), 4096);
  REQUIRE(client.send(get("/big?n=33554432")));
  // Reading nothing until the server has taken the request and then given up on the connection:
  // a read would let its write go on.
  REQUIRE(roombus::test::eventually([&] { return server.record().started == 1; }));
  CHECK(roombus::test::eventually([&] { return server.connections() == 0; }));
  CHECK(client.closed_within(10s));
  CHECK(client.received_total() < 33554432u);
  CHECK(serves(server));
}

TEST_CASE("Stop finishes an in-flight request, closes idle connections, refuses new ones",
          "[http]") {
  ServerOptions options = fast_options();
  options.shutdown_timeout = 60s;
  options.idle_timeout = 60s;
  LoopbackServer server(options);
  RawClient idle(server.port());
  REQUIRE(idle.send(get("/echo")));
  REQUIRE(idle.read_reply());
  RawClient busy(server.port());
  REQUIRE(busy.send(get("/slow?ms=300")));
  REQUIRE(roombus::test::eventually([&] { return server.record().started == 2; }));

  auto took = server.stop();
  CHECK(took >= 200ms);  // it waited for the handler...
  CHECK(took < 30s);     // ...and not for the shutdown timeout
  auto reply = busy.read_reply();
  REQUIRE(reply);
  CHECK(reply->body == "slow done");
  CHECK(reply->header("Connection") == "close");
  CHECK(busy.closed_within(10s));
  CHECK(idle.closed_within(10s));  // closed when stop began, not at its idle timeout (60 s)
  CHECK_FALSE(RawClient::can_connect(server.port()));
}

TEST_CASE("Stop gives up on a handler slower than the shutdown timeout", "[http]") {
  ServerOptions options = fast_options();
  options.shutdown_timeout = 300ms;
  LoopbackServer server(options);
  RawClient busy(server.port());
  REQUIRE(busy.send(get("/slow?ms=60000")));
  REQUIRE(roombus::test::eventually([&] { return server.record().started == 1; }));
  auto took = server.stop();
  CHECK(took >= 250ms);  // it waited for the shutdown timeout...
  CHECK(took < 30s);     // ...and not for the handler
  CHECK(busy.closed_within(10s));
  CHECK(busy.received_total() == 0);
  CHECK(server.record().logged("still busy"));
}

TEST_CASE("A bad listen address is refused with a clear error", "[http]") {
  asio::io_context io;
  Server server(io, answer_ok);
  CHECK_THROWS_WITH(server.listen("8080"), Catch::Contains("not host:port"));
  CHECK_THROWS_WITH(server.listen("127.0.0.1:70000"), Catch::Contains("invalid port"));
  CHECK_THROWS_WITH(server.listen("127.0.0.1:x"), Catch::Contains("invalid port"));
  CHECK_THROWS_WITH(server.listen("no-such-host.invalid:80"), Catch::Contains("cannot resolve"));
  server.listen("localhost:0");
  CHECK(server.port() != 0);
}

TEST_CASE("The server is busy while a request is served and for a moment after", "[http]") {
  LoopbackServer server;
  CHECK_FALSE(server.busy(10s));  // nothing read yet
  RawClient client(server.port());
  REQUIRE(client.send(get("/slow?ms=2000")));
  REQUIRE(roombus::test::eventually([&] { return server.record().started == 1; }));
  CHECK(server.busy(0ms));  // in progress
  REQUIRE(client.read_reply());
  CHECK(server.busy(10min));  // answered, but read within the last 10 minutes
  CHECK(roombus::test::eventually([&] { return !server.busy(20ms); }));  // read longer ago
}
