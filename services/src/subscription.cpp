// Subscription: one thread per subscriber, a bounded live queue, catch-up reads from the log.
#include "roombus/services/subscription.hpp"

#include <algorithm>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <memory>

#include "roombus/services/signal.hpp"

namespace roombus::services {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr std::size_t kMaxArrivals = 65'536;
constexpr std::chrono::milliseconds kArrivalResolution{1};
// next()'s answer when request_resume() was called.
constexpr std::int64_t kResume = -2;

}  // namespace

Subscription::Subscription(core::EventSubscriber& subscriber, core::LogReader& log,
                           std::int64_t head, SubscriptionOptions options, LogFunction log_line)
    : subscriber_(subscriber), log_(log), options_(options), log_line_(std::move(log_line)) {
  options_.max_delivery = std::max<std::size_t>(options_.max_delivery, 1);
  head_ = head;
  status_.name = std::string(subscriber_.name());
  status_.head = head;
  // Whatever is in the log already counts as waiting since start-up until the cursor is known.
  if (head > 0) arrivals_.emplace_back(head, SteadyClock::now());
}

Subscription::~Subscription() { close(); }

void Subscription::start() {
  thread_ = std::thread([this] { run(); });
}

void Subscription::on_events(const core::EventBatch& events) {
  if (events->empty()) return;
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (queued_events_ + events->size() > options_.max_queued_events) {
      // The subscriber fell behind: drop what is held and let it read those events back from
      // the log. Memory stays bounded whatever the subscriber's pace.
      queue_.clear();
      queued_events_ = 0;
      ++status_.overflows;
    }
    queue_.push_back(events);
    queued_events_ += events->size();
    head_ = events->back().position;
    const auto now = SteadyClock::now();
    if (arrivals_.empty() || now - arrivals_.back().second >= kArrivalResolution) {
      if (arrivals_.size() < kMaxArrivals) {
        arrivals_.emplace_back(head_, now);
      } else {
        arrivals_.back().first = head_;  // coarser, and never younger than the truth
      }
    } else {
      arrivals_.back().first = head_;
    }
    // One system call per wake-up of the thread, not per command.
    const bool due = options_.period.count() == 0 || queued_events_ >= options_.wake_at;
    wake = waiting_ && due && !wake_pending_;
    if (wake) wake_pending_ = true;
  }
  if (wake) wake_.notify_one();
}

void Subscription::drain(SteadyClock::time_point deadline, std::function<void()> on_drained) {
  {
    std::lock_guard lock(mutex_);
    draining_ = true;
    drain_deadline_ = deadline;
    on_drained_ = std::move(on_drained);
  }
  wake_.notify_one();
}

bool Subscription::drained() const {
  std::lock_guard lock(mutex_);
  return drained_;
}

void Subscription::request_resume() {
  {
    std::lock_guard lock(mutex_);
    resume_requested_ = true;
  }
  wake_.notify_one();
}

void Subscription::close() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  subscriber_.interrupt();
  if (thread_.joinable()) thread_.join();
}

SubscriptionStatus Subscription::status() const {
  const std::int64_t handled = subscriber_.handled_position();
  std::lock_guard lock(mutex_);
  SubscriptionStatus s = status_;
  s.handled = handled;
  s.head = head_;
  s.queued = queued_events_;
  s.drained = drained_;
  s.idle = waiting_;
  while (!arrivals_.empty() && arrivals_.front().first <= handled) arrivals_.pop_front();
  if (!arrivals_.empty() && head_ > handled) {
    s.lag_seconds =
        std::chrono::duration<double>(SteadyClock::now() - arrivals_.front().second).count();
  }
  return s;
}

bool Subscription::pause(std::chrono::milliseconds how_long) {
  const auto end = SteadyClock::now() + how_long;
  std::unique_lock lock(mutex_);
  // A drain that begins during the pause shortens it to the drain's deadline: a subscriber
  // backing off from an absent downstream must not hold the shutdown beyond that.
  for (;;) {
    if (stopping_) return false;
    const auto until = draining_ ? std::min(end, drain_deadline_) : end;
    if (SteadyClock::now() >= until) return true;
    wake_.wait_until(lock, until);
  }
}

void Subscription::failed(const std::exception& e, std::string_view what) {
  bool repeated = false;
  {
    std::lock_guard lock(mutex_);
    repeated = status_.failing && status_.last_error == e.what();
  }
  // One line per distinct problem, not one per retry; logged before it is counted, so whoever
  // sees the count (a probe, a test) then finds the line. Only this subscription's thread writes
  // these fields.
  if (!repeated && log_line_) {
    log_line_(std::string(subscriber_.name()) + ": " + std::string(what) + " failed (" + e.what() +
              "); retrying");
  }
  std::lock_guard lock(mutex_);
  ++status_.failures;
  status_.failing = true;
  status_.last_error = e.what();
}

bool Subscription::next(std::int64_t cursor, std::vector<core::EventBatch>& live,
                        std::int64_t& read_to) {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (stopping_) return false;
    if (resume_requested_) {
      resume_requested_ = false;
      read_to = kResume;
      return true;
    }
    while (!queue_.empty() && queue_.front()->back().position <= cursor) {
      queued_events_ -= queue_.front()->size();
      queue_.pop_front();
    }
    if (!queue_.empty() && queue_.front()->front().position <= cursor + 1) {
      std::size_t taken = 0;
      while (!queue_.empty() && taken < options_.max_delivery) {
        taken += queue_.front()->size();
        queued_events_ -= queue_.front()->size();
        live.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      return true;
    }
    if (head_ > cursor) {
      // A gap before the queue (or no queue): read it from the log.
      read_to = queue_.empty() ? head_ : queue_.front()->front().position - 1;
      return true;
    }
    if (draining_) {
      read_to = cursor;  // caught up: nothing to read, time to finish
      return true;
    }
    waiting_ = true;
    if (options_.period.count() == 0) {
      wake_.wait(lock);
    } else {
      wake_.wait_for(lock, options_.period);
    }
    waiting_ = false;
    wake_pending_ = false;
  }
}

void Subscription::run() {
  std::int64_t cursor = -1;  // unknown until resume_position() answers
  auto backoff = options_.backoff_min;
  std::vector<core::EventBatch> live;
  std::vector<core::Event> from_log;
  std::vector<const core::Event*> events;
  auto back_off = [&] {
    const bool go_on = pause(backoff);
    backoff = std::min(backoff * 2, options_.backoff_max);
    return go_on;
  };
  for (;;) {
    bool draining = false;
    SteadyClock::time_point deadline;
    {
      std::lock_guard lock(mutex_);
      draining = draining_;
      deadline = drain_deadline_;
    }
    if (draining && SteadyClock::now() >= deadline) break;
    if (cursor < 0) {
      try {
        cursor = subscriber_.resume_position();
        std::lock_guard lock(mutex_);
        status_.delivered = cursor;
      } catch (const std::exception& e) {
        failed(e, "resuming");
        if (!back_off()) return;
        continue;
      }
    }

    live.clear();
    std::int64_t read_to = -1;
    if (!next(cursor, live, read_to)) return;
    if (read_to == kResume) {
      cursor = -1;
      continue;
    }
    events.clear();
    from_log.clear();
    if (!live.empty()) {
      for (const auto& batch : live) {
        for (const core::Event& e : *batch) {
          if (e.position > cursor) events.push_back(&e);
        }
      }
    } else if (read_to > cursor) {
      try {
        const auto want = static_cast<std::size_t>(read_to - cursor);
        from_log = log_.read(cursor, std::min(want, options_.max_delivery));
      } catch (const std::exception& e) {
        failed(e, "reading the log");
        if (!back_off()) return;
        continue;
      }
      {
        std::lock_guard lock(mutex_);
        status_.events_from_log += from_log.size();
      }
      for (const core::Event& e : from_log) events.push_back(&e);
      if (events.empty()) {
        // The log does not show yet what was reported durable; a short wait, not a spin.
        if (!pause(std::chrono::milliseconds(10))) return;
        continue;
      }
    } else if (draining) {
      break;  // caught up
    }
    if (events.empty()) continue;

    try {
      subscriber_.deliver(events);
      cursor = events.back()->position;
      backoff = options_.backoff_min;
      std::lock_guard lock(mutex_);
      status_.delivered = cursor;
      status_.failing = false;
    } catch (const std::exception& e) {
      failed(e, "delivering");
      cursor = -1;  // resume from what the subscriber has for sure
      if (!back_off()) return;
    }
  }
  // Draining: everything durable is delivered (or the deadline passed).
  SteadyClock::time_point deadline;
  {
    std::lock_guard lock(mutex_);
    deadline = drain_deadline_;
  }
  try {
    subscriber_.finish(deadline);
  } catch (const std::exception& e) {
    failed(e, "finishing");
  }
  std::function<void()> on_drained;
  {
    std::lock_guard lock(mutex_);
    drained_ = true;
    on_drained = std::move(on_drained_);
  }
  if (on_drained) on_drained();
}

asio::awaitable<void> Subscription::stop(Deadline deadline, bool failed) {
  if (!failed) {
    auto executor = co_await asio::this_coro::executor;
    // Shared: the subscription's thread may post set() after this coroutine gave up waiting.
    auto drained = std::make_shared<Signal>(executor);
    drain(deadline, [executor, drained] { asio::post(executor, [drained] { drained->set(); }); });
    // The subscriber's finish() has until the deadline; a moment more for it to return.
    co_await drained->wait(deadline + std::chrono::seconds(1));
  }
  close();
}

}  // namespace roombus::services
