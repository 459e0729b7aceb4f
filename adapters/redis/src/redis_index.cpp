// RedisIndex: the index's writer and subscription, the watch (cursor and count checks), and
// getRooms answers from Redis.
#include "roombus/redis/redis_index.hpp"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <exception>
#include <utility>
#include <variant>

namespace roombus::redis {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

// Each check of the watch.
constexpr std::chrono::seconds kCheckTimeout{1};
// The writer's share of a stop: what it has not written is written from its cursor at the next
// start, so Redis must not hold the shutdown for long.
constexpr std::chrono::seconds kDrainTimeout{2};

std::int64_t unix_seconds(core::Instant t) { return t.time_since_epoch().count(); }

}  // namespace

RedisIndex::RedisIndex(std::shared_ptr<redis::Connection> connection, const core::State& state,
                       std::string log_id, std::int64_t head, core::LogReader& log,
                       services::LogFunction log_line, RedisIndexOptions options)
    : connection_(std::move(connection)),
      state_(state),
      log_id_(std::move(log_id)),
      log_line_(std::move(log_line)),
      options_(options),
      head_(head),
      timer_(connection_->get_executor()) {
  redis::IndexWriter::Options writer_options;
  writer_options.log = log_line_;
  writer_ = std::make_unique<redis::IndexWriter>(
      connection_, log_id_, [this] { return head_.load(); }, writer_options);
  services::SubscriptionOptions feed_options;
  feed_options.period = options_.feed_period;
  feed_options.wake_at = 512;
  feed_ = std::make_unique<services::Subscription>(*writer_, log, head, feed_options, log_line_);
}

RedisIndex::~RedisIndex() { feed_->close(); }

void RedisIndex::start() {
  if (started_) return;
  started_ = true;
  feed_->start();
  auto report = [log = log_line_](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      if (log) log(std::string("redis index: the watch failed: ") + ex.what());
    }
  };
  asio::co_spawn(connection_->get_executor(), watch(), std::move(report));
}

asio::awaitable<void> RedisIndex::stop(Deadline deadline, bool failed) {
  // A Redis that is down now takes nothing in the next seconds either: no wait at all.
  const Deadline until =
      connection_->up() ? std::min(deadline, Clock::now() + kDrainTimeout) : Clock::now();
  co_await feed_->stop(until, failed);
  end_watch();
}

void RedisIndex::end_watch() {
  stopped_ = true;
  timer_.cancel();
}

void RedisIndex::on_events(const core::EventBatch& events) {
  for (const core::Event& e : *events) {
    const auto position = static_cast<std::uint64_t>(e.position);
    if (const auto* r = std::get_if<core::RoomChanged>(&e.change)) {
      if (r->change == core::RoomChange::participant_added ||
          r->change == core::RoomChange::participant_removed) {
        continue;  // getRooms answers uids only
      }
      versions_[r->room.server_id] = position;
      if (r->previous_server) versions_[*r->previous_server] = position;
    } else {
      versions_[std::get<core::ServerChanged>(e.change).server.id] = position;
    }
  }
  // Before the writer hears of them: its resume_position() checks its cursor against head().
  head_.store(events->back().position);
  feed_->on_events(events);
}

std::uint64_t RedisIndex::version(core::ServerId server) const {
  auto it = versions_.find(server);
  return it == versions_.end() ? 0 : it->second;
}

asio::awaitable<std::optional<std::vector<const core::Room*>>> RedisIndex::rooms(
    core::UpcomingWindow window) {
  // Every durable event the caller may have been told about is at or before this position.
  const std::int64_t head = head_.load();
  if (!connection_->up() || connection_->stalled_for() >= options_.query_timeout) {
    ++counters_.unavailable;
    co_return std::nullopt;
  }
  if (writer_->handled_position() < head) {
    ++counters_.behind;
    co_return std::nullopt;
  }
  // Redis keeps starts only: a room still running in the window started at most the longest
  // duration before it; memory's end times decide (core::order_upcoming).
  const std::int64_t lead = window.include_running ? state_.longest_minutes() * 60 : 0;
  std::shared_ptr<redis::Connection> connection = connection_;
  std::optional<redis::IndexRequirement> requirement = redis::IndexRequirement{log_id_, head};
  const redis::Deadline deadline = Clock::now() + options_.query_timeout;
  redis::RoomUids found = co_await redis::rooms_starting(
      std::move(connection), window.server_id, unix_seconds(window.from) - lead,
      unix_seconds(window.to), deadline, std::move(requirement));
  if (found.error) {
    ++(found.error == redis::Error::timed_out ? counters_.timeouts : counters_.unavailable);
    co_return std::nullopt;
  }
  if (found.behind) {
    // The writer had applied `head`, yet the cursor says otherwise: flushed, restarted or edited.
    ++counters_.behind;
    check_cursor_soon_ = true;
    co_return std::nullopt;
  }
  if (!found.ok()) {
    ++counters_.errors;
    check_counts_soon_ = true;
    co_return std::nullopt;
  }
  std::vector<const core::Room*> candidates;
  candidates.reserve(found.uids.size());
  for (const std::string& uid : found.uids) {
    const core::Room* room = state_.room(uid);
    if (room == nullptr) {  // not a uid roombus ever issued: added by hand
      ++counters_.errors;
      // The watch has the index rebuilt. (The member itself is not logged: it came from Redis.)
      unknown_member_ = redis::upcoming_key(window.server_id) +
                        " holds a member that is no room of roombus (added by hand?)";
      co_return std::nullopt;
    }
    candidates.push_back(room);
  }
  ++counters_.answered;
  co_return core::order_upcoming(std::move(candidates), window);
}

asio::awaitable<void> RedisIndex::watch() {
  auto next_cursor_check = Clock::now() + options_.cursor_check_every;
  auto next_count_check = Clock::now() + options_.count_check_every;
  std::uint64_t generation = connection_->generation();
  while (!stopped_) {
    timer_.expires_after(options_.tick);
    co_await timer_.async_wait(use_tuple);
    if (stopped_ || !connection_->up()) continue;
    if (!unknown_member_.empty()) {
      std::string why = std::move(unknown_member_);
      unknown_member_.clear();
      co_await rebuild(std::move(why), counters_.member_repairs);
      continue;
    }
    const auto now = Clock::now();
    if (connection_->generation() != generation || check_cursor_soon_ || now >= next_cursor_check) {
      // After a reconnect at once: Redis may have restarted empty.
      generation = connection_->generation();
      check_cursor_soon_ = false;
      next_cursor_check = now + options_.cursor_check_every;
      const bool stale = co_await writer_->check_stale(now + kCheckTimeout);
      if (stopped_) break;
      if (stale) {
        ++counters_.cursor_repairs;
        feed_->request_resume();  // the writer wipes and rebuilds from position 0
        continue;
      }
    }
    if (check_counts_soon_ || now >= next_count_check) {
      const CountCheck check = co_await compare_counts();
      if (stopped_) break;
      if (!check.done) continue;  // not quiet now: the next tick tries again
      check_counts_soon_ = false;
      next_count_check = Clock::now() + options_.count_check_every;
      if (!check.difference.empty()) co_await rebuild(check.difference, counters_.count_repairs);
    }
  }
}

asio::awaitable<RedisIndex::CountCheck> RedisIndex::compare_counts() {
  // Only while memory, the log and the index are at one position: then each server's sorted set
  // must hold exactly its live rooms.
  const std::int64_t head = head_.load();
  auto quiet = [&] {
    return state_.position() == head && head_.load() == head && writer_->handled_position() == head;
  };
  if (!quiet()) co_return CountCheck{false, {}};
  std::vector<core::ServerId> ids;
  std::vector<redis::Argv> commands;
  for (const auto& [id, server] : state_.servers()) {
    ids.push_back(id);
    commands.push_back(redis::Argv{"ZCARD", redis::upcoming_key(id)});
  }
  if (commands.empty()) co_return CountCheck{true, {}};
  redis::Replies replies =
      co_await connection_->exec(std::move(commands), Clock::now() + kCheckTimeout);
  if (!replies.ok() || !quiet()) co_return CountCheck{false, {}};
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const core::Server* server = state_.server(ids[i]);
    const auto expected =
        static_cast<long long>(server->deleted ? 0 : state_.live_room_count(ids[i]));
    const redis::Reply& count = replies.replies[i];
    if (count.type != redis::Reply::Type::integer || count.integer != expected) {
      const std::string found = count.type == redis::Reply::Type::integer
                                    ? std::to_string(count.integer) + " rooms"
                                    : "an error reply (" + count.str + ")";
      co_return CountCheck{true, "server " + std::to_string(ids[i]) + " has " + found +
                                     " in Redis but " + std::to_string(expected) + " in memory"};
    }
  }
  co_return CountCheck{true, {}};
}

asio::awaitable<void> RedisIndex::rebuild(std::string why, std::uint64_t& repairs) {
  if (log_line_) log_line_("redis index: " + why + "; rebuilding it");
  // Without its cursor the index is stale to the writer: resume_position() wipes and re-feeds.
  redis::Argv drop{"DEL", std::string(redis::index_cursor_key)};
  const redis::Outcome dropped =
      co_await connection_->command(std::move(drop), Clock::now() + kCheckTimeout);
  if (!dropped.ok() || dropped.reply.is_error()) co_return;  // the next check finds it again
  ++repairs;
  feed_->request_resume();
}

}  // namespace roombus::redis
