// POSIX file helpers: owned descriptors, full reads and writes, fsync, the directory lock.
#include "posix_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace roombus::sqlite::detail {

FileDescriptor::~FileDescriptor() {
  if (fd_ >= 0) ::close(fd_);
}

FileDescriptor::FileDescriptor(FileDescriptor&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)) {}

FileDescriptor& FileDescriptor::operator=(FileDescriptor&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void FileDescriptor::close() {
  const int fd = std::exchange(fd_, -1);
  // Retrying close() after EINTR may close a descriptor another thread just opened.
  if (fd >= 0 && ::close(fd) != 0 && errno != EINTR) {
    throw std::system_error(errno, std::system_category(), "close");
  }
}

void throw_errno(int error, std::string_view what, const std::filesystem::path& path) {
  throw std::system_error(error, std::system_category(), std::string(what) + " " + path.string());
}

void throw_errno(std::string_view what, const std::filesystem::path& path) {
  throw_errno(errno, what, path);
}

FileDescriptor open_file(const std::filesystem::path& path, int flags, unsigned mode) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) throw_errno("cannot open", path);
  return FileDescriptor(fd);
}

void write_all(const FileDescriptor& fd, std::string_view bytes,
               const std::filesystem::path& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd.get(), bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("cannot write", path);
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string read_all(const FileDescriptor& fd, const std::filesystem::path& path) {
  std::string bytes;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("cannot read", path);
    }
    if (n == 0) return bytes;
    bytes.append(buffer, static_cast<std::size_t>(n));
  }
}

void sync_file(const FileDescriptor& fd, const std::filesystem::path& path) {
  if (::fsync(fd.get()) != 0) throw_errno("cannot fsync", path);
}

void sync_directory(const std::filesystem::path& dir) {
  const FileDescriptor fd = open_file(dir, O_RDONLY | O_DIRECTORY);
  sync_file(fd, dir);
}

DirectoryLock::DirectoryLock(const std::filesystem::path& dir) {
  const std::filesystem::path file = dir / "LOCK";
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw std::runtime_error("data directory " + dir.string() + " is not writable: cannot open " +
                             file.string() + ": " + std::strerror(errno));
  }
  fd_ = FileDescriptor(fd);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    if (error != EWOULDBLOCK) {
      throw std::runtime_error("cannot lock " + file.string() + ": " + std::strerror(error));
    }
    std::string holder = "unknown";
    try {
      std::string text = read_all(fd_, file);
      long long pid = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
      if (ec == std::errc() && end != text.data() && pid > 0) holder = std::to_string(pid);
    } catch (const std::exception&) {
      // The pid is a courtesy for the operator; the lock itself already answered.
    }
    throw std::runtime_error("data directory " + dir.string() +
                             " is in use by another roombus process (pid " + holder + ")");
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0) {
    throw std::runtime_error("cannot write " + file.string() + ": " + std::strerror(errno));
  }
  try {
    write_all(fd_, pid, file);
  } catch (const std::system_error& e) {
    throw std::runtime_error(e.what());
  }
}

}  // namespace roombus::sqlite::detail
