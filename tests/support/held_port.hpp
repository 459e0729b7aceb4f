// Test support: a loopback port held for a server the test starts itself (redis-server), so no
// other test and no outgoing connection can take it, even across that server's restarts.
#pragma once

#include <cstdint>

namespace roombus::test {

// A port on 127.0.0.1 that this process holds until the object is destroyed. Freeing a port the
// kernel picked and handing its number to a child races with every other bind on the machine
// (a parallel test, an outgoing connection's ephemeral port). Instead the port comes from outside
// the kernel's ephemeral range (net.ipv4.ip_local_port_range), so no connection is ever given it,
// and is claimed with an exclusive flock on /tmp/roombus-test-ports/<port>, which every test
// process honours; the lock dies with the process, so a crashed test frees its ports. A port that
// something outside the tests listens on is skipped (a bind is tried before it is handed out).
class HeldPort {
 public:
  HeldPort();
  ~HeldPort();
  HeldPort(const HeldPort&) = delete;
  HeldPort& operator=(const HeldPort&) = delete;

  std::uint16_t number() const { return number_; }

 private:
  int lock_fd_ = -1;
  std::uint16_t number_ = 0;
};

}  // namespace roombus::test
