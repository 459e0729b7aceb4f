// How late lifecycle events reach a Kafka consumer: reads room-events from the beginning, and for
// each room.starting/started/ended record prints how long after its `due` instant it arrived
// (wall clock, milliseconds), then p50/p99/max per type.
//   lifecycle_lag BOOTSTRAPS TOPIC EXPECTED_FACTS SECONDS
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "bench_consumer.hpp"

namespace {

[[noreturn]] void usage() {
  std::fprintf(stderr, "usage: lifecycle_lag BOOTSTRAPS TOPIC EXPECTED_FACTS SECONDS\n");
  std::exit(2);
}

// The string value of "name":"..." in a flat search of `json`.
std::string_view member(std::string_view json, std::string_view name) {
  const std::string key = "\"" + std::string(name) + "\":\"";
  const auto at = json.find(key);
  if (at == std::string_view::npos) return {};
  const auto from = at + key.size();
  return json.substr(from, json.find('"', from) - from);
}

// "YYYY-mm-ddTHH:MM:SSZ" as Unix milliseconds.
long long iso_ms(std::string_view t) {
  std::tm tm{};
  if (t.size() != 20) return -1;
  tm.tm_year = std::atoi(std::string(t.substr(0, 4)).c_str()) - 1900;
  tm.tm_mon = std::atoi(std::string(t.substr(5, 2)).c_str()) - 1;
  tm.tm_mday = std::atoi(std::string(t.substr(8, 2)).c_str());
  tm.tm_hour = std::atoi(std::string(t.substr(11, 2)).c_str());
  tm.tm_min = std::atoi(std::string(t.substr(14, 2)).c_str());
  tm.tm_sec = std::atoi(std::string(t.substr(17, 2)).c_str());
  return static_cast<long long>(timegm(&tm)) * 1000;
}

double percentile(const std::vector<long long>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size()));
  return static_cast<double>(sorted[std::min(sorted.size() - 1, rank)]);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) usage();
  const std::string topic = argv[2];
  const long expected = std::atol(argv[3]);
  const double seconds = std::atof(argv[4]);
  if (expected < 1 || seconds <= 0) usage();

  rd_kafka_t* rk =
      bench::assigned_consumer("lifecycle_lag", argv[1], topic, RD_KAFKA_OFFSET_BEGINNING);

  std::map<std::string, std::vector<long long>> lag_ms;
  long facts = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (facts < expected && std::chrono::steady_clock::now() < until) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 50);
    if (m == nullptr) continue;
    const long long now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && m->payload != nullptr) {
      const std::string_view value(static_cast<const char*>(m->payload), m->len);
      const std::string_view due = member(value, "due");
      if (!due.empty()) {
        lag_ms[std::string(member(value, "type"))].push_back(now_ms - iso_ms(due));
        ++facts;
      }
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  for (auto& [type, lags] : lag_ms) {
    std::sort(lags.begin(), lags.end());
    std::printf("%s count=%zu lag_ms_p50=%.0f p99=%.0f max=%.0f\n", type.c_str(), lags.size(),
                percentile(lags, 50), percentile(lags, 99), percentile(lags, 100));
  }
  std::printf("facts=%ld expected=%ld\n", facts, expected);
  return facts >= expected ? 0 : 1;
}
