// Driving adapter: the HTTP API of roombus (jitsi-admin v1, admin, health, metrics) over the core.
#pragma once

#include <asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "roombus/core/service.hpp"
#include "roombus/http/metrics.hpp"
#include "roombus/http/request.hpp"
#include "roombus/http/upcoming_index.hpp"
#include "roombus/services/upcoming_index.hpp"

namespace roombus::http {

// The answer of /readyz: ready or not, and the state of each dependency.
struct Readiness {
  bool ready = true;  // false: 503 (the service cannot take commands)
  // In order: name -> "ok", "down" or "off" (not configured).
  std::vector<std::pair<std::string, std::string>> checks;
  // For checks that are not ok: name -> what is wrong, for operators.
  std::vector<std::pair<std::string, std::string>> details;
};

// Join links (`/room/join/{b|a}/{token}`, docs/join.md). The cryptography comes in as functions
// (app/ wires the crypto adapter), so this layer links neither OpenSSL nor libjwt. Unset
// functions leave rooms without join links: `info` then shows empty ones.
struct JoinOptions {
  // A room's links let people in from this many minutes before its start until its end.
  std::int64_t early_minutes = 30;
  // The shared-link token of a room uid ("" when it has none), and the uid a token stands for.
  std::function<std::string(std::string_view uid)> seal_uid;
  std::function<std::optional<std::string>(std::string_view token)> open_uid;
  // Authenticated encryption of a personal link's payload, and its inverse (nullopt for a token
  // that is not one, or was altered).
  std::function<std::string(std::string_view payload)> seal;
  std::function<std::optional<std::string>(std::string_view token)> open;
  // A compact HS256 JWT of a JSON object of claims, signed with a server's app secret.
  std::function<std::string(std::string_view claims_json, std::string_view secret)> sign_jwt;
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
  JoinOptions join;
  // getRooms from a shared index (Redis), memory when it cannot answer; null: memory only. Not
  // owned; it outlives the Api.
  services::UpcomingIndex* upcoming_index = nullptr;
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
  RoomsAnswerCache& rooms_cache() { return rooms_cache_; }

 private:
  core::Service& service_;
  ApiOptions options_;
  Metrics metrics_;
  RoomsAnswerCache rooms_cache_;
};

}  // namespace roombus::http
