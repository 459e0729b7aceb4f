// Prometheus text rendering of the HTTP adapter's counters and latency histogram.
#include "roombus/http/metrics.hpp"

#include <cstdio>

#include "roombus/services/component.hpp"

namespace roombus::http {

using services::append_sample;

void Metrics::observe_request(std::string_view route, int status, double seconds) {
  auto key = std::make_pair(std::string(route), status);
  ++requests_[key];
  auto it = latency_.find(route);
  if (it == latency_.end()) it = latency_.emplace(std::string(route), Histogram{}).first;
  Histogram& h = it->second;
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::count_error(std::string_view kind) {
  auto it = errors_.find(kind);
  if (it == errors_.end()) it = errors_.emplace(std::string(kind), 0).first;
  ++it->second;
}

void Metrics::count_join(std::string_view link, std::string_view outcome) {
  ++joins_[std::make_pair(std::string(link), std::string(outcome))];
}

void Metrics::count_rooms_answer(bool from_index, bool cached) {
  ++(from_index ? rooms_from_index_ : rooms_from_memory_);
  if (cached) ++rooms_from_cache_;
}

void Metrics::render(std::string& out) const {
  out += "# HELP roombus_http_requests_total HTTP requests answered, by route and status.\n";
  out += "# TYPE roombus_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    append_sample(out, "roombus_http_requests_total",
                  "route=\"" + key.first + "\",status=\"" + std::to_string(key.second) + "\"",
                  static_cast<double>(n));
  }
  out += "# HELP roombus_http_request_duration_seconds Time from parsed request to response.\n";
  out += "# TYPE roombus_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      char le[32];
      std::snprintf(le, sizeof le, "%g", kBuckets[i]);
      append_sample(out, "roombus_http_request_duration_seconds_bucket",
                    "route=\"" + route + "\",le=\"" + le + "\"", static_cast<double>(h.buckets[i]));
    }
    append_sample(out, "roombus_http_request_duration_seconds_bucket",
                  "route=\"" + route + "\",le=\"+Inf\"", static_cast<double>(h.count));
    append_sample(out, "roombus_http_request_duration_seconds_sum", "route=\"" + route + "\"",
                  h.sum);
    append_sample(out, "roombus_http_request_duration_seconds_count", "route=\"" + route + "\"",
                  static_cast<double>(h.count));
  }
  out += "# HELP roombus_errors_total Errors by kind.\n";
  out += "# TYPE roombus_errors_total counter\n";
  for (const auto& [kind, n] : errors_) {
    append_sample(out, "roombus_errors_total", "kind=\"" + kind + "\"", static_cast<double>(n));
  }
  out += "# HELP roombus_joins_total Join-link requests, by link kind and outcome.\n";
  out += "# TYPE roombus_joins_total counter\n";
  for (const auto& [key, n] : joins_) {
    append_sample(out, "roombus_joins_total",
                  "link=\"" + key.first + "\",outcome=\"" + key.second + "\"",
                  static_cast<double>(n));
  }
  out += "# HELP roombus_get_rooms_answers_total getRooms answers by source: the Redis index, or ";
  out += "memory (no index configured, or it could not answer in sync and in time).\n";
  out += "# TYPE roombus_get_rooms_answers_total counter\n";
  append_sample(out, "roombus_get_rooms_answers_total", "source=\"redis\"",
                static_cast<double>(rooms_from_index_));
  append_sample(out, "roombus_get_rooms_answers_total", "source=\"memory\"",
                static_cast<double>(rooms_from_memory_));
  out += "# HELP roombus_get_rooms_cached_total getRooms answers (from either source) that reused ";
  out += "an answer rendered earlier in the same second under the same version of the server's ";
  out += "rooms.\n";
  out += "# TYPE roombus_get_rooms_cached_total counter\n";
  append_sample(out, "roombus_get_rooms_cached_total", "", static_cast<double>(rooms_from_cache_));
}

}  // namespace roombus::http
