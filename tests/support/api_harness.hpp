// The HTTP API served in-process on 127.0.0.1:0 over the real core and adapters, driven by curl.
#pragma once

#include <array>
#include <asio/io_context.hpp>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "join_key.hpp"
#include "roombus/core/service.hpp"
#include "roombus/crypto/hashing.hpp"
#include "roombus/crypto/ids.hpp"
#include "roombus/crypto/join_links.hpp"
#include "roombus/http/api.hpp"
#include "roombus/http/server.hpp"
#include "roombus/time/tz_time_zone.hpp"
#include "support/core_fakes.hpp"

namespace roombus::testing {

struct CurlReply {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  std::string header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (http::iequals(k, name)) return v;
    }
    return "";
  }
};

inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

// Runs curl with these arguments against the harness and parses `-i` output.
inline CurlReply run_curl(const std::vector<std::string>& args) {
  std::string cmd = "curl -s -i --max-time 10";
  for (const auto& a : args) cmd += " " + shell_quote(a);
  std::FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run curl");
  std::string out;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  int rc = ::pclose(pipe);
  if (rc != 0) throw std::runtime_error("curl failed (" + std::to_string(rc) + "): " + cmd);
  CurlReply reply;
  // Skip interim 100 Continue responses.
  std::size_t start = 0;
  for (;;) {
    auto end = out.find("\r\n\r\n", start);
    if (end == std::string::npos) throw std::runtime_error("no HTTP response from curl: " + out);
    std::string head = out.substr(start, end - start);
    reply.status = std::stoi(head.substr(9, 3));
    start = end + 4;
    if (reply.status == 100) continue;
    std::size_t line = head.find("\r\n");
    while (line != std::string::npos) {
      std::size_t next = head.find("\r\n", line + 2);
      std::string field =
          head.substr(line + 2, next == std::string::npos ? std::string::npos : next - line - 2);
      auto colon = field.find(':');
      if (colon != std::string::npos) {
        std::string value = field.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        reply.headers.emplace_back(field.substr(0, colon), value);
      }
      line = next;
    }
    break;
  }
  reply.body = out.substr(start);
  return reply;
}

// Real core, real crypto and tz adapters, in-memory log, fixed clock (2021-02-02 12:00 UTC =
// 13:00 CET), zone Europe/Berlin, the real HTTP server on an ephemeral loopback port. Join links
// are wired as `roombus serve` wires them, under a fresh join key (options.join.early_minutes
// is kept).
class ApiHarness {
 public:
  static constexpr const char* kAdminToken = "admin-token-for-tests-0123456789";

  explicit ApiHarness(http::ApiOptions options = {}, std::string zone = "Europe/Berlin")
      : clock_(at(2021, 2, 2, 12)),
        zone_(time::make_time_zone(zone)),
        join_cipher_(*crypto::parse_join_key(crypto::generate_join_key())) {
    service_ = std::make_unique<core::Service>(
        core::Service::Ports{&clock_, &ids_, &hasher_, zone_.get(), &log_, {}});
    options.hash_token = [](std::string_view t) { return crypto::sha256_hex(t); };
    options.admin_token_hash = crypto::sha256_hex(kAdminToken);
    options.new_command_id = [] { return "gen:" + crypto::random_token(16); };
    options.join = app::join_options(join_cipher_, options.join.early_minutes);
    api_ = std::make_unique<http::Api>(*service_, options);
    server_ =
        std::make_unique<http::Server>(io_, [this](http::Request& r) { return api_->handle(r); });
    server_->listen("127.0.0.1:0");
    port_ = server_->port();
    base_ = "http://127.0.0.1:" + std::to_string(port_);
    thread_ = std::thread([this] { io_.run(); });
  }

  ~ApiHarness() {
    io_.stop();
    thread_.join();
  }

  const std::string& base() const { return base_; }
  std::uint16_t port() const { return port_; }

  CurlReply curl(const std::string& method, const std::string& path,
                 std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"-X", method};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(base_ + path);
    return run_curl(args);
  }

  // Registers a server through the admin API; returns {id, api key}.
  std::pair<long, std::string> register_server(const std::string& url,
                                               const std::string& members_json,
                                               bool allow_clone = false);

  MemoryLog& log() { return log_; }  // read only after requests completed
  // The join-link cipher the API uses (not thread-safe: only while no request is in flight).
  const crypto::JoinLinkCipher& join_cipher() const { return join_cipher_; }
  const core::Service& service() const { return *service_; }  // likewise

 private:
  asio::io_context io_{1};
  FixedClock clock_;
  crypto::OpenSslIdSource ids_;
  crypto::Sha256KeyHasher hasher_;
  std::unique_ptr<core::TimeZone> zone_;
  crypto::JoinLinkCipher join_cipher_;
  MemoryLog log_;
  std::unique_ptr<core::Service> service_;
  std::unique_ptr<http::Api> api_;
  std::unique_ptr<http::Server> server_;
  std::string base_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

// Pulls "key":"value" or "key":123 out of a flat JSON text (tests only).
inline std::string json_field(const std::string& json, const std::string& key) {
  auto at_key = json.find("\"" + key + "\":");
  if (at_key == std::string::npos) return "";
  auto v = at_key + key.size() + 3;
  if (json[v] == '"') return json.substr(v + 1, json.find('"', v + 1) - v - 1);
  auto end = json.find_first_of(",}", v);
  return json.substr(v, end - v);
}

inline std::pair<long, std::string> ApiHarness::register_server(const std::string& url,
                                                                const std::string& members_json,
                                                                bool allow_clone) {
  auto r = curl("POST", "/admin/v1/servers",
                {"-H", std::string("Authorization: Bearer ") + kAdminToken, "-H",
                 "Content-Type: application/json", "--data-binary",
                 "{\"url\":\"" + url + "\",\"name\":\"" + url + "\",\"members\":" + members_json +
                     ",\"allow_clone\":" + (allow_clone ? "true" : "false") + "}"});
  if (r.status != 201) throw std::runtime_error("register failed: " + r.body);
  return {std::stol(json_field(r.body, "id")), json_field(r.body, "api_key")};
}

}  // namespace roombus::testing
