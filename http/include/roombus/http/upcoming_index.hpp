// The cache of getRooms answers rendered from the shared upcoming-room index (the port is
// services::UpcomingIndex).
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
