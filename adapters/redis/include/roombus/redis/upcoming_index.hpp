// The upcoming-room index in Redis (DESIGN.md §5): one sorted set per server, written by a
// durable-cursor subscriber whose cursor lives in Redis next to the data, and read by getRooms.
#pragma once

#include <asio/awaitable.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "roombus/core/model.hpp"
#include "roombus/core/subscriber.hpp"
#include "roombus/redis/connection.hpp"

namespace roombus::redis {

// Part of the public interface (autoscalers read them directly):
// `roombus:upcoming:<server id>`: sorted set, member = room uid, score = start in Unix seconds.
std::string upcoming_key(core::ServerId server);
inline constexpr std::string_view upcoming_key_pattern = "roombus:upcoming:*";
// The writer's cursor, a hash: `position` (last log position applied), `log_id` (the stamp of
// the event log the index was built from), `layout` (this key layout's version, "1").
inline constexpr std::string_view index_cursor_key = "roombus:index";

// Keeps `roombus:upcoming:*` equal to the live rooms of the log: created, updated and moved rooms
// are (re)added under their server (and removed from the previous one), deleted rooms removed, a
// deleted server's key dropped. Participant changes and clones change nothing. Rooms stay after
// their end until deleted, as in the in-memory schedule: getRooms with running rooms needs
// rooms that started before now, and nothing else bounds the set.
//
// Each delivery is one pipelined round trip of MULTI/EXEC transactions (one per
// `events_per_transaction` events), each moving the cursor with its data. Each transaction also
// reads the cursor it started from: when that is not the position this writer last wrote (Redis
// was flushed, restarted empty, or edited), the delivery throws and the next resume_position()
// wipes the index and answers 0, so the subscription helper re-feeds the whole log.
//
// Threads: the EventSubscriber members run on the subscription thread. They post their work to
// the connection's io thread (hiredis runs there only) and wait for it, up to a bound; a writer
// blocked on a slow or absent Redis is backpressure, and the helper retries after a throw.
class IndexWriter final : public core::EventSubscriber {
 public:
  struct Options {
    std::chrono::milliseconds timeout{2000};        // per Redis round trip
    std::chrono::milliseconds wipe_timeout{60000};  // a whole wipe (SCAN + UNLINK rounds)
    std::size_t events_per_transaction = 512;
    std::function<void(std::string_view)> log;  // why an index is wiped; empty: stderr
  };

  // `log_id`: the stamp of the event log (non-empty); an index stamped otherwise is foreign.
  // `log_head`: the log's last position, called on the subscription thread; a cursor beyond it
  // belongs to another (or a rewound) log.
  IndexWriter(std::shared_ptr<Connection> connection, std::string log_id,
              std::function<std::int64_t()> log_head, Options options);

  std::string_view name() const override { return "redis_index"; }
  // Reads the cursor. Missing, stamped by another log, of another layout, beyond the log's head,
  // or distrusted after a failed delivery: wipes `roombus:upcoming:*` (SCAN + UNLINK), stamps the
  // cursor with position 0, and returns 0. Throws when Redis cannot be reached in time.
  std::int64_t resume_position() override;
  void deliver(std::span<const core::Event* const> events) override;
  std::int64_t handled_position() const override { return handled_.load(); }
  // Deliveries complete before deliver() returns, so there is nothing left to wait for.
  void finish(std::chrono::steady_clock::time_point deadline) override;
  // Any thread, at shutdown: a call waiting for the io thread (which may have stopped) gives up
  // within 50 ms, and every later call fails at once.
  void interrupt() override;

  // For /metrics (any thread): wipes done (each starts a rebuild from position 0).
  std::uint64_t wipes() const { return wipes_.load(); }

  // On the io thread, while no event arrives to reveal it: true when the cursor in Redis is not
  // the one this writer wrote (Redis flushed, restarted empty, or the cursor edited). The next
  // resume_position() then wipes, so the subscription helper must call it (and re-feed) even
  // with no delivery failing. False when intact, and when Redis cannot tell now (down, slow) or a
  // resume is under way. One HMGET: cheap enough for every few seconds and every reconnect
  // (Connection::generation()). The writer must outlive the call.
  asio::awaitable<bool> check_stale(Deadline deadline);

 private:
  // Runs make()'s coroutine on the io thread and waits for it until `until`. A call that gave up
  // waiting leaves its coroutine superseded: it issues nothing more once a newer call exists.
  template <class T, class Make>
  T on_io(Make make, std::chrono::steady_clock::time_point until);
  void log(const std::string& line) const;

  std::shared_ptr<Connection> connection_;
  std::string log_id_;
  std::function<std::int64_t()> log_head_;
  Options options_;
  std::int64_t written_ = 0;  // the cursor as this writer last wrote or read it
  std::shared_ptr<std::atomic<std::uint64_t>> latest_turn_;
  // Set when the cursor was found moved under the writer: the next resume wipes.
  std::atomic<bool> distrusted_{false};
  std::atomic<bool> resuming_{false};
  std::atomic<bool> interrupted_{false};
  std::atomic<std::int64_t> handled_{0};
  // The cursor may be anywhere in [handled_, in_flight_to_] while a delivery is under way (or
  // timed out yet applied later).
  std::atomic<std::int64_t> in_flight_to_{0};
  std::atomic<std::uint64_t> wipes_{0};
};

// What a reader requires of the index before it takes an answer from it: the cursor stamped
// `log_id` (with this key layout) at `min_position` or beyond. Passing the position of the last
// durable event the reader has seen gives read-your-writes; the stamp keeps a flushed, restarted
// or foreign index from being read as an empty one.
struct IndexRequirement {
  std::string log_id;
  std::int64_t min_position = 0;
};

// The read side, for getRooms (io thread): the uids in `server`'s index whose start (Unix
// seconds) lies in [from_unix, to_unix], by start, then by uid (Redis's order for equal scores;
// the in-memory path breaks ties by room number, so a caller that needs that order re-sorts).
struct RoomUids {
  std::error_code error;
  std::string text;  // for an unexpected or error reply (e.g. WRONGTYPE after a hand edit)
  std::vector<std::string> uids;
  // Set (with `text` saying why, and no uids) when the index does not meet the requirement.
  bool behind = false;
  bool ok() const { return !error && text.empty(); }
};
// With `requirement`, the cursor is read in the same pipeline just before the range (one round
// trip; the writer's transactions move it with the data, so the range is at least that recent).
asio::awaitable<RoomUids> rooms_starting(std::shared_ptr<Connection> connection,
                                         core::ServerId server, std::int64_t from_unix,
                                         std::int64_t to_unix, Deadline deadline,
                                         std::optional<IndexRequirement> requirement = {});

}  // namespace roombus::redis
