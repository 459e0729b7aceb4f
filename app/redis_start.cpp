// With --redis: the one attempt at start-up to reach Redis (a refused password stops start-up).
#include "redis_start.hpp"

#include <asio/co_spawn.hpp>
#include <asio/use_future.hpp>
#include <chrono>
#include <future>
#include <utility>

#include "config.hpp"
#include "roombus/redis/url.hpp"

namespace roombus::app {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::seconds kConnectTimeout{2};

}  // namespace

std::shared_ptr<redis::Connection> connect_redis(asio::io_context& io, const std::string& url,
                                                 services::LogFunction log) {
  // The connection's own lines wait for the first attempt's outcome, which is reported here
  // once: as the exit-2 error, or as the reason for a degraded start.
  auto quiet = std::make_shared<bool>(true);
  redis::Connection::Options options;
  options.log = [log, quiet](std::string_view line) {
    if (!*quiet && log) log(line);
  };
  auto connection =
      redis::Connection::create(io.get_executor(), redis::parse_url(url), std::move(options));
  std::future<redis::ConnectOutcome> done = asio::co_spawn(
      io, connection->connect_once(Clock::now() + kConnectTimeout), asio::use_future);
  // Each handler run may be the attempt's last; the attempt has its own deadline.
  while (done.wait_for(std::chrono::seconds(0)) != std::future_status::ready) io.run_one();
  io.restart();  // run() comes later
  const redis::ConnectOutcome outcome = done.get();
  if (outcome.is_config_error()) throw ConfigError("--redis/ROOMBUS_REDIS_URL: " + outcome.text);
  *quiet = false;
  if (log) {
    log(outcome.ok() ? outcome.text
                     : outcome.text +
                           "; starting without it (getRooms from memory), retrying "
                           "in the background");
  }
  connection->start();
  return connection;
}

}  // namespace roombus::app
