// roombus:demand:<server id>: each live server's newest demand forecast in Redis, for autoscalers
// that read Redis rather than the server-demand topic.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "roombus/redis/connection.hpp"
#include "roombus/services/component.hpp"
#include "roombus/services/demand.hpp"

namespace roombus::redis {

struct RedisDemandCounters {
  std::uint64_t written = 0;   // SETs and DELs Redis confirmed
  std::uint64_t failed = 0;    // refused, timed out, or Redis down (written again on reconnect)
  std::uint64_t rewrites = 0;  // whole rewrites after a reconnect
};

// Derived data, like the index: a forecast is written when it changes (DemandForecaster), with
// an expiry of three 5-minute buckets so that a forecast roombus no longer refreshes disappears
// instead of lying; after every reconnect (Redis restarted empty, flushed) every forecast is
// written again. Threads: everything on the io_context's thread; stop() before the connection.
class RedisDemand final : public services::Component {
 public:
  static constexpr std::chrono::seconds kExpiry{900};

  RedisDemand(std::shared_ptr<redis::Connection> connection, services::LogFunction log);
  ~RedisDemand() override;
  RedisDemand(const RedisDemand&) = delete;
  RedisDemand& operator=(const RedisDemand&) = delete;

  // The output to add to the DemandForecaster; valid while this object lives.
  services::DemandOutput output();
  std::string_view name() const override { return "redis_demand"; }
  void start() override;
  // What is not written yet is derived data: written again by the next forecasts.
  asio::awaitable<void> stop(Deadline deadline, bool failed) override;
  const RedisDemandCounters& counters() const { return counters_; }

  // For the writes' coroutine (a named function taking the object).
  void written(bool ok) { ok ? ++counters_.written : ++counters_.failed; }

 private:
  void put(core::ServerId server, const std::string& json);
  void remove(core::ServerId server);
  void send(redis::Argv argv);
  void watch();

  std::shared_ptr<redis::Connection> connection_;
  services::LogFunction log_;
  std::map<core::ServerId, std::string> latest_;  // what Redis should hold
  std::uint64_t written_generation_ = 0;          // the connection all of latest_ went to
  asio::steady_timer timer_;
  bool stopped_ = true;
  RedisDemandCounters counters_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// "roombus:demand:<server id>".
std::string demand_key(core::ServerId server);

}  // namespace roombus::redis
