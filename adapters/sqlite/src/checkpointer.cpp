// The checkpointer thread, which copies the WAL into roombus.db off the writer's path.
#include <cstdint>
#include <mutex>
#include <string>

#include "store_impl.hpp"

namespace roombus::sqlite {

namespace {

// WAL size at which the checkpointer thread copies the WAL into roombus.db. Checkpointing on the
// writer, as SQLite does by default, stalls every commit queued behind it: moving it off took
// the p99 of HTTP creates from ~20 to ~15 ms. In bytes, because the page size of a log depends
// on the version that created it (4 KiB before 16 KiB pages).
constexpr std::int64_t kCheckpointBytes = 16 << 20;
// If the checkpointer cannot keep up (it never catches a moment without new frames), the writer
// checkpoints itself at this size, which bounds the WAL like journal_size_limit.
constexpr std::int64_t kWriterCheckpointBytes = 64 << 20;

}  // namespace

void EventStore::Impl::set_checkpoint_pages(std::int64_t page_size) {
  checkpoint_pages = static_cast<int>(kCheckpointBytes / page_size);
  writer_checkpoint_pages = static_cast<int>(kWriterCheckpointBytes / page_size);
}

int EventStore::Impl::on_wal_commit(void* self, sqlite3* db, const char* schema, int pages) {
  auto& impl = *static_cast<Impl*>(self);
  if (pages >= impl.writer_checkpoint_pages) {
    // What SQLite's automatic checkpoint would have done; a failure leaves the WAL intact.
    sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  } else if (pages >= impl.checkpoint_pages) {
    {
      std::lock_guard lock(impl.mutex);
      impl.checkpoint_wanted = true;
    }
    impl.checkpoint_cv.notify_one();
  }
  return SQLITE_OK;
}

void EventStore::Impl::checkpoint_loop() {
  for (;;) {
    {
      std::unique_lock lock(mutex);
      checkpoint_cv.wait(lock, [this] { return checkpoint_wanted || writer_done; });
      if (writer_done) return;  // close() checkpoints when the writer's connection closes
      checkpoint_wanted = false;
    }
    // PASSIVE never waits for the writer: commits keep appending to the WAL meanwhile, and the
    // writer restarts the WAL from its start once a checkpoint has caught up.
    const int rc = sqlite3_wal_checkpoint_v2(checkpoint_db->get(), "main",
                                             SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    if (rc == SQLITE_OK) {
      std::lock_guard lock(mutex);
      ++totals.checkpoints;
    } else if (rc != SQLITE_BUSY) {
      // Not fatal: every commit is in the WAL; the writer's own checkpoint bounds its size.
      log(std::string("background checkpoint failed: ") + sqlite3_errmsg(checkpoint_db->get()));
    }
  }
}

}  // namespace roombus::sqlite
