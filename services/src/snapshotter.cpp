// Snapshotter: forks a child that writes the state's snapshot, waits for it, hands the file over.
#include "roombus/services/snapshotter.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace roombus::services {
namespace {

constexpr std::chrono::seconds kFirstRetry{1};
constexpr std::chrono::seconds kLongestRetry{300};

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

void report(int fd, std::string_view why) {
  while (!why.empty()) {
    const ssize_t n = ::write(fd, why.data(), why.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    why.remove_prefix(static_cast<std::size_t>(n));
  }
}

// The child: only the forking thread exists here, so it touches nothing another thread of the
// parent could have held locked (glibc's malloc and stdio are reset at fork; the store's part
// takes no lock). It never returns into the parent's code: _exit skips atexit and destructors.
[[noreturn]] void run_child(const core::State& state, const core::SnapshotStore& store,
                            std::int64_t position, int error_fd, pid_t parent) {
  // Dies with the parent: a restart must not find the data directory's lock still held.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(3);
  // The lock is an flock() shared with every copy of its descriptor: close them all but the pipe.
  if (error_fd > 3) ::close_range(3, static_cast<unsigned>(error_fd) - 1, 0);
  ::close_range(static_cast<unsigned>(error_fd) + 1, ~0U, 0);
  int code = 1;
  try {
    store.write_unpublished(position, state);
    code = 0;
  } catch (const std::exception& e) {
    report(error_fd, e.what());
  } catch (...) {
    report(error_fd, "unknown error");
  }
  ::_exit(code);
}

}  // namespace

Snapshotter::Snapshotter(core::SnapshotStore& store, const core::State& state, std::int64_t every,
                         std::int64_t last_snapshot, LogFunction log)
    : store_(store),
      state_(state),
      every_(every),
      last_written_(last_snapshot),
      log_(std::move(log)) {
  status_.last_position = last_snapshot;
}

Snapshotter::~Snapshotter() {
  if (waiter_.joinable()) waiter_.join();
}

void Snapshotter::on_events(const core::EventBatch& events) { check_due(events->back().position); }

void Snapshotter::check_due(std::int64_t durable) {
  if (child_running_.load()) return;  // it is checked again at the next durable events
  bool retry = false;
  {
    std::lock_guard lock(mutex_);
    if (retry_due_) {
      if (std::chrono::steady_clock::now() < retry_at_) return;
      retry = true;
    }
  }
  const bool due = every_ > 0 && durable - last_written_ >= every_;
  if (due || retry) fork_child();
}

void Snapshotter::finish() {
  if (waiter_.joinable()) waiter_.join();
  if (state_.position() <= last_written_) return;
  fork_child();
  if (waiter_.joinable()) waiter_.join();
}

void Snapshotter::start() { check_due(state_.position()); }

asio::awaitable<void> Snapshotter::stop(Deadline, bool failed) {
  if (!failed) finish();
  co_return;
}

void Snapshotter::metrics(std::string& out) const {
  const auto d = [](auto value) { return static_cast<double>(value); };
  SnapshotterStatus s = status();
  single(out, "roombus_snapshot_failures_total", "counter",
         "Snapshots that could not be written (retried with a growing delay).", d(s.failures));
  single(out, "roombus_snapshot_failing", "gauge",
         "Snapshot attempts that failed in a row (0: the last one succeeded).",
         d(s.consecutive_failures));
  single(out, "roombus_snapshot_position", "gauge", "Log position of the newest snapshot.",
         d(s.last_position));
  single(out, "roombus_snapshot_fork_seconds", "gauge",
         "How long the last snapshot's fork() held the core's thread.", s.last_fork_seconds);
  single(out, "roombus_snapshot_child_seconds", "gauge",
         "How long the last snapshot's child process took to encode and write the state.",
         s.last_child_seconds);
  single(out, "roombus_snapshot_child_max_rss_bytes", "gauge",
         "Peak resident memory of the last snapshot's child process (pages shared with roombus "
         "included).",
         d(s.last_child_max_rss_kib) * 1024);
}

void Snapshotter::fork_child() {
  const std::int64_t position = state_.position();
  if (position <= 0) return;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    failed(position, std::string("cannot create a pipe: ") + std::strerror(errno));
    return;
  }
  const pid_t parent = ::getpid();
  const auto before = std::chrono::steady_clock::now();
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(fds[0]);
    run_child(state_, store_, position, fds[1], parent);
  }
  const auto forked = std::chrono::steady_clock::now();
  const int fork_error = errno;
  ::close(fds[1]);
  if (child < 0) {
    ::close(fds[0]);
    failed(position, std::string("cannot fork: ") + std::strerror(fork_error));
    return;
  }
  last_written_ = position;
  {
    std::lock_guard lock(mutex_);
    retry_due_ = false;
    ++status_.attempts;
    status_.last_fork_seconds = std::chrono::duration<double>(forked - before).count();
  }
  if (waiter_.joinable()) waiter_.join();  // done: no child was running
  child_running_.store(true);
  waiter_ = std::thread(&Snapshotter::wait_for_child, this, child, fds[0], position, forked);
}

void Snapshotter::wait_for_child(pid_t child, int error_pipe, std::int64_t position,
                                 std::chrono::steady_clock::time_point started) {
  std::string error;
  char buffer[512];
  for (;;) {
    const ssize_t n = ::read(error_pipe, buffer, sizeof buffer);
    if (n > 0) {
      error.append(buffer, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(error_pipe);
  int wait_status = 0;
  struct rusage usage {};
  pid_t waited = -1;
  do {
    waited = ::wait4(child, &wait_status, 0, &usage);
  } while (waited < 0 && errno == EINTR);
  {
    std::lock_guard lock(mutex_);
    status_.last_child_seconds = seconds_since(started);
    status_.last_child_max_rss_kib = usage.ru_maxrss;
  }
  if (waited < 0) {
    failed(position, std::string("cannot wait for the snapshot process: ") + std::strerror(errno));
  } else if (WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0) {
    try {
      store_.publish(position,
                     [this, position](core::SnapshotResult result, const std::string& why) {
                       published(position, result, why);
                     });
    } catch (const std::exception& e) {
      failed(position, std::string("not queued: ") + e.what());
    }
  } else if (WIFSIGNALED(wait_status)) {
    failed(position,
           "the snapshot process was killed by signal " + std::to_string(WTERMSIG(wait_status)));
  } else {
    failed(position, error.empty() ? "the snapshot process exited with status " +
                                         std::to_string(WEXITSTATUS(wait_status))
                                   : error);
  }
  child_running_.store(false);
}

void Snapshotter::published(std::int64_t position, core::SnapshotResult result,
                            const std::string& error) {
  // A newer snapshot replacing this one, or the store closing before it was durable, is no
  // failure of the disk.
  if (result == core::SnapshotResult::superseded || result == core::SnapshotResult::closed) return;
  if (result == core::SnapshotResult::failed) {
    failed(position, error);
    return;
  }
  std::lock_guard lock(mutex_);
  ++status_.written;
  status_.last_position = std::max(status_.last_position, position);
  status_.consecutive_failures = 0;
}

void Snapshotter::failed(std::int64_t position, const std::string& why) {
  std::int64_t in_a_row = 0;
  std::chrono::seconds delay{};
  {
    std::lock_guard lock(mutex_);
    in_a_row = status_.consecutive_failures + 1;
    // 1 s, 2 s, 4 s, ... up to 5 minutes between attempts while it keeps failing.
    delay = std::min<std::chrono::seconds>(
        kFirstRetry * (1LL << std::min<std::int64_t>(in_a_row - 1, 20)), kLongestRetry);
  }
  // Logged before it is counted: whoever sees the count (a probe, a test) then finds the line.
  if (log_) {
    log_("snapshot at position " + std::to_string(position) + " failed (" + why + "), " +
         std::to_string(in_a_row) + " in a row; next attempt in " + std::to_string(delay.count()) +
         " s");
  }
  std::lock_guard lock(mutex_);
  ++status_.failures;
  ++status_.consecutive_failures;
  status_.last_error = why;
  retry_at_ = std::chrono::steady_clock::now() + delay;
  retry_due_ = true;
}

SnapshotterStatus Snapshotter::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

}  // namespace roombus::services
