// With --redis: the one attempt at start-up to reach Redis (a refused password stops start-up).
#pragma once

#include <asio/io_context.hpp>
#include <memory>
#include <string>

#include "roombus/redis/connection.hpp"
#include "roombus/services/component.hpp"

namespace roombus::app {

// The connection to `url` (valid: config checked it) and one attempt (AUTH, SELECT, PING),
// driving `io` until it completes (call before io.run()). A refused password or database throws
// ConfigError (exit 2) with nothing else logged; an unreachable Redis is one log line and only
// degrades the service. The connection is then started: it reconnects in the background until
// stopped.
std::shared_ptr<redis::Connection> connect_redis(asio::io_context& io, const std::string& url,
                                                 services::LogFunction log);

}  // namespace roombus::app
