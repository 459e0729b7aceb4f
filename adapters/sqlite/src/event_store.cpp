// The store's lifecycle: the directory lock, opening, the threads' start and stop, close().
#include "roombus/sqlite/event_store.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include "snapshot_file.hpp"
#include "sqlite_db.hpp"
#include "store_impl.hpp"

namespace roombus::sqlite {

namespace {

using detail::SqliteError;

}  // namespace

EventStore::Impl::Impl(const std::filesystem::path& data_dir, Options opts, Mode mode)
    : dir(data_dir),
      snapshot_dir(data_dir / "snapshots"),
      db_path(data_dir / "roombus.db"),
      options(std::move(opts)),
      read_only(mode == Mode::read_only) {
  options.snapshots_to_keep = std::max<std::size_t>(options.snapshots_to_keep, 1);

  std::error_code ec;
  if (read_only) {
    // Creating anything here would turn a mistyped path into a fresh, empty log.
    const auto status = std::filesystem::status(dir, ec);
    if (status.type() == std::filesystem::file_type::not_found) {
      throw std::runtime_error("data directory " + dir.string() + " does not exist");
    }
    if (!std::filesystem::is_directory(status)) {
      throw std::runtime_error("data directory " + dir.string() + " is not a directory" +
                               (ec ? ": " + ec.message() : ""));
    }
    if (!std::filesystem::is_regular_file(db_path, ec)) {
      throw std::runtime_error("no event log in data directory " + dir.string() + " (" +
                               db_path.filename().string() + " is missing)");
    }
    try {
      open_read_only_database();
    } catch (const SqliteError& e) {
      throw std::runtime_error("event log " + db_path.string() + ": " + e.what());
    }
    return;
  }

  std::filesystem::create_directories(dir, ec);
  if (ec) {
    throw std::runtime_error("cannot create data directory " + dir.string() + ": " + ec.message());
  }
  if (!std::filesystem::is_directory(dir, ec)) {
    throw std::runtime_error("data directory " + dir.string() + " is not a directory");
  }
  dir_lock.emplace(dir);

  std::filesystem::create_directories(snapshot_dir, ec);
  if (ec) {
    throw std::runtime_error("cannot create snapshot directory " + snapshot_dir.string() + ": " +
                             ec.message());
  }
  detail::remove_snapshot_temp_files(snapshot_dir);

  try {
    open_database();
  } catch (const SqliteError& e) {
    throw std::runtime_error("event log " + db_path.string() + ": " + e.what());
  }
}

void EventStore::Impl::log(const std::string& message) const noexcept {
  try {
    if (options.log) {
      options.log(message);
      return;
    }
  } catch (...) {
    // A broken log sink must not take the writer thread down; stderr still gets the line.
  }
  std::fprintf(stderr, "roombus: %s\n", message.c_str());
}

void EventStore::Impl::start_threads() {
  try {
    writer = std::thread([this] { writer_loop(); });
    writer_id = writer.get_id();
    snapshotter = std::thread([this] { snapshot_loop(); });
    snapshotter_id = snapshotter.get_id();
    // Last: it ends once the writer is done, so the cleanup below never has to stop it.
    checkpointer = std::thread([this] { checkpoint_loop(); });
    checkpointer_id = checkpointer.get_id();
  } catch (...) {
    stop_threads();
    throw;
  }
}

void EventStore::Impl::stop_threads() {
  {
    std::lock_guard lock(mutex);
    closing = true;
  }
  work_cv.notify_all();
  snapshot_cv.notify_all();
  if (writer.joinable()) writer.join();
  if (snapshotter.joinable()) snapshotter.join();
  if (checkpointer.joinable()) checkpointer.join();
}

void EventStore::Impl::close() {
  const auto self = std::this_thread::get_id();
  if (self == writer_id || self == snapshotter_id || self == checkpointer_id) {
    throw std::logic_error("event store: close() called from one of its own threads");
  }
  std::lock_guard close_lock(close_mutex);
  if (closed) return;
  stop_threads();

  // Statements before their connection, so the connection really closes (and checkpoints).
  begin = {};
  commit = {};
  rollback = {};
  insert_event = {};
  insert_outcome = {};
  upsert_meta = {};
  oldest_outcomes = {};
  delete_outcomes = {};
  {
    std::lock_guard lock(read_mutex);
    reader_db.reset();
  }
  checkpoint_db.reset();
  // The last connection: it checkpoints everything and removes the WAL.
  writer_db.reset();
  dir_lock.reset();
  closed = true;
}

std::unique_ptr<EventStore> EventStore::open(const std::filesystem::path& data_dir,
                                             Options options) {
  return std::unique_ptr<EventStore>(
      new EventStore(data_dir, std::move(options), Mode::read_write));
}

std::unique_ptr<EventStore> EventStore::open_read_only(const std::filesystem::path& data_dir,
                                                       Options options) {
  return std::unique_ptr<EventStore>(new EventStore(data_dir, std::move(options), Mode::read_only));
}

EventStore::EventStore(const std::filesystem::path& data_dir, Options options, Mode mode)
    : impl_(std::make_unique<Impl>(data_dir, std::move(options), mode)) {
  if (mode == Mode::read_write) impl_->start_threads();
}

EventStore::~EventStore() {
  try {
    impl_->close();
  } catch (...) {
    // Nothing sensible is left to do with an error while being destroyed.
  }
}

Counters EventStore::counters() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->totals;
}

std::error_code EventStore::failure() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->failure;
}

void EventStore::close() { impl_->close(); }

}  // namespace roombus::sqlite
