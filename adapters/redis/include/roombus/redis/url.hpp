// The Redis address roombus is configured with: `redis://[[user]:password@]host[:port][/db]`.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace roombus::redis {

// A URL that does not follow the grammar. what() is one line, names the part that is wrong and
// never contains the password; the application prefixes the option name and exits 2.
class UrlError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

struct Url {
  std::string host;  // a DNS name, an IPv4 address, or an IPv6 address (without brackets)
  std::uint16_t port = 6379;
  std::string user;      // empty: AUTH with the password only (the "default" user)
  std::string password;  // empty with has_password false: no AUTH at all
  bool has_password = false;
  int db = 0;  // SELECT-ed after connecting when not 0

  // The URL without its credentials, for logs and error messages: redis://host:port/db.
  std::string redacted() const;
};

// Parses strictly (throws UrlError):
// - the scheme is `redis://` (`rediss://`, TLS, is refused as unsupported);
// - user info, when present, is `user:password` or `:password` (percent-encoding allowed and
//   needed for `@`, `/`, `:` in the user, and `%`); a password may not be empty;
// - the host is a name (letters, digits, `-`, `.`), an IPv4 address or `[IPv6]`;
// - the port, when present, is 1..65535 (default 6379);
// - the database, when present, is `/` and a number 0..2^31-1 (`/` alone means 0);
// - nothing else: no query, no fragment, no whitespace.
Url parse_url(std::string_view text);

}  // namespace roombus::redis
