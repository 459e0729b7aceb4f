// `roombus admin`: a small blocking HTTP/1.1 client of the admin API, for operators' shells.
#pragma once

#include <string>

namespace roombus::app {

struct HttpReply {
  int status = 0;
  std::string body;
};

// One request over a fresh connection (Connection: close). `base` is "http://host:port".
// Throws std::runtime_error when the server cannot be reached or answers garbage.
HttpReply http_call(const std::string& base, const std::string& method, const std::string& path,
                    const std::string& bearer, const std::string& json_body);

}  // namespace roombus::app
