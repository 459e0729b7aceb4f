// Test support implementation: ports outside the ephemeral range, claimed by flock.
#include "support/held_port.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>

namespace roombus::test {
namespace {

constexpr const char* kLockDir = "/tmp/roombus-test-ports";

// [first, last] of the ports tests may hold: below the ephemeral range when there is room,
// otherwise above it.
std::pair<int, int> candidate_range() {
  int low = 32768;
  int high = 60999;
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  in >> low >> high;
  if (low - 1 >= 20000 + 1000) return {20000, low - 1};
  if (high + 1 <= 65535 - 1000) return {high + 1, 65535};
  throw std::runtime_error("no room outside the ephemeral port range for test ports");
}

bool bindable(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "socket");
  const int on = 1;
  // As a server binds: a port left in TIME_WAIT by an earlier run is free to listen on.
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

HeldPort::HeldPort() {
  const auto [first, last] = candidate_range();
  ::mkdir(kLockDir, 01777);
  ::chmod(kLockDir, 01777);  // mkdir honours the umask; tests run as different users share it
  std::random_device seed;
  std::uniform_int_distribution<int> pick(first, last);
  const int span = last - first + 1;
  const int start = pick(seed);
  for (int i = 0; i < span; ++i) {
    const int port = first + (start - first + i) % span;
    const std::string path = std::string(kLockDir) + "/" + std::to_string(port);
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "open " + path);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      continue;
    }
    if (!bindable(port)) {
      ::close(fd);
      continue;
    }
    lock_fd_ = fd;
    number_ = static_cast<std::uint16_t>(port);
    return;
  }
  throw std::runtime_error("no free test port");
}

HeldPort::~HeldPort() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

}  // namespace roombus::test
