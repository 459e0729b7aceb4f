// Recovery (snapshot + later events; remembered outcomes, also in the background) and the
// subscriptions' log reader.
#include "recovery.hpp"

#include <asio/post.hpp>
#include <chrono>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "roombus/json/event_codec.hpp"
#include "roombus/json/outcome_codec.hpp"
#include "roombus/json/snapshot_binary.hpp"

namespace roombus::app {
namespace {

core::Event decode(const sqlite::StoredEvent& stored) {
  auto event = json::decode_event_payload(stored.payload);
  if (!event || event->position != stored.position) {
    throw std::runtime_error("event " + std::to_string(stored.position) +
                             " in the log cannot be decoded: " +
                             (event ? std::string("position mismatch") : event.error().text));
  }
  return std::move(event).value();
}

core::Outcome decode(const sqlite::CommandOutcome& stored) {
  auto outcome = json::decode_outcome(stored.command_id, stored.outcome);
  if (!outcome) {
    throw std::runtime_error("outcome of command " + stored.command_id +
                             " cannot be decoded: " + outcome.error().text);
  }
  return std::move(outcome).value();
}

constexpr std::size_t kOutcomeBatch = 1024;
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
  EventPrefetch(sqlite::EventStore& store, std::int64_t after) {
    thread_ = std::thread([this, &store, after] { run(store, after); });
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

  void run(sqlite::EventStore& store, std::int64_t after) {
    std::exception_ptr error;
    try {
      std::vector<core::Event> batch;
      batch.reserve(kEventBatch);
      store.replay(after, [&](const sqlite::StoredEvent& stored) {
        batch.push_back(decode(stored));
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

Recovery recover(sqlite::EventStore& store, core::Service& service,
                 const std::function<void(std::string_view)>& log) {
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
  std::optional<sqlite::Snapshot> snap = store.load_latest_snapshot();
  // The events after the snapshot are read meanwhile (the store is not used here until then).
  auto events = std::make_unique<EventPrefetch>(store, snap ? snap->position : 0);
  if (snap) {
    const bool binary = json::is_binary_snapshot(snap->bytes);
    auto state = json::decode_stored_snapshot(snap->bytes);
    // Tens of MB no longer needed: given back now, before the replay grows the state.
    std::string().swap(snap->bytes);
    r.snapshot_read_seconds = seconds_of_lap();
    if (state && state->position() == snap->position) {
      service.restore(std::move(state).value());
      r.snapshot_position = snap->position;
      r.snapshot_format = binary ? "binary" : "json";
      if (!binary) {
        log("restored the JSON snapshot at position " + std::to_string(snap->position) +
            " (written before the binary format); the next snapshot is written binary");
      }
    } else {
      log("ignoring snapshot at position " + std::to_string(snap->position) + ": " +
          (state ? "it says position " + std::to_string(state->position()) : state.error().text) +
          "; replaying the whole log");
      events.reset();
      events = std::make_unique<EventPrefetch>(store, 0);
    }
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

std::int64_t recover_outcomes(sqlite::EventStore& store, core::Service& service) {
  std::int64_t count = 0;
  store.for_each_outcome([&](const sqlite::CommandOutcome& stored) {
    service.recover(decode(stored));
    ++count;
  });
  return count;
}

OutcomeLoader::OutcomeLoader(asio::io_context& io, sqlite::EventStore& store,
                             core::Service& service, LogFunction log,
                             std::function<void(const std::string&)> on_failure)
    : io_(io),
      store_(store),
      service_(service),
      log_(std::move(log)),
      on_failure_(std::move(on_failure)) {}

OutcomeLoader::~OutcomeLoader() { stop(); }

void OutcomeLoader::start() {
  service_.begin_outcome_recovery();
  thread_ = std::thread(&OutcomeLoader::run, this);
}

void OutcomeLoader::stop() {
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
    store_.for_each_outcome([&](const sqlite::CommandOutcome& stored) {
      batch.push_back(decode(stored));
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
      if (on_failure_) on_failure_(why);
    });
  }
}

std::vector<core::Event> StoreLogReader::read(std::int64_t after, std::size_t max) {
  std::vector<core::Event> events;
  events.reserve(std::min<std::size_t>(max, 4096));
  store_.replay(
      after, [&](const sqlite::StoredEvent& stored) { events.push_back(decode(stored)); }, max);
  return events;
}

}  // namespace roombus::app
