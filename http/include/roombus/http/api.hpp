// Driving adapter: the HTTP API of roombus (jitsi-admin v1, admin, health, metrics) over the core.
#pragma once

#include <asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "roombus/core/service.hpp"
#include "roombus/http/metrics.hpp"
#include "roombus/http/request.hpp"

namespace roombus::http {

// The answer of /readyz: ready or not, and the state of each dependency.
struct Readiness {
  bool ready = true;  // false: 503 (the service cannot take commands)
  // In order: name -> "ok", "down" or "off" (not configured).
  std::vector<std::pair<std::string, std::string>> checks;
  // For checks that are not ok: name -> what is wrong, for operators.
  std::vector<std::pair<std::string, std::string>> details;
};

struct ApiOptions {
  // Base of v1 join links ("https://admin.example.com"); empty: "http://" + the Host header.
  std::string public_url;
  // GET /api/v1/info/{uid} without a key is allowed by default (the uid is a 128-bit
  // capability); true requires the key of the room's server.
  bool info_requires_key = false;
  // GET /api/v1/serverInfo requires a valid server key unless this restores jitsi-admin's
  // open access.
  bool server_info_open = false;
  // Hash (as hash_token computes it) of the admin bearer token; empty closes /admin/v1.
  std::string admin_token_hash;
  std::function<std::string(std::string_view)> hash_token;
  // A fresh command id for requests without an Idempotency-Key header.
  std::function<std::string()> new_command_id;
  // /readyz. Empty: always ready, no checks.
  std::function<Readiness()> readiness;
  // Appends gauges of other layers (connections, log, Redis, Kafka) to /metrics.
  std::function<void(std::string&)> extra_metrics;
  // GET /admin/v1/servers/{id}/demand forecasts this far ahead (--demand-horizon-minutes).
  std::chrono::minutes demand_horizon{120};
};

// Owns no I/O: it turns one parsed request into one response, awaiting durability through the
// core's Service. Runs on the io_context thread that owns the Service.
class Api {
 public:
  Api(core::Service& service, ApiOptions options);

  asio::awaitable<Response> handle(Request& request);

  Metrics& metrics() { return metrics_; }
  const ApiOptions& options() const { return options_; }
  core::Service& service() { return service_; }

 private:
  core::Service& service_;
  ApiOptions options_;
  Metrics metrics_;
};

}  // namespace roombus::http
