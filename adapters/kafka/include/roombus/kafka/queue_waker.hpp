// Bridges a librdkafka queue into the io_context, so that no librdkafka thread runs our code.
#pragma once

#include <librdkafka/rdkafka.h>

#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <functional>
#include <memory>

namespace roombus::kafka {

// librdkafka writes one byte into a pipe whenever the queue goes from empty to non-empty
// (rd_kafka_queue_io_event_enable); Asio waits on the pipe's read end and runs `drain` on the
// io_context's thread. `drain` must empty the queue every time: a queue left non-empty never
// writes the byte again. Thread: construct, start() and stop() on the io_context's thread (or
// before it runs); destroy after stop(), or once the io_context no longer runs.
class QueueWaker {
 public:
  QueueWaker(asio::io_context& io, rd_kafka_queue_t* queue, std::function<void()> drain);
  ~QueueWaker();
  QueueWaker(const QueueWaker&) = delete;
  QueueWaker& operator=(const QueueWaker&) = delete;

  // Drains once (what was queued before the pipe was set up made no byte), then waits.
  void start();
  void stop();

 private:
  // Shared with the pending wait, so a wake-up that is already queued when stop() runs finds it
  // stopped instead of a destroyed waker.
  struct Pipe {
    explicit Pipe(asio::io_context& io) : read_end(io) {}
    asio::posix::stream_descriptor read_end;
    std::function<void()> drain;
    bool stopped = true;
  };
  static void arm(const std::shared_ptr<Pipe>& pipe);

  rd_kafka_queue_t* queue_;
  std::shared_ptr<Pipe> pipe_;
  int write_fd_ = -1;
};

}  // namespace roombus::kafka
