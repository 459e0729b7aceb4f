// Api: dispatches requests to the v1, admin, health and metrics handlers and measures them.
#include "roombus/http/api.hpp"

#include <chrono>

#include "api_internal.hpp"
#include "roombus/json/php_json_writer.hpp"
#include "roombus/services/component.hpp"

namespace roombus::http {
namespace {

using services::append_sample;

Response plain(int status, std::string body) { return Response::text(status, std::move(body)); }

// {"ready":true,"checks":{"log":"ok","redis":"off","kafka":"down"},"detail":{"kafka":"..."}}
Response readiness_reply(const Readiness& readiness) {
  json::PhpJsonWriter w;
  w.start_object().key("ready").boolean(readiness.ready).key("checks").start_object();
  for (const auto& [name, state] : readiness.checks) w.key(name).string(state);
  w.end_object();
  if (!readiness.details.empty()) {
    w.key("detail").start_object();
    for (const auto& [name, text] : readiness.details) w.key(name).string(text);
    w.end_object();
  }
  w.end_object();
  Response r = detail::json(readiness.ready ? 200 : 503, w.take());
  r.set_header("Cache-Control", "no-store");
  return r;
}

void render_metrics(Api& api, std::string& out) {
  const core::State& state = api.service().state();
  std::size_t live_servers = 0;
  for (const auto& [id, s] : state.servers()) live_servers += s.deleted ? 0 : 1;
  out += "# HELP roombus_rooms Rooms that are scheduled (not deleted).\n";
  out += "# TYPE roombus_rooms gauge\n";
  append_sample(out, "roombus_rooms", "", static_cast<double>(state.live_room_count()));
  out += "# HELP roombus_servers Servers that are not deleted.\n";
  out += "# TYPE roombus_servers gauge\n";
  append_sample(out, "roombus_servers", "", static_cast<double>(live_servers));
  out += "# HELP roombus_log_position Position of the newest event applied in memory.\n";
  out += "# TYPE roombus_log_position gauge\n";
  append_sample(out, "roombus_log_position", "", static_cast<double>(state.position()));
  out += "# HELP roombus_commands_in_flight Commands decided but not yet durable.\n";
  out += "# TYPE roombus_commands_in_flight gauge\n";
  append_sample(out, "roombus_commands_in_flight", "",
                static_cast<double>(api.service().in_flight()));
  api.metrics().render(out);
  if (api.options().extra_metrics) api.options().extra_metrics(out);
}

// Everything outside /api/v1/ and /admin/v1/: answered at once.
detail::Routed route_other(Api& api, const Request& request) {
  const std::string& path = request.path;
  if (path.starts_with("/room/join/")) return detail::route_join(api, request);
  bool read = request.method == "GET" || request.method == "HEAD";
  if (path == "/healthz") {
    return detail::Routed{"healthz", read ? plain(200, "ok\n") : plain(405, "use GET\n")};
  }
  if (path == "/readyz") {
    if (!read) return detail::Routed{"readyz", plain(405, "use GET\n")};
    Readiness readiness = api.options().readiness ? api.options().readiness() : Readiness{};
    return detail::Routed{"readyz", readiness_reply(readiness)};
  }
  if (path == "/metrics") {
    if (!read) return detail::Routed{"metrics", plain(405, "use GET\n")};
    std::string body;
    render_metrics(api, body);
    return detail::Routed{"metrics", plain(200, std::move(body))};
  }
  return detail::Routed{"not_found", detail::json(404, "{\"error\":true,\"text\":\"Not Found\"}")};
}

}  // namespace

Api::Api(core::Service& service, ApiOptions options)
    : service_(service), options_(std::move(options)) {}

asio::awaitable<Response> Api::handle(Request& request) {
  auto started = std::chrono::steady_clock::now();
  try {
    // The two routers that may await are awaited here, not through a coroutine of dispatch:
    // every nested coroutine frame per request showed in profiles.
    detail::Routed routed;
    if (request.path.starts_with("/api/v1/")) {
      routed = co_await detail::route_v1(*this, request);
    } else if (request.path.starts_with("/admin/v1/")) {
      routed = co_await detail::route_admin(*this, request);
    } else {
      routed = route_other(*this, request);
    }
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    metrics_.observe_request(routed.route, routed.response.status, took.count());
    if (routed.response.status == 503) metrics_.count_error("unavailable");
    co_return std::move(routed.response);
  } catch (...) {
    metrics_.count_error("handler_exception");
    throw;  // the server answers 500 and logs it
  }
}

}  // namespace roombus::http
