// CommandConsumer's admission: taking records, the running and in-flight limits, hold and pause.
#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include "roombus/consumers/command_consumer.hpp"

namespace roombus::consumers {
namespace {

// One record's run: the command through the runner, then its result out. A named coroutine that
// takes what it needs as parameters (GCC 12: no capturing lambda coroutines).
asio::awaitable<void> run_record(CommandConsumer& consumer, std::uint64_t tag,
                                 CommandRecord record) {
  CommandRecord argument = record;
  // The call outside the co_await expression: its by-value argument is no temporary of it.
  asio::awaitable<CommandResult> run = consumer.runner()(std::move(argument));
  CommandResult result = co_await std::move(run);
  consumer.finish_run(tag, record, result);
}

}  // namespace

void CommandConsumer::on_message(kafka::Message message) {
  if (!taking_) return;  // not stored: the next run takes it
  const std::uint64_t tag = track(message);
  if (++in_flight_ >= options_.max_in_flight) hold();

  Decoded decoded = decode_command(message.value, message.headers);
  if (!decoded.record) {
    dead_letter(tag, message, decoded.refusal, decoded.detail);
    return;
  }
  pending_[tag].type = decoded.record->type;
  if (!key_known_(decoded.record->key)) {
    dead_letter(tag, message, Refusal::wrong_key, "the key is not the API key of a live server");
    return;
  }
  Waiting waiting{tag, std::move(*decoded.record), std::move(message)};
  if (running_ < running_limit() && waiting_.empty()) {
    run(std::move(waiting));
  } else {
    waiting_.push_back(std::move(waiting));
  }
}

void CommandConsumer::run(Waiting waiting) {
  ++running_;
  // A runner that throws is a bug: the record goes to the dead letters instead of blocking its
  // partition (or being lost).
  const std::uint64_t tag = waiting.tag;
  asio::co_spawn(io_, run_record(*this, tag, std::move(waiting.record)),
                 [this, tag, message = std::move(waiting.message)](std::exception_ptr e) {
                   run_done(tag, message, e);
                 });
}

void CommandConsumer::run_done(std::uint64_t tag, const kafka::Message& message,
                               std::exception_ptr error) {
  --running_;
  run_waiting();
  if (!error) return;
  std::string what = "unknown exception";
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& ex) {
    what = ex.what();
  } catch (...) {
  }
  if (log_) log_("command consumer: running a command failed: " + what);
  dead_letter(tag, message, Refusal::failed, what);
}

bool CommandConsumer::busy() const { return options_.busy && options_.busy(); }

std::size_t CommandConsumer::running_limit() const {
  return busy() ? options_.max_running_busy : options_.max_running;
}

void CommandConsumer::run_waiting() {
  if (waiting_.empty() || run_waiting_posted_) return;
  // Posted, not run here: finish_run runs inside a commit's completion handler, which should not
  // grow by the next commands' decisions.
  run_waiting_posted_ = true;
  asio::post(io_, [this] {
    run_waiting_posted_ = false;
    while (!waiting_.empty() && running_ < running_limit()) {
      Waiting next = std::move(waiting_.front());
      waiting_.pop_front();
      run(std::move(next));
    }
  });
}

void CommandConsumer::hold() {
  if (consumer_->held()) return;
  consumer_->hold();
  const std::uint64_t hold = ++holds_;
  // Full for a moment is normal under a flood; full for long (results not acknowledged, a slow
  // log) means pausing, so that Kafka, not this process, keeps the records. Only this hold's
  // length counts: under a flood holds come and go many times a second, and a pause makes
  // librdkafka drop and fetch again what it had prefetched.
  auto timer = std::make_shared<asio::steady_timer>(io_, options_.pause_after);
  timer->async_wait([this, timer, hold](std::error_code ec) {
    if (!ec && hold == holds_ && consumer_->held() && !consumer_->paused()) consumer_->pause();
  });
}

void CommandConsumer::release() {
  --in_flight_;
  if (taking_ && consumer_->held() && in_flight_ <= options_.max_in_flight / 2) {
    consumer_->resume();
  }
  if (in_flight_ == 0 && !when_idle_.empty()) {
    std::vector<std::function<void()>> waiting;
    waiting.swap(when_idle_);
    for (auto& then : waiting) then();
  }
}

void CommandConsumer::when_idle(std::function<void()> then) {
  if (in_flight_ == 0) {
    then();
    return;
  }
  when_idle_.push_back(std::move(then));
}

}  // namespace roombus::consumers
