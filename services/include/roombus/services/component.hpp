// The one interface of every part of `roombus serve`: started in order, stopped in reverse,
// each with its checks for /readyz and its Prometheus metrics.
#pragma once

#include <asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace roombus::services {

// One line of the process's log (thread-safe; the Runtime prefixes time and name).
using LogFunction = std::function<void(std::string_view)>;

// One dependency's line in /readyz.
struct Check {
  std::string name;
  std::string state;  // "ok", "down" or "off"
  std::string detail;
  bool required = false;  // down: the service cannot take commands (503)
};

// Threads: every member on the io_context's thread (the Runtime's); none blocks it except where
// stop() says so. Ownership: the Runtime owns the components, and a component outlives everything
// started after it.
class Component {
 public:
  using Deadline = std::chrono::steady_clock::time_point;
  virtual ~Component() = default;

  // Short, stable ("log", "http", "kafka_relay", ...): for logs.
  virtual std::string_view name() const = 0;

  // In start order, once every component started before it runs. Throws when it cannot start
  // (the process then stops with the message).
  virtual void start() {}

  // In reverse start order, each once the later ones have stopped: finish what is owed (answers
  // in flight, events made durable, deliveries acknowledged) until `deadline` at the latest, then
  // let go of what it holds. Waits without blocking the io_context, except for short local work
  // (a final flush, closing a file) that must not be cut short. `failed`: the log failed, so only
  // what is already durable counts: answer and let go at once. Never throws.
  virtual asio::awaitable<void> stop(Deadline deadline, bool failed);

  // /readyz lines and /metrics text (HELP, TYPE and samples). Never block.
  virtual void check(std::vector<Check>&) const {}
  virtual void metrics(std::string&) const {}
};

// Prometheus text for metrics(): the "# HELP" and "# TYPE" lines, one sample line
// (`name{labels} value`), and a metric of one sample without labels.
void describe(std::string& out, std::string_view name, std::string_view type,
              std::string_view help);
void append_sample(std::string& out, std::string_view name, std::string_view labels, double value);
void single(std::string& out, std::string_view name, std::string_view type, std::string_view help,
            double value);

}  // namespace roombus::services
