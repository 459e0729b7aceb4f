// QueueWaker: a pipe that librdkafka writes to and Asio waits on.
#include "roombus/kafka/queue_waker.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace roombus::kafka {

QueueWaker::QueueWaker(asio::io_context& io, rd_kafka_queue_t* queue, std::function<void()> drain)
    : queue_(queue), pipe_(std::make_shared<Pipe>(io)) {
  pipe_->drain = std::move(drain);
  int fds[2];
  // Not an eventfd: librdkafka writes a 1-byte payload, and an eventfd takes only 8-byte writes.
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
    throw std::system_error(errno, std::generic_category(), "pipe2");
  }
  pipe_->read_end.assign(fds[0]);
  write_fd_ = fds[1];
  rd_kafka_queue_io_event_enable(queue_, write_fd_, "1", 1);
}

QueueWaker::~QueueWaker() {
  stop();
  rd_kafka_queue_io_event_enable(queue_, -1, nullptr, 0);
  ::close(write_fd_);
}

void QueueWaker::start() {
  pipe_->stopped = false;
  pipe_->drain();
  arm(pipe_);
}

void QueueWaker::stop() {
  pipe_->stopped = true;
  std::error_code ignored;
  pipe_->read_end.cancel(ignored);
}

void QueueWaker::arm(const std::shared_ptr<Pipe>& pipe) {
  if (pipe->stopped) return;
  pipe->read_end.async_wait(asio::posix::stream_descriptor::wait_read, [pipe](std::error_code ec) {
    if (ec || pipe->stopped) return;
    char sink[256];
    while (::read(pipe->read_end.native_handle(), sink, sizeof sink) > 0) {
    }
    pipe->drain();
    arm(pipe);
  });
}

}  // namespace roombus::kafka
