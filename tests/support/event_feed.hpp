// Test support: durable-event plumbing without a disk — a log reader over events kept in memory,
// a cursor store in memory, and a World whose durable batches are recorded for feeding.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "roombus/core/log_ports.hpp"
#include "roombus/core/subscriber.hpp"
#include "support/core_fakes.hpp"

namespace roombus::test {

// Every event the World's log took, readable from any thread like the real log.
class MemoryLogReader final : public core::LogReader {
 public:
  explicit MemoryLogReader(const testing::World& world) : world_(world) {}
  void replay(std::int64_t after, const std::function<void(core::Event&&)>& on_event,
              std::size_t limit) override {
    std::vector<core::Event> out;
    {
      std::lock_guard lock(mutex_);
      for (const core::Event& e : events_) {
        if (e.position > after && out.size() < limit) out.push_back(e);
      }
      ++reads;
    }
    for (core::Event& e : out) on_event(std::move(e));
  }
  void for_each_outcome(const std::function<void(core::Outcome&&)>&) override {}
  // Copies what the World appended so far (call on the test thread, between commands).
  void sync() {
    std::lock_guard lock(mutex_);
    events_ = world_.log.appended;
  }
  std::int64_t head() {
    std::lock_guard lock(mutex_);
    return events_.empty() ? 0 : events_.back().position;
  }
  int reads = 0;

 private:
  const testing::World& world_;
  std::mutex mutex_;
  std::vector<core::Event> events_;
};

// Cursors in memory; saves complete on a thread of their own, as the store's writer does.
class MemoryCursors final : public core::CursorStore {
 public:
  ~MemoryCursors() override {
    for (auto& t : threads_) t.join();
  }
  std::int64_t load(std::string_view name) override {
    std::lock_guard lock(mutex_);
    auto it = values_.find(std::string(name));
    return it == values_.end() ? 0 : it->second;
  }
  void save(std::string_view name, std::int64_t position,
            std::function<void(bool)> on_saved) override {
    std::lock_guard lock(mutex_);
    values_[std::string(name)] = position;
    ++saves;
    threads_.emplace_back([on_saved] { on_saved(true); });
  }
  void set(std::string_view name, std::int64_t position) {
    std::lock_guard lock(mutex_);
    values_[std::string(name)] = position;
  }
  int saves = 0;

 private:
  std::mutex mutex_;
  std::map<std::string, std::int64_t, std::less<>> values_;
  std::vector<std::thread> threads_;
};

// Creates `rooms` rooms (after one server) in the World; returns the server's key.
inline std::string fill(testing::World& world, int rooms) {
  auto server = world.register_server("meet.example.com", {"@example.com"});
  for (int i = 0; i < rooms; ++i) {
    world.create_room(server.key, "meet.example.com", "alice@example.com", "2030-01-07T09:00", "30",
                      "Room " + std::to_string(i));
  }
  return server.key;
}

}  // namespace roombus::test
