// Prometheus metrics of the HTTP adapter: request counts by route and status, latency histogram.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>

namespace roombus::http {

// Single-threaded (the io_context's thread), like everything it measures.
class Metrics {
 public:
  static constexpr std::array<double, 12> kBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                   0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

  void observe_request(std::string_view route, int status, double seconds);
  // Domain or infrastructure errors by kind ("storage_failed", "handler_exception", ...).
  void count_error(std::string_view kind);
  // Join-link requests by link kind ("shared", "personal", "unknown") and outcome ("joined",
  // "form", "too_early", "ended", "bad_name", "not_found").
  void count_join(std::string_view link, std::string_view outcome);
  // A getRooms answer: from the index (Redis; `cached`: an answer rendered from it earlier and
  // still valid) or from memory.
  void count_rooms_answer(bool from_index, bool cached);

  // The counters and the histogram in the Prometheus text exposition format (0.0.4).
  void render(std::string& out) const;

 private:
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> buckets{};
    std::uint64_t count = 0;
    double sum = 0;
  };
  std::map<std::pair<std::string, int>, std::uint64_t, std::less<>> requests_;
  std::map<std::string, Histogram, std::less<>> latency_;
  std::map<std::string, std::uint64_t, std::less<>> errors_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> joins_;
  std::uint64_t rooms_from_index_ = 0;
  std::uint64_t rooms_from_cache_ = 0;
  std::uint64_t rooms_from_memory_ = 0;
};

}  // namespace roombus::http
