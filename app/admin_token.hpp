// The admin bearer token of /admin/v1: from configuration, from the data directory, or generated.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "config.hpp"

namespace roombus::app {

// `--admin-token` when set. Otherwise <data-dir>/admin-token, which must be a regular file (not
// a symlink) owned by this user, with no permissions for group or others (0600 or 0400), holding
// one line of 16 to 1024 visible ASCII characters. If it does not exist, a fresh token (256
// random bits, 43 characters) is written there: a temp file created 0600 (O_CREAT|O_EXCL), written,
// fsynced, renamed into place, and the directory fsynced; `log` is told the token once. Every
// refusal and failure is a ConfigError (exit 2) naming the file and what to do.
// Blocking; call it once at start-up, after the data directory is locked.
std::string admin_token(const ServeConfig& config,
                        const std::function<void(std::string_view)>& log);

}  // namespace roombus::app
