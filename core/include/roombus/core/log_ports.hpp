// Ports of the log of record read back: recovery, catching-up subscribers and snapshots use them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "roombus/core/event_ports.hpp"
#include "roombus/core/events.hpp"
#include "roombus/core/state.hpp"

namespace roombus::core {

// Durable events and outcomes, decoded. Contract: blocking (disk or network); thread-safe; never
// called on the core's thread once it serves (recovery runs before). Sees only what is durable.
class LogReader {
 public:
  virtual ~LogReader() = default;

  // Streams the events with position > `after` in position order, at most `limit` of them.
  // Throws std::runtime_error when the log has a gap or an event cannot be decoded. `on_event`
  // may keep the event (it is the callee's no longer) and must not call this reader again.
  virtual void replay(std::int64_t after, const std::function<void(Event&&)>& on_event,
                      std::size_t limit = SIZE_MAX) = 0;

  // Every durable outcome, oldest first (the first of a repeated command id is the one that
  // counts); expired ones may come too (Outcome::at says). Throws std::runtime_error when one
  // cannot be decoded. Same re-entrancy rule as replay().
  virtual void for_each_outcome(const std::function<void(Outcome&&)>& on_outcome) = 0;

  // Up to `max` events after `after`, fewer (or none) at the log's end.
  std::vector<Event> read(std::int64_t after, std::size_t max) {
    std::vector<Event> events;
    events.reserve(max < 4096 ? max : 4096);
    replay(
        after, [&events](Event&& event) { events.push_back(std::move(event)); }, max);
    return events;
  }
};

// The newest snapshot the store holds, read and checked but not yet decoded: the caller starts
// reading the events after `position` first, so the two overlap.
struct LoadedSnapshot {
  std::int64_t position = 0;  // the position the store filed it under
  // "binary", or "json" for a snapshot written before the binary format (read once, for
  // upgrades).
  std::string format;
  // Decodes it, once (the bytes are let go of then): the state, or nullopt with `error` set.
  std::function<std::optional<State>(std::string& error)> decode;
};

// What became of a snapshot handed to SnapshotStore::publish().
enum class SnapshotResult {
  written,     // durable and in place
  superseded,  // a newer snapshot was published first: nothing to do
  closed,      // the store closed (or failed) before its position was durable: nothing to do
  failed,      // it could not be written (the text says why): try again later
};

// Snapshots of the core's state beside the log. A snapshot is never ahead of the log: it is
// published only once its position is durable. Ownership: the store outlives its users.
class SnapshotStore {
 public:
  using Completion = std::function<void(SnapshotResult result, const std::string& error)>;
  virtual ~SnapshotStore() = default;

  // The newest readable snapshot, or none (replay the whole log). Files that cannot be read are
  // skipped and reported by the store. Blocking.
  virtual std::optional<LoadedSnapshot> load_latest() = 0;

  // Encodes `state` and writes it, durably but unpublished, as the snapshot of `position`.
  // Made to run in a forked child holding a copy-on-write image of the state: it takes no lock
  // another thread could hold. Blocking; throws std::exception on failure.
  virtual void write_unpublished(std::int64_t position, const State& state) const = 0;

  // Publishes what write_unpublished() wrote once `position` is durable, and prunes older ones.
  // Never blocks. `on_done` runs exactly once, on another thread. Throws std::logic_error
  // (nothing queued) for a position beyond the log or after the store closed.
  virtual void publish(std::int64_t position, Completion on_done) = 0;
};

}  // namespace roombus::core
