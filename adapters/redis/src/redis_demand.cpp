// RedisDemand: forecasts SET with an expiry, everything written again after a reconnect.
#include "roombus/redis/redis_demand.hpp"

#include <asio/co_spawn.hpp>

namespace roombus::redis {
namespace {

constexpr std::chrono::milliseconds kTimeout{500};
constexpr std::chrono::seconds kWatchEvery{1};

// One write; the result is counted if the RedisDemand still exists.
asio::awaitable<void> write(std::shared_ptr<redis::Connection> connection, redis::Argv argv,
                            std::weak_ptr<bool> alive, RedisDemand* owner) {
  const auto deadline = std::chrono::steady_clock::now() + kTimeout;
  redis::Outcome outcome = co_await connection->command(std::move(argv), deadline);
  if (alive.expired()) co_return;
  owner->written(outcome.ok() && outcome.reply.type != redis::Reply::Type::error);
}

}  // namespace

std::string demand_key(core::ServerId server) { return "roombus:demand:" + std::to_string(server); }

RedisDemand::RedisDemand(std::shared_ptr<redis::Connection> connection, services::LogFunction log)
    : connection_(std::move(connection)),
      log_(std::move(log)),
      timer_(connection_->get_executor()) {}

RedisDemand::~RedisDemand() { alive_.reset(); }

services::DemandOutput RedisDemand::output() {
  return services::DemandOutput{
      "redis",
      [this](const core::Demand& demand, const std::string& json) { put(demand.server_id, json); },
      [this](core::ServerId server, core::Instant) { remove(server); }};
}

void RedisDemand::put(core::ServerId server, const std::string& json) {
  latest_[server] = json;
  send({"SET", demand_key(server), json, "EX", std::to_string(kExpiry.count())});
}

void RedisDemand::remove(core::ServerId server) {
  latest_.erase(server);
  send({"DEL", demand_key(server)});
}

void RedisDemand::send(redis::Argv argv) {
  if (stopped_) return;
  if (!connection_->up()) {
    // Not sent: the watch writes everything again once the connection is back.
    ++counters_.failed;
    return;
  }
  asio::co_spawn(connection_->get_executor(), write(connection_, std::move(argv), alive_, this),
                 [log = log_](std::exception_ptr e) {
                   if (!e || !log) return;
                   try {
                     std::rethrow_exception(e);
                   } catch (const std::exception& ex) {
                     log(std::string("redis demand: a write failed: ") + ex.what());
                   }
                 });
}

void RedisDemand::start() {
  stopped_ = false;
  watch();
}

asio::awaitable<void> RedisDemand::stop(Deadline, bool) {
  stopped_ = true;
  timer_.cancel();
  co_return;
}

void RedisDemand::watch() {
  if (connection_->up() && connection_->generation() != written_generation_) {
    // A new connection: the Redis behind it may have been restarted empty or flushed.
    written_generation_ = connection_->generation();
    ++counters_.rewrites;
    for (const auto& [server, json] : latest_) {
      send({"SET", demand_key(server), json, "EX", std::to_string(kExpiry.count())});
    }
  }
  timer_.expires_after(kWatchEvery);
  timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](std::error_code ec) {
    if (ec || alive.expired() || stopped_) return;
    watch();
  });
}

}  // namespace roombus::redis
