// The admin bearer token of `roombus serve`: configured, or kept in the data directory.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "config.hpp"

namespace roombus::app {

// From configuration, else from <data-dir>/admin-token, else generated there (mode 0600) and
// printed once through `log`. Throws ConfigError when the file cannot be written.
std::string admin_token(const ServeConfig& config,
                        const std::function<void(std::string_view)>& log);

}  // namespace roombus::app
