// Port of getRooms to a shared upcoming-room index (Redis): asked by the HTTP API, kept by an
// adapter.
#pragma once

#include <asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <vector>

#include "roombus/core/model.hpp"
#include "roombus/core/queries.hpp"

namespace roombus::services {

// A port of the application rather than of the core, because its query is asynchronous (the
// core's ports never wait). adapters/redis implements it; http/ asks it and does not link Redis.
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

}  // namespace roombus::services
