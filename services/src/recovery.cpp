// Recovery: a snapshot and the events after it; remembered outcomes, also in the background.
#include "roombus/services/recovery.hpp"

#include <algorithm>
#include <asio/post.hpp>
#include <chrono>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace roombus::services {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr std::size_t kOutcomeBatch = 1024;
// How long a stop waits for outcomes still loading: they take seconds at most.
constexpr std::chrono::seconds kLoadAtStop{5};
constexpr int kBatchesAhead = 4;

constexpr std::size_t kEventBatch = 1024;
// Decoded events held ahead of the core's thread at most: ~130,000, some 60 MB. A snapshot is
// written every 100,000 events by default, so the events after one usually fit whole, and the
// thread is done before the snapshot is; after a long run without snapshots it waits.
constexpr std::size_t kEventBatchesAhead = 128;

// Reads and decodes the events after a position on a thread of its own while the core's thread
// decodes and restores the snapshot: the two took a restart's time one after the other (0.5 s
// for 100,000 events after a snapshot, most of it SQLite and JSON), and the other CPUs are idle
// for much of a restart. Batches come out in log order; an error (a gap, an event that does
// not decode) comes out where it happened, as the same exception the synchronous replay threw.
class EventPrefetch {
 public:
  EventPrefetch(core::LogReader& log, std::int64_t after) {
    thread_ = std::thread([this, &log, after] { run(log, after); });
  }
  ~EventPrefetch() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  EventPrefetch(const EventPrefetch&) = delete;
  EventPrefetch& operator=(const EventPrefetch&) = delete;

  // The next batch; empty once every event was handed out. Rethrows the thread's error.
  std::vector<core::Event> next() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [this] { return !ready_.empty() || done_; });
    if (ready_.empty()) {
      if (error_) std::rethrow_exception(error_);
      return {};
    }
    std::vector<core::Event> batch = std::move(ready_.front());
    ready_.pop_front();
    lock.unlock();
    cv_.notify_all();
    return batch;
  }

 private:
  struct Stopped {};

  void run(core::LogReader& log, std::int64_t after) {
    std::exception_ptr error;
    try {
      std::vector<core::Event> batch;
      batch.reserve(kEventBatch);
      log.replay(after, [&](core::Event&& event) {
        batch.push_back(std::move(event));
        if (batch.size() == kEventBatch) {
          hand_over(std::move(batch));
          batch.clear();
          batch.reserve(kEventBatch);
        }
      });
      if (!batch.empty()) hand_over(std::move(batch));
    } catch (const Stopped&) {
      // Nobody takes the rest.
    } catch (...) {
      error = std::current_exception();
    }
    {
      std::lock_guard lock(mutex_);
      error_ = error;
      done_ = true;
    }
    cv_.notify_all();
  }

  void hand_over(std::vector<core::Event> batch) {
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return stopping_ || ready_.size() < kEventBatchesAhead; });
      if (stopping_) throw Stopped{};
      ready_.push_back(std::move(batch));
    }
    cv_.notify_all();
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::vector<core::Event>> ready_;
  bool done_ = false;
  bool stopping_ = false;
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace

Recovery recover(core::LogReader& log, core::SnapshotStore& snapshots, core::Service& service,
                 const LogFunction& log_line) {
  using Clock = std::chrono::steady_clock;
  const auto started = Clock::now();
  auto lap = started;
  auto seconds_of_lap = [&lap] {
    const auto now = Clock::now();
    const double seconds = std::chrono::duration<double>(now - lap).count();
    lap = now;
    return seconds;
  };
  Recovery r;
  std::optional<core::LoadedSnapshot> snap = snapshots.load_latest();
  // The events after the snapshot are read meanwhile (the reader is not used here until then).
  auto events = std::make_unique<EventPrefetch>(log, snap ? snap->position : 0);
  if (snap) {
    std::string error;
    std::optional<core::State> state = snap->decode(error);
    r.snapshot_read_seconds = seconds_of_lap();
    if (state && state->position() == snap->position) {
      service.restore(std::move(*state));
      r.snapshot_position = snap->position;
      r.snapshot_format = snap->format;
      if (snap->format != "binary") {
        log_line("restored the JSON snapshot at position " + std::to_string(snap->position) +
                 " (written before the binary format); the next snapshot is written binary");
      }
    } else {
      log_line("ignoring snapshot at position " + std::to_string(snap->position) + ": " +
               (state ? "it says position " + std::to_string(state->position()) : error) +
               "; replaying the whole log");
      events.reset();
      events = std::make_unique<EventPrefetch>(log, 0);
    }
    snap.reset();
    r.restore_seconds = seconds_of_lap();
  }
  for (std::vector<core::Event> batch = events->next(); !batch.empty(); batch = events->next()) {
    for (const core::Event& event : batch) service.recover(event);
    r.events_replayed += static_cast<std::int64_t>(batch.size());
  }
  r.replay_seconds = seconds_of_lap();
  r.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return r;
}

std::int64_t recover_outcomes(core::LogReader& log, core::Service& service) {
  std::int64_t count = 0;
  log.for_each_outcome([&](core::Outcome&& outcome) {
    service.recover(std::move(outcome));
    ++count;
  });
  return count;
}

OutcomeLoader::OutcomeLoader(asio::io_context& io, core::LogReader& log, core::Service& service,
                             LogFunction log_line,
                             std::function<void(const std::string&)> on_failure)
    : io_(io),
      reader_(log),
      service_(service),
      log_(std::move(log_line)),
      on_failure_(std::move(on_failure)) {}

OutcomeLoader::~OutcomeLoader() { close(); }

void OutcomeLoader::start() {
  loaded_ = std::make_shared<Signal>(io_.get_executor());
  service_.begin_outcome_recovery();
  thread_ = std::thread(&OutcomeLoader::run, this);
}

asio::awaitable<void> OutcomeLoader::stop(Deadline deadline, bool) {
  if (loaded_) {
    co_await loaded_->wait(std::min(deadline, SteadyClock::now() + kLoadAtStop));
  }
  if (service_.recovering_outcomes()) {
    service_.abandon_outcome_recovery("the service stopped before they were loaded");
  }
  close();
}

void OutcomeLoader::close() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void OutcomeLoader::post_batch(std::vector<core::Outcome> batch) {
  {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [this] { return stopping_ || batches_posted_ < kBatchesAhead; });
    if (stopping_) throw Stopped{};
    ++batches_posted_;
  }
  asio::post(io_, [this, batch = std::move(batch)]() mutable {
    for (core::Outcome& outcome : batch) service_.recover(std::move(outcome));
    {
      std::lock_guard lock(mutex_);
      --batches_posted_;
    }
    cv_.notify_all();
  });
}

void OutcomeLoader::run() {
  const auto started = std::chrono::steady_clock::now();
  std::int64_t count = 0;
  try {
    std::vector<core::Outcome> batch;
    batch.reserve(kOutcomeBatch);
    reader_.for_each_outcome([&](core::Outcome&& outcome) {
      batch.push_back(std::move(outcome));
      ++count;
      if (batch.size() == kOutcomeBatch) {
        post_batch(std::move(batch));
        batch.clear();
        batch.reserve(kOutcomeBatch);
      }
    });
    if (!batch.empty()) post_batch(std::move(batch));
    asio::post(io_, [this, count, started] {
      service_.end_outcome_recovery();
      done_ = true;
      loaded_->set();
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      if (log_) {
        log_("remembered " + std::to_string(service_.remembered_outcomes()) + " of " +
             std::to_string(count) + " stored outcomes (the rest expired) in " +
             std::to_string(seconds) + " s after start-up");
      }
    });
  } catch (const Stopped&) {
    // The process is stopping: the outcomes not loaded are not needed.
  } catch (const std::exception& e) {
    const std::string why = e.what();
    asio::post(io_, [this, why] {
      service_.abandon_outcome_recovery(why);
      done_ = true;
      loaded_->set();
      if (on_failure_) on_failure_(why);
    });
  }
}

}  // namespace roombus::services
