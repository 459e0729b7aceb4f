// Public contract of the durable event store: an append-only SQLite log with group commit.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace roombus::sqlite {

// One record of the log. The store treats every field as opaque; the caller's codec gives them
// meaning. Positions start at 1 and are assigned by the caller: each appended event must carry
// the position right after the previous one (see EventStore::append).
struct StoredEvent {
  std::int64_t position = 0;
  std::string aggregate;
  std::int64_t version = 0;
  std::string command_id;
  std::int64_t time_unix = 0;
  std::string type;
  std::string payload;  // arbitrary bytes
};

// The reply to repeat when a command id is seen again. `outcome` is arbitrary bytes.
struct CommandOutcome {
  std::string command_id;
  std::string outcome;
  // When the command was decided (Unix seconds, the clock of StoredEvent::time_unix): outcomes
  // expire by it (EventStoreOptions::outcome_ttl). Read back as the upgrade's time for outcomes
  // written before schema version 3, as 0 from a read-only store of an older log.
  std::int64_t time_unix = 0;
};

// What one decided command writes: its events and its outcome(s), made durable together.
// A batch with no events (a rejected command's outcome) or even an empty batch (a barrier whose
// callback runs once everything appended before it is durable) is allowed.
struct Batch {
  std::vector<StoredEvent> events;
  std::vector<CommandOutcome> outcomes;
  // Subscribers' cursors to set (name, position), made durable with the rest; see cursor().
  std::vector<std::pair<std::string, std::int64_t>> cursors;
  // Optional: runs at most once, on the writer thread, just before the batch is written, to fill
  // in what is costly to compute (payloads, outcome rows) off the caller's thread. It may add
  // outcomes; it must leave the number of events and their positions as append() checked them,
  // and must be safe to run on another thread. Throwing (anything) fails the transaction like a
  // failed commit. It does not run if the store has already failed, or if a hook of an earlier
  // batch of the same transaction threw; on_durable is called exactly once either way.
  std::function<void(Batch&)> complete;
};

struct Snapshot {
  std::int64_t position = 0;  // the state includes every event up to and including this one
  std::string bytes;
};

// Monotonic totals since open(), for tests, benchmarks and /metrics.
struct Counters {
  std::uint64_t transactions = 0;      // committed SQLite transactions, i.e. fsyncs of the log
  std::uint64_t batches = 0;           // batches made durable
  std::uint64_t events = 0;            // events made durable
  std::uint64_t snapshots = 0;         // snapshot files written
  std::uint64_t checkpoints = 0;       // background copies of the WAL into roombus.db
  std::uint64_t outcomes_expired = 0;  // outcome rows deleted after outcome_ttl
};

// Errors the store reports through callbacks. SQLite failures arrive with sqlite_category()
// (value = extended result code), file-system failures with std::system_category() (errno).
enum class StoreErrc {
  stopped = 1,  // an earlier commit failed; the store refuses every further write (fail-stop)
  closed,       // close() ran before this snapshot's position became durable
  superseded,   // a newer snapshot became writable before this one was written
};
const std::error_category& store_category() noexcept;
const std::error_category& sqlite_category() noexcept;
std::error_code make_error_code(StoreErrc e) noexcept;

struct EventStoreOptions {
  // How long SQLite waits for a lock held by another connection (backups, the sqlite3 shell).
  std::chrono::milliseconds busy_timeout{5000};
  // Snapshot files kept after each write (the newest ones); at least 1.
  std::size_t snapshots_to_keep = 2;
  // Command outcomes at least this old, measured against the newest time the log has seen (of an
  // event or an outcome), are deleted by the writer inside its transactions, a bounded number
  // from the oldest end per commit. 0 keeps them all. Events are never deleted.
  std::chrono::seconds outcome_ttl{0};
  // Warnings and errors the caller cannot otherwise see: skipped snapshot files, failed commits,
  // snapshot write failures. Called from the opening thread, the writer thread or the snapshot
  // thread, so it must be thread-safe. Empty: lines go to stderr.
  std::function<void(std::string_view)> log;
};

// Threads: open() (not open_read_only()) starts three threads of its own: the writer (every log
// transaction, and the deletion of expired outcomes inside them), the snapshotter (snapshot
// files, so a large snapshot never delays a commit) and the checkpointer (copies the WAL into
// roombus.db, so that never delays a commit either).
//
// Thread-safety: every member function may be called from any thread. append() and
// write_snapshot() never touch the disk; the read functions block on the disk and are meant for
// start-up (they use a separate read connection, so they are safe while appends are in flight,
// and see only what is already durable).
//
// Failure: open() and the read functions throw std::runtime_error with a message fit for an
// operator; misuse (non-contiguous positions, use after close) throws std::logic_error. Nothing
// thrown on the store's own threads escapes them: it is delivered as a std::error_code.
class EventStore {
 public:
  using Options = EventStoreOptions;
  using Completion = std::function<void(std::error_code)>;

  // Creates `data_dir` if needed and locks it for this process: flock() on <data_dir>/LOCK, which
  // holds our pid, until close(). A directory locked by another process, or by another EventStore
  // of this process, fails at once ("data directory D is in use by another roombus process (pid
  // N)"). Opens or creates <data_dir>/roombus.db (WAL, synchronous=FULL) and
  // <data_dir>/snapshots/. Blocking.
  static std::unique_ptr<EventStore> open(const std::filesystem::path& data_dir,
                                          Options options = {});

  // Opens an existing log for reading only (`roombus log dump`, inspection): no lock, no threads,
  // nothing created, so it works beside a live `roombus serve` on the same directory (a WAL
  // reader sees every committed transaction and never blocks the writer). Only the read functions
  // and backup_to() are usable; append() and write_snapshot() throw std::logic_error. Throws
  // std::runtime_error if the directory or <data_dir>/roombus.db is missing or not a roombus log.
  // SQLite may leave empty roombus.db-wal/-shm files behind if no writer was running. Blocking.
  static std::unique_ptr<EventStore> open_read_only(const std::filesystem::path& data_dir,
                                                    Options options = {});

  EventStore(const EventStore&) = delete;
  EventStore& operator=(const EventStore&) = delete;
  // Runs close(); errors there are swallowed.
  ~EventStore();

  // Queues `batch`; never blocks on the disk. The writer thread commits everything queued while
  // its previous transaction was in flight as ONE transaction (one fsync), then runs the
  // callbacks of those batches in append order, ON THE WRITER THREAD: the caller must post the
  // work back to its own thread and must not block there. `on_durable` is called exactly once:
  // with no error once the batch is durable, or with the commit's error, in which case every
  // later batch gets StoreErrc::stopped — the caller is expected to exit and recover from the log.
  // Outcomes are recorded in commit order without a uniqueness check (an index on command ids
  // would dirty a random page per insert): the caller answers repeated ids from memory. Should
  // an id be appended twice anyway, readers treat the first outcome as the one that counts.
  // Expired outcomes (Options::outcome_ttl) are deleted in the same transactions.
  // Throws std::logic_error, queueing nothing, if the events' positions do not continue the log
  // (1 + the last appended position, then +1 each), or after close() began.
  void append(Batch batch, Completion on_durable);

  // Queues a snapshot of the state at `position` (>= 0, and <= the last appended position; throws
  // std::logic_error otherwise); never blocks on the disk. The snapshot thread writes it once
  // `position` is durable — a snapshot is never ahead of the log — as
  // <data_dir>/snapshots/snapshot-<20 digits>.bin (temp file, fsync, rename, fsync of the
  // directory), then keeps only the newest `snapshots_to_keep` files. `on_done`, if set, runs on
  // the snapshot thread: no error, a std::system_category() error, StoreErrc::superseded, or
  // StoreErrc::closed/stopped if the position never became durable.
  void write_snapshot(std::int64_t position, std::string bytes, Completion on_done = {});

  // The two halves of write_snapshot() for a snapshot encoded in another process (a forked
  // child holding a copy-on-write image of the state, so that the state is never held twice).
  // write_snapshot_temp() writes and fsyncs the temp file of `position` (header and payload). It
  // reads only the store's immutable directory and takes no lock, so a child forked while other
  // threads hold the store's locks may call it; blocking; throws std::system_error.
  // adopt_snapshot() then queues that file as write_snapshot() queues bytes: once `position` is
  // durable the snapshot thread renames it into place (fsync of the directory) and prunes; a
  // temp file that is never published (superseded, closed, stopped, or this call throwing) is
  // removed. Same position rule and exceptions as write_snapshot().
  void write_snapshot_temp(std::int64_t position, std::string_view payload) const;
  void adopt_snapshot(std::int64_t position, Completion on_done = {});

  // The newest valid snapshot, or none (then replay the whole log). Files that cannot be read,
  // are truncated, fail their checksum or lie beyond the log's last position are skipped and
  // reported through Options::log. Blocking.
  std::optional<Snapshot> load_latest_snapshot();

  // Streams the durable events with position > after_position in position order, at most
  // `limit` of them, without loading the log into memory; the StoredEvent is reused between
  // calls, copy what you keep. Throws std::runtime_error if the log has a gap. Blocking.
  // `on_event` must not call the read functions of this store (the read connection is busy).
  void replay(std::int64_t after_position, const std::function<void(const StoredEvent&)>& on_event,
              std::size_t limit = SIZE_MAX);

  // The durable cursor `name` (the last value a Batch set for it), 0 if never set. Blocking.
  std::int64_t cursor(std::string_view name);

  // A random identifier of this log, made when the log was created (or first opened by a release
  // that knows it): consumers use it to tell this log's positions from those of another log.
  // Empty only for a read-only store on a log no such release has opened.
  const std::string& log_id() const;

  // Position of the last durable event; 0 for an empty log. Blocking.
  std::int64_t last_position();

  // First durable outcome of `command_id`, if any. Blocking, and a scan of the outcomes (they
  // have no index): for tests and inspection; the caller keeps outcomes in memory (see
  // for_each_outcome) for its hot path.
  std::optional<std::string> find_outcome(std::string_view command_id);

  // Streams the newest `limit` durable outcomes, oldest first (commit order), to warm the
  // caller's cache. An id appended twice is streamed twice: keep the first (with a `limit` that
  // cuts off an id's first outcome, its later one is all that comes). Expired outcomes not yet
  // deleted come too: the caller skips them by time_unix. Blocking. Same re-entrancy rule as
  // replay().
  void for_each_outcome(const std::function<void(const CommandOutcome&)>& on_outcome,
                        std::size_t limit = SIZE_MAX);

  // Writes a consistent copy of the database to `file` (via a temp file and rename) with the
  // sqlite3_backup API, while appends continue. Blocking; throws std::runtime_error on failure.
  void backup_to(const std::filesystem::path& file);

  // Totals so far; never blocks on the disk.
  Counters counters() const;

  // The commit error that stopped the store, or no error. For readiness probes.
  std::error_code failure() const;

  // Stops accepting appends, commits everything queued (running its callbacks), writes a queued
  // snapshot that became durable, joins its three threads (writer, snapshotter, checkpointer),
  // closes the database and releases the lock. Idempotent. Blocking. Must not be called from a
  // callback or one of those threads (throws std::logic_error).
  void close();

 private:
  struct Impl;
  enum class Mode { read_write, read_only };
  EventStore(const std::filesystem::path& data_dir, Options options, Mode mode);

  std::unique_ptr<Impl> impl_;
};

}  // namespace roombus::sqlite

template <>
struct std::is_error_code_enum<roombus::sqlite::StoreErrc> : std::true_type {};
