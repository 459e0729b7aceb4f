// `roombus admin`: a small blocking HTTP/1.1 client of the admin API, for operators' shells.
#include "admin_client.hpp"

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>
#include <stdexcept>

namespace roombus::app {

HttpReply http_call(const std::string& base, const std::string& method, const std::string& path,
                    const std::string& bearer, const std::string& json_body) {
  std::string rest = base;
  if (rest.rfind("http://", 0) != 0) {
    throw std::runtime_error("--url must start with http:// (got '" + base + "')");
  }
  rest.erase(0, 7);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  auto colon = rest.rfind(':');
  std::string host = colon == std::string::npos ? rest : rest.substr(0, colon);
  std::string port = colon == std::string::npos ? "80" : rest.substr(colon + 1);

  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  asio::ip::tcp::socket socket(io);
  std::error_code ec;
  auto endpoints = resolver.resolve(host, port, ec);
  if (!ec) asio::connect(socket, endpoints, ec);
  if (ec) throw std::runtime_error("cannot reach " + base + ": " + ec.message());

  std::string request = method + " " + path + " HTTP/1.1\r\nHost: " + rest +
                        "\r\nConnection: close\r\nAccept: application/json\r\n";
  if (!bearer.empty()) request += "Authorization: Bearer " + bearer + "\r\n";
  if (!json_body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    request +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(json_body.size()) +
        "\r\n";
  }
  request += "\r\n" + json_body;
  asio::write(socket, asio::buffer(request), ec);
  if (ec) throw std::runtime_error("cannot send to " + base + ": " + ec.message());

  std::string response;
  asio::read(socket, asio::dynamic_buffer(response), ec);
  if (ec && ec != asio::error::eof) {
    throw std::runtime_error("cannot read from " + base + ": " + ec.message());
  }
  auto head_end = response.find("\r\n\r\n");
  if (response.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos || response.size() < 12) {
    throw std::runtime_error("not an HTTP response from " + base);
  }
  HttpReply reply;
  reply.status = std::stoi(response.substr(9, 3));
  reply.body = response.substr(head_end + 4);
  return reply;
}

}  // namespace roombus::app
