// LifecycleScheduler: one timer at the earliest due fact; Ticks through the Service.
#include "roombus/services/lifecycle_scheduler.hpp"

#include <asio/post.hpp>
#include <variant>

namespace roombus::services {

LifecycleScheduler::LifecycleScheduler(asio::io_context& io, core::Service& service,
                                       std::function<std::string()> new_command_id,
                                       LifecycleOptions options, LogFunction log)
    : io_(io),
      service_(service),
      new_command_id_(std::move(new_command_id)),
      options_(options),
      log_(std::move(log)),
      timer_(io) {}

void LifecycleScheduler::start() {
  running_ = true;
  arm();
}

asio::awaitable<void> LifecycleScheduler::stop(Deadline, bool) {
  running_ = false;
  armed_for_.reset();
  timer_.cancel();
  co_return;
}

void LifecycleScheduler::arm() {
  if (!running_ || posted_) return;
  const std::optional<core::Instant> next = service_.state().next_due();
  armed_for_ = next;
  if (!next) {
    timer_.cancel();
    return;
  }
  // The wall clock to the nanosecond, not the Service's whole seconds: a fact due at 12:50:00
  // is then ticked at 12:50:00.00x, not up to a second later.
  const auto wall = std::chrono::system_clock::now();
  if (*next <= wall) {
    posted_ = true;
    asio::post(io_, [this] { tick(); });
    return;
  }
  const auto wait = std::min<std::chrono::system_clock::duration>(*next - wall, options_.max_sleep);
  timer_.expires_after(wait);
  timer_.async_wait([this](const std::error_code& ec) {
    if (ec) return;  // cancelled or re-armed
    armed_for_.reset();
    tick();
  });
}

void LifecycleScheduler::tick() {
  posted_ = false;
  if (!running_) return;
  ++status_.ticks;
  const std::int64_t position = service_.state().position();
  // Nothing to do with the outcome: the events reach on_events() once durable, and a failed
  // log stops the process.
  service_.submit(new_command_id_(), core::Tick{options_.max_events_per_tick},
                  [](const core::Result<core::Decision>&) {});
  // The Tick's events are applied to memory already (they become durable with the next group
  // commit). A backlog left over goes on in a Tick of its own, after whatever else waits for
  // the io thread.
  const std::optional<core::Instant> next = service_.state().next_due();
  if (next && *next <= service_.now()) {
    if (service_.state().position() != position) {
      posted_ = true;
      asio::post(io_, [this] { tick(); });
      return;
    }
    // Due but not emitted: a bug (the index and the decision disagree). Never spin on it.
    if (log_) log_("lifecycle: a fact is due but the Tick emitted nothing; retrying in 1 s");
    armed_for_ = next;
    timer_.expires_after(std::chrono::seconds(1));
    timer_.async_wait([this](const std::error_code& ec) {
      if (ec) return;
      armed_for_.reset();
      tick();
    });
    return;
  }
  arm();
}

void LifecycleScheduler::on_events(const core::EventBatch& events) {
  for (const core::Event& e : *events) {
    const auto* change = std::get_if<core::RoomChanged>(&e.change);
    if (change == nullptr || !core::is_lifecycle(change->change)) continue;
    ++status_.facts;
    if (change->late_seconds > 0) ++status_.late_facts;
    status_.max_late_seconds = std::max(status_.max_late_seconds, change->late_seconds);
  }
  if (!running_ || posted_) return;
  const std::optional<core::Instant> next = service_.state().next_due();
  if (next && (!armed_for_ || *next < *armed_for_)) arm();
}

LifecycleStatus LifecycleScheduler::status() const {
  LifecycleStatus s = status_;
  s.next_due = service_.state().next_due();
  s.index_entries = service_.state().due_index_entries();
  s.index_bytes = service_.state().due_index_bytes();
  return s;
}

void LifecycleScheduler::metrics(std::string& out) const {
  const LifecycleStatus s = status();
  const auto d = [](auto v) { return static_cast<double>(v); };
  single(out, "roombus_lifecycle_ticks_total", "counter", "Lifecycle Ticks submitted since start.",
         d(s.ticks));
  single(out, "roombus_lifecycle_events_total", "counter",
         "Durable room.starting/started/ended events since start.", d(s.facts));
  single(out, "roombus_lifecycle_late_events_total", "counter",
         "Lifecycle events emitted after their due second (late_seconds > 0).", d(s.late_facts));
  single(out, "roombus_lifecycle_max_late_seconds", "gauge",
         "The largest late_seconds of a lifecycle event since start.", d(s.max_late_seconds));
  single(out, "roombus_lifecycle_next_due_timestamp_seconds", "gauge",
         "When the next lifecycle fact falls due (Unix seconds; 0: none pending).",
         s.next_due ? d(s.next_due->time_since_epoch().count()) : 0.0);
  single(out, "roombus_lifecycle_due_index_entries", "gauge",
         "Entries of the due index (one per pending room, plus garbage not yet pruned).",
         d(s.index_entries));
  single(out, "roombus_lifecycle_due_index_bytes", "gauge", "Memory reserved by the due index.",
         d(s.index_bytes));
}

}  // namespace roombus::services
