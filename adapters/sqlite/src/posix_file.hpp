// Small POSIX file helpers shared by the data-directory lock and the snapshot files.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace roombus::sqlite::detail {

// Owns a file descriptor.
class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor();
  FileDescriptor(FileDescriptor&& other) noexcept;
  FileDescriptor& operator=(FileDescriptor&& other) noexcept;
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;

  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  // Closes now and reports the error close() can carry (a failed deferred write).
  void close();

 private:
  int fd_ = -1;
};

// A std::system_error for errno, with "<what> <path>: <strerror>" as its message.
[[noreturn]] void throw_errno(std::string_view what, const std::filesystem::path& path);
[[noreturn]] void throw_errno(int error, std::string_view what, const std::filesystem::path& path);

FileDescriptor open_file(const std::filesystem::path& path, int flags, unsigned mode = 0644);
void write_all(const FileDescriptor& fd, std::string_view bytes, const std::filesystem::path& path);
std::string read_all(const FileDescriptor& fd, const std::filesystem::path& path);
void sync_file(const FileDescriptor& fd, const std::filesystem::path& path);
// Makes a rename or unlink in `dir` durable.
void sync_directory(const std::filesystem::path& dir);

// flock()-based exclusive lock on <dir>/LOCK, which records the holder's pid. The lock belongs to
// the open file description, so a second lock in the same process conflicts too.
class DirectoryLock {
 public:
  // Throws std::runtime_error naming the directory (and the holder's pid when it is locked).
  explicit DirectoryLock(const std::filesystem::path& dir);

 private:
  FileDescriptor fd_;
};

}  // namespace roombus::sqlite::detail
