// Fixtures for the event store tests: the kit's temp directory, record builders, waiting helpers.
#pragma once

#include <sqlite3.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "roombus/sqlite/event_store.hpp"
#include "support/temp_dir.hpp"

namespace roombus::sqlite::test {

using roombus::test::TempDir;

// Collects what the store logs; the store may log from its own threads.
class LogCapture {
 public:
  EventStore::Options options() {
    EventStore::Options options;
    options.log = [this](std::string_view line) {
      std::lock_guard lock(mutex_);
      lines_.emplace_back(line);
    };
    return options;
  }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  bool contains(std::string_view text) const {
    std::lock_guard lock(mutex_);
    for (const auto& line : lines_) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

// Versions are unique per aggregate because positions are unique: version = position.
inline StoredEvent make_event(std::int64_t position, std::string payload = "{}") {
  StoredEvent event;
  event.position = position;
  event.aggregate = "room-" + std::to_string(position % 7);
  event.version = position;
  event.command_id = "cmd-" + std::to_string(position);
  event.time_unix = 1'700'000'000 + position;
  event.type = "room.created";
  event.payload = std::move(payload);
  return event;
}

// Makes every later insert of an event with type "poison" fail, through a trigger added by a
// second connection (as an operator's sqlite3 shell could): a way to make a commit fail.
inline void install_poison_trigger(const std::filesystem::path& data_dir) {
  sqlite3* shell = nullptr;
  const bool opened = sqlite3_open((data_dir / "roombus.db").c_str(), &shell) == SQLITE_OK;
  const bool created =
      opened &&
      sqlite3_exec(shell,
                   "CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.type = 'poison' "
                   "BEGIN SELECT RAISE(ABORT, 'poisoned'); END",
                   nullptr, nullptr, nullptr) == SQLITE_OK;
  sqlite3_close(shell);
  if (!created) throw std::runtime_error("cannot install the poison trigger");
}

inline StoredEvent make_poisoned_event(std::int64_t position) {
  StoredEvent event = make_event(position);
  event.type = "poison";
  return event;
}

inline Batch make_batch(std::int64_t first_position, int count) {
  Batch batch;
  for (int i = 0; i < count; ++i) batch.events.push_back(make_event(first_position + i));
  return batch;
}

// Appends and blocks until the batch's callback ran. The promise is shared with the callback
// because set_value() may still be running on the writer thread when get() returns.
inline std::error_code append_and_wait(EventStore& store, Batch batch) {
  auto done = std::make_shared<std::promise<std::error_code>>();
  auto result = done->get_future();
  store.append(std::move(batch), [done](std::error_code ec) { done->set_value(ec); });
  return result.get();
}

inline std::error_code snapshot_and_wait(EventStore& store, std::int64_t position,
                                         std::string bytes) {
  auto done = std::make_shared<std::promise<std::error_code>>();
  auto result = done->get_future();
  store.write_snapshot(position, std::move(bytes),
                       [done](std::error_code ec) { done->set_value(ec); });
  return result.get();
}

inline std::vector<StoredEvent> replay_all(EventStore& store, std::int64_t after = 0) {
  std::vector<StoredEvent> events;
  store.replay(after, [&events](const StoredEvent& event) { events.push_back(event); });
  return events;
}

}  // namespace roombus::sqlite::test
