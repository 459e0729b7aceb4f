// core::SnapshotStore on the SQLite store's snapshot files: the binary snapshot codec inside.
#include "roombus/eventlog/store_snapshots.hpp"

#include <memory>
#include <string>
#include <utility>

#include "roombus/json/snapshot_binary.hpp"

namespace roombus::eventlog {

std::optional<core::LoadedSnapshot> StoreSnapshots::load_latest() {
  std::optional<sqlite::Snapshot> stored = store_.load_latest_snapshot();
  if (!stored) return std::nullopt;
  core::LoadedSnapshot loaded;
  loaded.position = stored->position;
  loaded.format = json::is_binary_snapshot(stored->bytes) ? "binary" : "json";
  auto bytes = std::make_shared<std::string>(std::move(stored->bytes));
  loaded.decode = [bytes](std::string& error) -> std::optional<core::State> {
    auto state = json::decode_stored_snapshot(*bytes);
    // Tens of MB no longer needed: given back now, before recovery grows the state.
    std::string().swap(*bytes);
    if (!state) {
      error = state.error().text;
      return std::nullopt;
    }
    return std::move(state).value();
  };
  return loaded;
}

void StoreSnapshots::write_unpublished(std::int64_t position, const core::State& state) const {
  store_.write_snapshot_temp(position, json::encode_binary_snapshot(state));
}

void StoreSnapshots::publish(std::int64_t position, Completion on_done) {
  store_.adopt_snapshot(position, [on_done = std::move(on_done)](std::error_code ec) {
    if (!ec) return on_done(core::SnapshotResult::written, {});
    if (ec == sqlite::StoreErrc::superseded) return on_done(core::SnapshotResult::superseded, {});
    if (ec == sqlite::StoreErrc::closed) return on_done(core::SnapshotResult::closed, {});
    on_done(core::SnapshotResult::failed, ec.message());
  });
}

}  // namespace roombus::eventlog
