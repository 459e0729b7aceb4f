// The deployment's join key (kept in the data directory or configured) and the join-link wiring.
#pragma once

#include <functional>
#include <string_view>

#include "config.hpp"
#include "roombus/crypto/join_links.hpp"
#include "roombus/http/api.hpp"

namespace roombus::app {

// --join-key/ROOMBUS_JOIN_KEY if set; else the key in <data-dir>/join-key; else a new key written
// there (mode 0600: created with O_EXCL as a temporary file, synced, renamed into place, the
// directory synced), announced through `log`. Join links sit in calendars, so the key must
// survive restarts. Call with the data directory locked (after the event store is open).
// Throws ConfigError for key material that is not a key, or a file that cannot be read or made.
crypto::JoinKey load_join_key(const ServeConfig& config,
                              const std::function<void(std::string_view)>& log);

// The HTTP layer's join-link functions on `cipher` (which must outlive them) and libjwt.
http::JoinOptions join_options(const crypto::JoinLinkCipher& cipher, std::int64_t early_minutes);

}  // namespace roombus::app
