// The write path: append() queues, the writer thread group-commits and runs the callbacks.
#include <algorithm>
#include <cstdint>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "schema.hpp"
#include "store_impl.hpp"

namespace roombus::sqlite {

namespace {

using detail::error_of;
using detail::kCursorPrefix;
using detail::Pending;
using detail::ResetOnExit;

// Expired outcome rows deleted per transaction at most: a backlog (after downtime) is worked off
// over several commits instead of making one slow.
constexpr std::int64_t kExpireBatch = 1024;

}  // namespace

void EventStore::append(Batch batch, Completion on_durable) {
  Impl& s = *impl_;
  if (s.read_only) throw std::logic_error("event store: append() on a read-only store");
  {
    std::lock_guard lock(s.mutex);
    if (s.closing) throw std::logic_error("event store: append() after close()");
    std::int64_t expected = s.next_position;
    for (const StoredEvent& event : batch.events) {
      if (event.position != expected) {
        throw std::logic_error("event store: non-contiguous position " +
                               std::to_string(event.position) + " appended, expected " +
                               std::to_string(expected));
      }
      ++expected;
    }
    s.next_position = expected;
    s.queue.push_back({std::move(batch), std::move(on_durable)});
  }
  s.work_cv.notify_one();
}

void EventStore::Impl::writer_loop() {
  std::vector<Pending> work;
  for (;;) {
    bool already_failed = false;
    {
      std::unique_lock lock(mutex);
      work_cv.wait(lock, [this] { return !queue.empty() || closing; });
      if (queue.empty()) break;
      // Everything that arrived during the previous commit becomes one transaction.
      work.swap(queue);
      already_failed = static_cast<bool>(failure);
    }

    std::error_code result;
    bool wrote = false;
    if (already_failed) {
      result = make_error_code(StoreErrc::stopped);
    } else {
      try {
        complete_batches(work);
        wrote = commit_group(work);
      } catch (const std::exception& e) {
        roll_back();
        result = error_of(e);
        log(std::string("event log commit failed, refusing further writes: ") + e.what());
      } catch (...) {
        // Only a caller's complete hook can throw something else; it fails the same way.
        roll_back();
        result = std::make_error_code(std::errc::io_error);
        log("event log commit failed, refusing further writes: a batch's complete hook threw");
      }
    }

    {
      std::lock_guard lock(mutex);
      if (!already_failed) {
        if (result) {
          failure = result;
        } else {
          for (const Pending& pending : work) {
            const auto& events = pending.batch.events;
            if (!events.empty()) durable_position = events.back().position;
            totals.events += events.size();
          }
          totals.batches += work.size();
          totals.outcomes_expired += expired_in_group;
          if (wrote) ++totals.transactions;
        }
      }
    }
    snapshot_cv.notify_all();

    for (Pending& pending : work) {
      if (!pending.on_durable) continue;
      try {
        pending.on_durable(result);
      } catch (const std::exception& e) {
        log(std::string("event store: an on_durable callback threw: ") + e.what());
      } catch (...) {
        log("event store: an on_durable callback threw");
      }
    }
    work.clear();
  }
  {
    std::lock_guard lock(mutex);
    writer_done = true;
  }
  snapshot_cv.notify_all();
  checkpoint_cv.notify_all();
}

void EventStore::Impl::complete_batches(std::vector<Pending>& work) {
  for (Pending& pending : work) {
    if (!pending.batch.complete) continue;
    std::vector<std::int64_t> positions;
    positions.reserve(pending.batch.events.size());
    for (const StoredEvent& event : pending.batch.events) positions.push_back(event.position);
    auto complete = std::move(pending.batch.complete);
    pending.batch.complete = nullptr;
    complete(pending.batch);
    const auto& events = pending.batch.events;
    if (!std::equal(positions.begin(), positions.end(), events.begin(), events.end(),
                    [](std::int64_t p, const StoredEvent& e) { return p == e.position; })) {
      throw std::logic_error("event store: a batch's complete hook changed its positions");
    }
  }
}

bool EventStore::Impl::commit_group(const std::vector<Pending>& work) {
  expired_in_group = 0;
  const bool anything = std::any_of(work.begin(), work.end(), [](const Pending& p) {
    return !p.batch.events.empty() || !p.batch.outcomes.empty() || !p.batch.cursors.empty();
  });
  if (!anything) return false;

  {
    ResetOnExit reset(begin);
    begin.run();
  }
  for (const Pending& pending : work) {
    const auto& events = pending.batch.events;
    for (const StoredEvent& event : events) {
      newest_time = std::max(newest_time, event.time_unix);
      ResetOnExit reset(insert_event);
      insert_event.bind(1, event.position);
      insert_event.bind_text(2, event.aggregate);
      insert_event.bind(3, event.version);
      insert_event.bind_text(4, event.command_id);
      insert_event.bind(5, event.time_unix);
      insert_event.bind_text(6, event.type);
      insert_event.bind_blob(7, event.payload);
      insert_event.run();
    }
    for (const CommandOutcome& outcome : pending.batch.outcomes) {
      ResetOnExit reset(insert_outcome);
      insert_outcome.bind_text(1, outcome.command_id);
      if (events.empty()) {
        insert_outcome.bind_null(2);
      } else {
        insert_outcome.bind(2, events.back().position);
      }
      insert_outcome.bind_blob(3, outcome.outcome);
      insert_outcome.bind(4, outcome.time_unix);
      insert_outcome.run();
      newest_time = std::max(newest_time, outcome.time_unix);
    }
    for (const auto& [name, position] : pending.batch.cursors) {
      // Named: bind_text() does not copy, the strings must outlive run().
      const std::string key = std::string(kCursorPrefix) + name;
      const std::string value = std::to_string(position);
      ResetOnExit reset(upsert_meta);
      upsert_meta.bind_text(1, key);
      upsert_meta.bind_text(2, value);
      upsert_meta.run();
    }
  }
  if (options.outcome_ttl.count() > 0 &&
      newest_time > std::numeric_limits<std::int64_t>::min() + options.outcome_ttl.count()) {
    expire_outcomes(newest_time - options.outcome_ttl.count());
  }
  ResetOnExit reset(commit);
  commit.run();  // the fsync of the WAL happens here
  return true;
}

void EventStore::Impl::expire_outcomes(std::int64_t cutoff) {
  if (oldest_outcome_time && *oldest_outcome_time > cutoff) return;  // the usual case
  std::optional<std::int64_t> last_expired;
  std::optional<std::int64_t> oldest_kept;
  std::int64_t rows = 0;
  {
    ResetOnExit reset(oldest_outcomes);
    oldest_outcomes.bind(1, kExpireBatch);
    // Rows are in commit order, and so (up to a wall clock stepping back) in time order: the
    // expired ones are at the front; stop at the first that is not.
    while (oldest_outcomes.step()) {
      ++rows;
      const std::int64_t time = oldest_outcomes.column_int64(1);
      if (time > cutoff) {
        oldest_kept = time;
        break;
      }
      last_expired = oldest_outcomes.column_int64(0);
    }
  }
  // Unknown if a full batch expired (check again next commit); an empty table has nothing older
  // than what comes next.
  oldest_outcome_time = rows == 0 ? std::optional<std::int64_t>(cutoff) : oldest_kept;
  if (!last_expired) return;
  ResetOnExit reset(delete_outcomes);
  delete_outcomes.bind(1, *last_expired);
  delete_outcomes.run();
  expired_in_group = static_cast<std::uint64_t>(sqlite3_changes(writer_db->get()));
}

void EventStore::Impl::roll_back() noexcept {
  if (writer_db == nullptr || sqlite3_get_autocommit(writer_db->get()) != 0) return;
  try {
    ResetOnExit reset(rollback);
    rollback.run();
  } catch (const std::exception& e) {
    log(std::string("event log rollback failed: ") + e.what());
  }
}

}  // namespace roombus::sqlite
