// The core's EventLog on the SQLite event store, the background snapshotter, and recovery.
#include "durable_log.hpp"

#include <asio/post.hpp>
#include <chrono>

#include "roombus/json/event_codec.hpp"
#include "roombus/json/outcome_codec.hpp"
#include "roombus/json/snapshot_codec.hpp"

namespace roombus::app {

sqlite::StoredEvent to_stored(const core::Event& event) {
  sqlite::StoredEvent s;
  s.position = event.position;
  s.aggregate = event.aggregate();
  s.version = event.version;
  s.command_id = event.command_id;
  s.time_unix = event.time.time_since_epoch().count();
  s.type = event.type();
  s.payload = json::encode_event_payload(event);
  return s;
}

DurableLog::DurableLog(asio::io_context& io, sqlite::EventStore& store,
                       std::function<void(const std::string&)> on_fatal)
    : io_(io), store_(store), on_fatal_(std::move(on_fatal)) {}

void DurableLog::append(core::EventBatch events, const std::optional<core::Outcome>& outcome,
                        Completion on_durable) {
  sqlite::Batch batch;
  // Positions now, so the store checks the order at once; the rest on the writer thread, where
  // encoding (most of an append's CPU) does not hold up the requests of the io_context.
  batch.events.resize(events->size());
  for (std::size_t i = 0; i < events->size(); ++i) batch.events[i].position = (*events)[i].position;
  if (outcome) {
    const auto at = outcome->at.value_or(core::Instant{});
    batch.outcomes.push_back({outcome->command_id, {}, at.time_since_epoch().count()});
  }
  batch.complete = [events = std::move(events), outcome](sqlite::Batch& b) {
    for (std::size_t i = 0; i < events->size(); ++i) b.events[i] = to_stored((*events)[i]);
    if (outcome) b.outcomes.front().outcome = json::encode_outcome(*outcome);
  };
  // Shared: the writer's callback and the refusal path below both need it.
  auto caller = std::make_shared<Completion>(std::move(on_durable));
  auto done = [this, caller](std::error_code ec) {
    // Writer thread: queue the result for the io_context thread and return at once.
    bool post = false;
    {
      std::lock_guard lock(mutex_);
      done_.emplace_back(*caller, ec);
      post = !drain_posted_;
      drain_posted_ = true;
    }
    if (post) asio::post(io_, [this] { drain(); });
  };
  try {
    store_.append(std::move(batch), std::move(done));
  } catch (const std::exception& e) {
    // Positions out of order or a closed store: a bug or shutdown; never report success.
    asio::post(io_, [this, caller, what = std::string(e.what())] {
      fail(*caller, what, "event log refused an append: ");
    });
  }
}

void DurableLog::drain() {
  std::vector<std::pair<Completion, std::error_code>> done;
  {
    std::lock_guard lock(mutex_);
    done.swap(done_);
    drain_posted_ = false;
  }
  for (auto& [on_durable, ec] : done) finish(std::move(on_durable), ec);
}

void DurableLog::finish(Completion on_durable, std::error_code ec) {
  if (!ec) {
    on_durable(std::nullopt);
    return;
  }
  fail(on_durable, ec.message(), "event log commit failed: ");
}

void DurableLog::fail(const Completion& on_durable, const std::string& why,
                      std::string_view context) {
  on_durable(why);
  if (!failed_) {
    failed_ = true;
    on_fatal_(std::string(context) + why);
  }
}

Snapshotter::Snapshotter(sqlite::EventStore& store, core::State start, std::int64_t every,
                         std::int64_t last_snapshot)
    : store_(store),
      state_(std::move(start)),
      every_(every),
      last_written_(last_snapshot),
      thread_([this] { run(); }) {}

Snapshotter::~Snapshotter() { stop(); }

void Snapshotter::on_events(const core::EventBatch& events) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(events);
    queued_events_ += events->size();
    wake = queued_events_ >= kWakeAt;
  }
  // Waking the thread for every event costs the io thread a futex call per request; the thread
  // also wakes on its own every kPeriod.
  if (wake) wake_.notify_one();
}

void Snapshotter::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Snapshotter::run() {
  for (;;) {
    std::deque<core::EventBatch> batch;
    bool stopping = false;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, kPeriod, [this] { return stopping_ || queued_events_ >= kWakeAt; });
      batch.swap(queue_);
      queued_events_ = 0;
      stopping = stopping_;
    }
    for (const auto& events : batch) {
      for (const auto& e : *events) state_.apply(e);
    }
    bool due = every_ > 0 && state_.position() - last_written_ >= every_;
    if ((due || (stopping && state_.position() > last_written_)) && state_.position() > 0) {
      try {
        store_.write_snapshot(state_.position(), json::encode_snapshot(state_));
        last_written_ = state_.position();
      } catch (const std::exception&) {
        // The log stays the source of truth; a missed snapshot only slows the next start.
      }
    }
    if (stopping) return;
  }
}

Recovery recover(sqlite::EventStore& store, core::Service& service,
                 const std::function<void(std::string_view)>& log) {
  auto started = std::chrono::steady_clock::now();
  Recovery r;
  if (auto snap = store.load_latest_snapshot()) {
    auto state = json::decode_snapshot(snap->bytes);
    if (state && state->position() == snap->position) {
      service.restore(std::move(state).value());
      r.snapshot_position = snap->position;
    } else {
      log("ignoring snapshot at position " + std::to_string(snap->position) +
          ": it does not decode; replaying the whole log");
    }
  }
  store.replay(r.snapshot_position, [&](const sqlite::StoredEvent& stored) {
    auto event = json::decode_event_payload(stored.payload);
    if (!event || event->position != stored.position) {
      throw std::runtime_error("event " + std::to_string(stored.position) +
                               " in the log cannot be decoded: " +
                               (event ? std::string("position mismatch") : event.error().text));
    }
    service.recover(*event);
    ++r.events_replayed;
  });
  store.for_each_outcome([&](const sqlite::CommandOutcome& stored) {
    auto outcome = json::decode_outcome(stored.command_id, stored.outcome);
    if (!outcome) {
      throw std::runtime_error("outcome of command " + stored.command_id +
                               " cannot be decoded: " + outcome.error().text);
    }
    service.recover(std::move(outcome).value());
    ++r.outcomes;
  });
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return r;
}

}  // namespace roombus::app
