// load_join_key: the join key's file in the data directory, made once and checked at every step.
#include "join_key.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "roombus/crypto/jwt.hpp"

namespace roombus::app {
namespace {

constexpr std::string_view kOption = "--data-dir/ROOMBUS_DATA_DIR: ";

[[noreturn]] void fail(const std::string& what, const std::filesystem::path& path, int error) {
  throw ConfigError(std::string(kOption) + what + " " + path.string() + ": " +
                    std::strerror(error));
}

void write_all(int fd, std::string_view data, const std::filesystem::path& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("cannot write", path, n < 0 ? errno : EIO);
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

void sync_directory(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail("cannot open", dir, errno);
  if (::fsync(fd) != 0) {
    int error = errno;
    ::close(fd);
    fail("cannot sync", dir, error);
  }
  ::close(fd);
}

// Writes a fresh key to `file` through a temporary file, so that a crash never leaves a file
// holding part of a key (which would make the next start refuse to run).
std::string create_key_file(const std::filesystem::path& file) {
  std::filesystem::path temporary = file;
  temporary += ".tmp";
  // A leftover of a start that crashed half-way: never used, safe to drop (the data directory is
  // locked, so no other roombus is writing it).
  if (::unlink(temporary.c_str()) != 0 && errno != ENOENT) fail("cannot remove", temporary, errno);
  std::string key = crypto::generate_join_key();
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) fail("cannot create", temporary, errno);
  try {
    write_all(fd, key + "\n", temporary);
    if (::fsync(fd) != 0) fail("cannot sync", temporary, errno);
    int closed = ::close(fd);
    fd = -1;
    if (closed != 0) fail("cannot close", temporary, errno);
    if (::rename(temporary.c_str(), file.c_str()) != 0) fail("cannot rename", temporary, errno);
  } catch (...) {
    if (fd >= 0) ::close(fd);
    ::unlink(temporary.c_str());
    throw;
  }
  sync_directory(file.parent_path().empty() ? "." : file.parent_path());
  return key;
}

}  // namespace

crypto::JoinKey load_join_key(const ServeConfig& config,
                              const std::function<void(std::string_view)>& log) {
  if (!config.join_key.empty()) {
    auto key = crypto::parse_join_key(config.join_key);
    if (!key) throw ConfigError(join_key_format_error());
    return *key;
  }
  std::filesystem::path file = config.data_dir / "join-key";
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno != ENOENT) fail("cannot read", file, errno);
  if (fd >= 0) {
    std::string key_text(128, '\0');
    ssize_t n = 0;
    do {
      n = ::read(fd, key_text.data(), key_text.size());
    } while (n < 0 && errno == EINTR);
    int error = errno;
    ::close(fd);
    if (n < 0) fail("cannot read", file, error);
    key_text.resize(static_cast<std::size_t>(n));
    if (!key_text.empty() && key_text.back() == '\n') key_text.pop_back();
    auto key = crypto::parse_join_key(key_text);
    if (!key) {
      throw ConfigError(std::string(kOption) + file.string() +
                        " does not hold a join key (43 base64url characters): restore it from a "
                        "backup, or remove it to make a new one (every join link handed out "
                        "stops working)");
    }
    return *key;
  }
  std::string key_text = create_key_file(file);
  log("generated a join key (kept in " + file.string() +
      "): back it up with the data; every join link depends on it");
  return *crypto::parse_join_key(key_text);
}

http::JoinOptions join_options(const crypto::JoinLinkCipher& cipher, std::int64_t early_minutes) {
  const crypto::JoinLinkCipher* c = &cipher;
  http::JoinOptions join;
  join.early_minutes = early_minutes;
  join.seal_uid = [c](std::string_view uid) { return c->seal_uid(uid); };
  join.open_uid = [c](std::string_view token) { return c->open_uid(token); };
  join.seal = [c](std::string_view payload) { return c->seal(payload); };
  join.open = [c](std::string_view token) { return c->open(token); };
  join.sign_jwt = [](std::string_view claims, std::string_view secret) {
    return crypto::sign_jwt_hs256(claims, secret);
  };
  return join;
}

}  // namespace roombus::app
