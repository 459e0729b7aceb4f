// `roombus admin`: a small blocking HTTP/1.1 client of the admin API, for operators' shells.
#include "admin_client.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>
#include <stdexcept>

namespace roombus::cli {

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

struct JsonBody::Writer {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer{buffer};
};

JsonBody::JsonBody() : writer_(std::make_unique<Writer>()) { writer_->writer.StartObject(); }

JsonBody::~JsonBody() = default;

JsonBody& JsonBody::string(std::string_view key, std::string_view value) {
  writer_->writer.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  writer_->writer.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  return *this;
}

JsonBody& JsonBody::strings(std::string_view key, const std::vector<std::string>& values) {
  writer_->writer.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  writer_->writer.StartArray();
  for (const auto& v : values) {
    writer_->writer.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  }
  writer_->writer.EndArray();
  return *this;
}

JsonBody& JsonBody::boolean(std::string_view key, bool value) {
  writer_->writer.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  writer_->writer.Bool(value);
  return *this;
}

std::string JsonBody::take() {
  writer_->writer.EndObject();
  return {writer_->buffer.GetString(), writer_->buffer.GetSize()};
}

std::string path_segment(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    const bool unreserved = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
                            (u >= '0' && u <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xF]);
    }
  }
  return out;
}

}  // namespace roombus::cli
