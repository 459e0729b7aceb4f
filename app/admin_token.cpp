// The admin token file: read, or generated on first start.
#include "admin_token.hpp"

#include <sys/stat.h>

#include <fstream>

#include "roombus/crypto/ids.hpp"

namespace roombus::app {

std::string admin_token(const ServeConfig& config,
                        const std::function<void(std::string_view)>& log) {
  if (!config.admin_token.empty()) return config.admin_token;
  auto file = config.data_dir / "admin-token";
  std::ifstream in(file);
  std::string token;
  if (in && std::getline(in, token) && token.size() >= 16) return token;
  token = crypto::random_token(32);
  {
    std::ofstream out(file, std::ios::trunc);
    out << token << '\n';
    if (!out) throw ConfigError("--data-dir: cannot write " + file.string());
  }
  ::chmod(file.c_str(), 0600);
  log("generated an admin token (kept in " + file.string() + "): " + token);
  return token;
}

}  // namespace roombus::app
