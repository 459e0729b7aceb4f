// The core's EventLog on the SQLite event store, and subscribers' cursors beside it.
#include "roombus/eventlog/durable_log.hpp"

#include <asio/post.hpp>

#include "roombus/eventlog/records.hpp"

namespace roombus::eventlog {

DurableLog::DurableLog(asio::io_context& io, sqlite::EventStore& store,
                       std::function<void(const std::string&)> on_fatal)
    : io_(io), store_(store), on_fatal_(std::move(on_fatal)) {}

void DurableLog::append(core::EventBatch events, core::SharedOutcome outcome,
                        Completion on_durable) {
  sqlite::Batch batch;
  // Positions now, so the store checks the order at once; the rest on the writer thread, where
  // encoding (most of an append's CPU) does not hold up the requests of the io_context.
  batch.events.resize(events->size());
  for (std::size_t i = 0; i < events->size(); ++i) batch.events[i].position = (*events)[i].position;
  batch.complete = [events = std::move(events), outcome = std::move(outcome)](sqlite::Batch& b) {
    for (std::size_t i = 0; i < events->size(); ++i) b.events[i] = to_stored((*events)[i]);
    if (outcome) {
      b.outcomes.push_back(to_stored(*outcome));
    }
  };
  // Shared: the writer's callback and the refusal path below both need it.
  auto caller = std::make_shared<Completion>(std::move(on_durable));
  auto done = [this, caller](std::error_code ec) {
    // Writer thread: queue the result for the io_context thread and return at once. The store
    // calls this once, and only for an append it took (the refusal path below never runs
    // then), so the completion is moved, not copied (copying it copied its captures).
    bool post = false;
    {
      std::lock_guard lock(mutex_);
      done_.emplace_back(std::move(*caller), ec);
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

void StoreCursors::save(std::string_view name, std::int64_t position,
                        std::function<void(bool saved)> on_saved) {
  sqlite::Batch batch;
  batch.cursors.emplace_back(std::string(name), position);
  try {
    store_.append(std::move(batch), [on_saved](std::error_code ec) { on_saved(!ec); });
  } catch (const std::exception&) {
    // Closed or closing: the cursor keeps its last durable value, which is what a restart uses.
    on_saved(false);
  }
}

}  // namespace roombus::eventlog
