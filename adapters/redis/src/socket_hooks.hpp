// hiredis 0.14's event hooks (addRead/delRead/addWrite/delWrite/cleanup) mapped onto async_wait
// of the context's socket: the Asio counterpart of hiredis's own libuv and Qt adapters.
#pragma once

#include <hiredis/async.h>

#include <asio/any_io_executor.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <memory>

namespace roombus::redis {

// Owned by the hiredis context from attach() until hiredis calls cleanup (when it frees the
// context); pending waits keep it alive a little longer. hiredis owns and closes the fd, so
// cleanup release()s it (which also cancels the waits) before hiredis closes it.
class SocketHooks : public std::enable_shared_from_this<SocketHooks> {
 public:
  static void attach(const asio::any_io_executor& executor, redisAsyncContext* ac);
  SocketHooks(const SocketHooks&) = delete;
  SocketHooks& operator=(const SocketHooks&) = delete;

 private:
  enum Direction { reading = 0, writing = 1 };
  struct Interest {
    bool wanted = false;
    bool armed = false;  // an async_wait is pending in this direction
  };

  SocketHooks(const asio::any_io_executor& executor, redisAsyncContext* ac);
  void want(Direction d, bool on);
  void arm(Direction d);
  void cleanup();

  redisAsyncContext* ac_;  // null once hiredis has called cleanup
  asio::posix::stream_descriptor socket_;
  Interest interest_[2];
  std::shared_ptr<SocketHooks> self_;  // the context's reference, dropped in cleanup
};

}  // namespace roombus::redis
