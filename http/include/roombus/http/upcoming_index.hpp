// Port of getRooms to a shared upcoming-room index (Redis), and the cache of the answers rendered
// from it.
#pragma once

#include <asio/awaitable.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "roombus/core/model.hpp"
#include "roombus/core/queries.hpp"

namespace roombus::http {

// A driven port of the HTTP adapter rather than of the core, because its query is asynchronous
// (the core's ports never wait). app/ implements it on Redis; http/ does not link Redis.
//
// Threads: both members run on the io_context's thread that owns the core's Service. Ownership:
// the implementation outlives the Api that uses it.
class UpcomingIndex {
 public:
  virtual ~UpcomingIndex() = default;

  // Non-blocking. A value that changes whenever a durable event may have changed what `window`
  // questions about `server` answer: an answer obtained under one value stays right while the
  // value and the clock's second are unchanged.
  virtual std::uint64_t version(core::ServerId server) const = 0;

  // The rooms of the window, from the index, in getRooms order (start, then room number) and
  // including every durable change the caller could have been told about (read-your-writes).
  // nullopt when the index cannot answer now (not configured, behind the log, down, stalled,
  // too slow, damaged): the caller then answers from memory. Completes within the index's own
  // deadline (well under a second); never throws.
  virtual asio::awaitable<std::optional<std::vector<const core::Room*>>> rooms(
      core::UpcomingWindow window) = 0;
};

// getRooms answers rendered from the index, reused while they cannot have changed: in the same
// second (the window moves with the clock, which has whole seconds) and under the same version
// of the server's index. It turns most getRooms into a lookup and a copy of bytes; the index
// stays the source of every answer. Single-threaded (io thread); at most `capacity` answers.
class RoomsAnswerCache {
 public:
  struct Key {
    core::ServerId server = 0;
    std::int64_t window_seconds = 0;
    bool include_running = false;
    friend bool operator==(const Key&, const Key&) = default;
  };

  explicit RoomsAnswerCache(std::size_t capacity = 4096) : capacity_(capacity) {}

  // The body rendered for `key` at `now` under `version`, or null. Shared, so a hit is sent
  // without copying it.
  std::shared_ptr<const std::string> find(const Key& key, core::Instant now,
                                          std::uint64_t version) const;
  // Replaces what `key` held. A full cache is emptied first: answers live a second at most, so
  // the working set refills at once, and a caller cycling through windows cannot grow it.
  void store(const Key& key, core::Instant now, std::uint64_t version,
             std::shared_ptr<const std::string> body);

 private:
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept;
  };
  struct Entry {
    core::Instant now{};
    std::uint64_t version = 0;
    std::shared_ptr<const std::string> body;
  };

  std::size_t capacity_;
  std::unordered_map<Key, Entry, KeyHash> entries_;
};

}  // namespace roombus::http
