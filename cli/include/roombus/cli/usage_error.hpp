// UsageError: what the operator got wrong on the command line; `roombus` exits 2 on it.
#pragma once

#include <stdexcept>

namespace roombus::cli {

// Kept apart from other failures (unreachable server, unreadable log: exit 1) so that scripts
// can tell "fix the invocation" from "try again".
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace roombus::cli
