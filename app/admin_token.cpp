// The admin token file: read and checked, or created 0600 from the start, every step checked.
#include "admin_token.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "roombus/crypto/ids.hpp"

namespace roombus::app {
namespace {

constexpr std::size_t kMinLength = 16;
constexpr std::size_t kMaxLength = 1024;

// Closes on every path, so that no early throw leaks the descriptor.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Closing can report a write error of its own (NFS); an unchecked close could hide it.
  int release_and_close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

[[noreturn]] void fail(const std::filesystem::path& file, std::string_view what) {
  throw ConfigError("--data-dir/ROOMBUS_DATA_DIR: " + file.string() + ": " + std::string(what));
}

[[noreturn]] void fail_errno(const std::filesystem::path& file, std::string_view step) {
  fail(file, std::string(step) + ": " + std::strerror(errno));
}

std::string read_token(const std::filesystem::path& file, int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail_errno(file, "cannot stat");
  if (!S_ISREG(st.st_mode)) fail(file, "is not a regular file");
  if (st.st_uid != ::geteuid()) {
    fail(file, "belongs to another user (uid " + std::to_string(st.st_uid) +
                   "); it must be this user's, mode 0600");
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    fail(file, "is accessible to other users (mode " + std::string(mode) +
                   "); run chmod 600 on it, or remove it to have a new token generated");
  }
  std::string content(kMaxLength + 2, '\0');
  std::size_t used = 0;
  for (;;) {
    const ssize_t n = ::read(fd, content.data() + used, content.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_errno(file, "cannot read");
    if (n == 0 || (used += static_cast<std::size_t>(n)) == content.size()) break;
  }
  content.resize(used);
  std::string token = content.substr(0, content.find('\n'));
  if (!token.empty() && token.back() == '\r') token.pop_back();
  if (token.size() < kMinLength || token.size() > kMaxLength) {
    fail(file, "holds a token of " + std::to_string(token.size()) +
                   " characters on its first line; it needs 16 to 1024 (remove the file to have "
                   "a new one generated)");
  }
  for (char c : token) {
    if (c < 0x21 || c > 0x7e) {
      fail(file, "holds a token with a space or a control character; it must be visible ASCII");
    }
  }
  return token;
}

void write_all(const std::filesystem::path& file, int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail_errno(file, "cannot write");
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string create_token(const std::filesystem::path& file) {
  const std::string token = crypto::random_token(32);
  std::filesystem::path temp = file;
  temp += ".tmp";
  // A temp file left by a crash during an earlier creation (the data directory lock is ours).
  if (::unlink(temp.c_str()) != 0 && errno != ENOENT) fail_errno(temp, "cannot remove");
  Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0) fail_errno(temp, "cannot create");
  try {
    // The umask can only take bits away; anything else here means the file system ignores modes.
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) fail_errno(temp, "cannot stat");
    if ((st.st_mode & 077) != 0) fail(temp, "was not created with mode 0600");
    write_all(temp, fd.get(), token + "\n");
    if (::fsync(fd.get()) != 0) fail_errno(temp, "cannot fsync");
    if (fd.release_and_close() != 0) fail_errno(temp, "cannot close");
    if (::rename(temp.c_str(), file.c_str()) != 0)
      fail_errno(file, "cannot rename the temp file to");
  } catch (...) {
    ::unlink(temp.c_str());
    throw;
  }
  // The rename is durable only once the directory is.
  const std::filesystem::path dir = file.parent_path().empty() ? "." : file.parent_path();
  Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() < 0) fail_errno(dir, "cannot open the directory");
  if (::fsync(dir_fd.get()) != 0) fail_errno(dir, "cannot fsync the directory");
  if (dir_fd.release_and_close() != 0) fail_errno(dir, "cannot close the directory");
  return token;
}

}  // namespace

std::string admin_token(const ServeConfig& config,
                        const std::function<void(std::string_view)>& log) {
  if (!config.admin_token.empty()) return config.admin_token;
  const std::filesystem::path file = config.data_dir / "admin-token";
  Fd fd(::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() >= 0) return read_token(file, fd.get());
  if (errno == ELOOP) fail(file, "is a symbolic link; it must be a regular file");
  if (errno != ENOENT) fail_errno(file, "cannot open");
  std::string token = create_token(file);
  log("generated an admin token (kept in " + file.string() + ", mode 0600): " + token);
  return token;
}

}  // namespace roombus::app
