// The hiredis event hooks on Asio: one async_wait per wanted direction, re-armed after each event.
#include "socket_hooks.hpp"

namespace roombus::redis {

void SocketHooks::attach(const asio::any_io_executor& executor, redisAsyncContext* ac) {
  std::shared_ptr<SocketHooks> hooks(new SocketHooks(executor, ac));
  hooks->self_ = hooks;
  ac->ev.data = hooks.get();
  ac->ev.addRead = [](void* p) { static_cast<SocketHooks*>(p)->want(reading, true); };
  ac->ev.delRead = [](void* p) { static_cast<SocketHooks*>(p)->want(reading, false); };
  ac->ev.addWrite = [](void* p) { static_cast<SocketHooks*>(p)->want(writing, true); };
  ac->ev.delWrite = [](void* p) { static_cast<SocketHooks*>(p)->want(writing, false); };
  ac->ev.cleanup = [](void* p) { static_cast<SocketHooks*>(p)->cleanup(); };
}

SocketHooks::SocketHooks(const asio::any_io_executor& executor, redisAsyncContext* ac)
    : ac_(ac), socket_(executor, ac->c.fd) {}

void SocketHooks::want(Direction d, bool on) {
  interest_[d].wanted = on;
  if (on) arm(d);
}

void SocketHooks::arm(Direction d) {
  if (interest_[d].armed || !interest_[d].wanted || ac_ == nullptr) return;
  interest_[d].armed = true;
  socket_.async_wait(d == reading ? asio::posix::stream_descriptor::wait_read
                                  : asio::posix::stream_descriptor::wait_write,
                     [self = shared_from_this(), d](std::error_code ec) {
                       self->interest_[d].armed = false;
                       if (ec || self->ac_ == nullptr || !self->interest_[d].wanted) return;
                       // Either call may run reply callbacks, or free the context (then cleanup
                       // clears ac_).
                       if (d == reading) {
                         redisAsyncHandleRead(self->ac_);
                       } else {
                         redisAsyncHandleWrite(self->ac_);
                       }
                       self->arm(d);
                     });
}

void SocketHooks::cleanup() {
  auto keep = std::move(self_);  // this object may outlive the call only through pending waits
  ac_ = nullptr;
  socket_.release();  // cancels the pending waits; hiredis closes the fd right after
}

}  // namespace roombus::redis
