// `roombus admin`: a small blocking HTTP/1.1 client of the admin API, for operators' shells.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace roombus::cli {

struct HttpReply {
  int status = 0;
  std::string body;
};

// One request over a fresh connection (Connection: close). `base` is "http://host:port".
// Throws std::runtime_error when the server cannot be reached or answers garbage.
HttpReply http_call(const std::string& base, const std::string& method, const std::string& path,
                    const std::string& bearer, const std::string& json_body);

// The JSON object body of an admin request, written by RapidJSON (escaping included).
class JsonBody {
 public:
  JsonBody();
  ~JsonBody();
  JsonBody& string(std::string_view key, std::string_view value);
  JsonBody& strings(std::string_view key, const std::vector<std::string>& values);
  JsonBody& boolean(std::string_view key, bool value);
  std::string take();

 private:
  struct Writer;
  std::unique_ptr<Writer> writer_;
};

// One path segment, percent-encoded (RFC 3986: everything but unreserved characters), so that an
// email such as "a/b@x" or "@domain" stays one segment.
std::string path_segment(std::string_view text);

}  // namespace roombus::cli
