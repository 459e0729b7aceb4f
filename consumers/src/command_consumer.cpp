// CommandConsumer: records in, the core, results and dead letters out, offsets after both.
#include "roombus/consumers/command_consumer.hpp"

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <cctype>

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

CommandConsumer::CommandConsumer(asio::io_context& io, const kafka::Settings& settings,
                                 Runner runner, KeyCheck key_known, CommandConsumerOptions options,
                                 kafka::LogFunction log)
    : io_(io),
      settings_(settings),
      runner_(std::move(runner)),
      key_known_(std::move(key_known)),
      options_(std::move(options)),
      log_(std::move(log)) {
  options_.max_in_flight = std::max<std::size_t>(options_.max_in_flight, 1);
  options_.max_running = std::max<std::size_t>(options_.max_running, 1);
  options_.max_running_busy =
      std::clamp<std::size_t>(options_.max_running_busy, 1, options_.max_running);
  outputs_ = std::make_unique<kafka::Producer>(io_, settings_, log_);
  outputs_->on_delivery(
      [this](std::uint64_t tag, rd_kafka_resp_err_t error) { on_output(tag, error); });
  consumer_ = std::make_unique<kafka::Consumer>(
      io_, settings_, options_.group, std::vector<std::string>{settings_.topic(kCommands)}, log_);
}

CommandConsumer::~CommandConsumer() {
  stopping_ = true;
  if (topic_setup_.joinable()) topic_setup_.join();
}

void CommandConsumer::start() {
  outputs_->start();
  topic_setup_ = std::thread([this] { ensure_topics(); });
  consumer_->start([this](kafka::Message m) { on_message(std::move(m)); },
                   [this](const std::vector<kafka::TopicPartition>& p) { on_revoke(p); },
                   [this] { return busy() ? options_.batch_busy : options_.batch; });
}

void CommandConsumer::ensure_topics() {
  const std::vector<std::string> topics = {
      settings_.topic(kCommands), settings_.topic(kCommandResults), settings_.topic(kDeadLetters)};
  while (!stopping_) {
    try {
      outputs_->ensure_topics(topics, std::chrono::seconds(10));
      std::lock_guard lock(topics_mutex_);
      topics_ready_ = true;
      topics_error_.clear();
      return;
    } catch (const std::exception& e) {
      std::lock_guard lock(topics_mutex_);
      topics_error_ = e.what();
    }
    for (int i = 0; i < 20 && !stopping_; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

void CommandConsumer::on_message(kafka::Message message) {
  if (!taking_) return;  // not stored: the next run takes it
  const std::uint64_t tag = next_tag_++;
  const kafka::TopicPartition tp{message.topic, message.partition};
  pending_[tag] = Pending{tp, message.offset, "", std::nullopt};
  partitions_[tp].push_back(Slot{message.offset, false});
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

void CommandConsumer::finish_run(std::uint64_t tag, const CommandRecord& record,
                                 const CommandResult& result) {
  auto it = pending_.find(tag);
  if (it == pending_.end()) return;
  ++counts_.commands[{record.type, result.ok ? "ok" : "error"}];
  kafka::Record out;
  out.topic = settings_.topic(kCommandResults);
  out.key = record.id;
  out.value = result.body;
  out.headers = {{"roombus-command-type", record.type},
                 {"roombus-outcome", result.ok ? "ok" : "error"},
                 {"roombus-status", std::to_string(result.status)},
                 {"content-type", "application/json"}};
  it->second.output = std::move(out);
  send(tag);
}

void CommandConsumer::dead_letter(std::uint64_t tag, const kafka::Message& message, Refusal refusal,
                                  const std::string& detail) {
  auto it = pending_.find(tag);
  if (it == pending_.end()) return;
  const std::string reason(to_string(refusal));
  ++counts_.dead_letters[reason];
  ++counts_.commands[{it->second.type.empty() ? "unknown" : it->second.type, "dead_letter"}];
  kafka::Record out;
  out.topic = settings_.topic(kDeadLetters);
  out.key = message.key;
  out.value = message.value;
  // The original headers travel on, except the credential.
  for (const auto& h : message.headers) {
    std::string lower = h.name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower != "authorization") out.headers.push_back(h);
  }
  out.headers.push_back({"roombus-error", reason});
  out.headers.push_back({"roombus-error-detail", detail});
  out.headers.push_back({"roombus-source-topic", message.topic});
  out.headers.push_back({"roombus-source-partition", std::to_string(message.partition)});
  out.headers.push_back({"roombus-source-offset", std::to_string(message.offset)});
  if (log_) {
    log_("command consumer: " + message.topic + "/" + std::to_string(message.partition) + "@" +
         std::to_string(message.offset) + " to the dead letters: " + reason + " (" + detail + ")");
  }
  it->second.output = std::move(out);
  send(tag);
}

void CommandConsumer::send(std::uint64_t tag) {
  auto it = pending_.find(tag);
  if (it == pending_.end() || !it->second.output) return;
  if (outputs_->produce(*it->second.output, tag) == RD_KAFKA_RESP_ERR_NO_ERROR) return;
  // Refused at once (queue full, ...): again a little later; the offset waits meanwhile.
  ++counts_.output_retries;
  auto timer = std::make_shared<asio::steady_timer>(io_, options_.retry);
  timer->async_wait([this, tag, timer](std::error_code ec) {
    if (!ec) send(tag);
  });
}

void CommandConsumer::on_output(std::uint64_t tag, rd_kafka_resp_err_t error) {
  if (pending_.find(tag) == pending_.end()) return;
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // Never given up: the command's offset stays uncommitted until its answer is out.
    ++counts_.output_retries;
    auto timer = std::make_shared<asio::steady_timer>(io_, options_.retry);
    timer->async_wait([this, tag, timer](std::error_code ec) {
      if (!ec) send(tag);
    });
    return;
  }
  done(tag);
}

void CommandConsumer::done(std::uint64_t tag) {
  auto it = pending_.find(tag);
  if (it == pending_.end()) return;
  const Pending pending = std::move(it->second);
  pending_.erase(it);
  --in_flight_;
  auto part = partitions_.find(pending.partition);
  if (part != partitions_.end()) {
    auto& slots = part->second;
    for (auto& slot : slots) {
      if (slot.offset == pending.offset) slot.done = true;
    }
    std::int64_t next = -1;
    while (!slots.empty() && slots.front().done) {
      next = slots.front().offset + 1;
      slots.pop_front();
    }
    if (next >= 0) consumer_->store_offset(pending.partition, next);
  }
  if (taking_ && consumer_->held() && in_flight_ <= options_.max_in_flight / 2) {
    consumer_->resume();
  }
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

void CommandConsumer::on_revoke(const std::vector<kafka::TopicPartition>& partitions) {
  // Commands of these partitions still running finish, but their offsets are no longer ours to
  // store: the new owner runs them again, harmlessly (they are idempotent).
  for (const auto& tp : partitions) partitions_.erase(tp);
}

void CommandConsumer::stop_taking() {
  taking_ = false;
  consumer_->pause();
}

void CommandConsumer::close(std::chrono::milliseconds flush_timeout) {
  stopping_ = true;
  if (topic_setup_.joinable()) topic_setup_.join();
  consumer_->close();
  outputs_->flush(flush_timeout);
  outputs_->stop();
}

CommandConsumerStatus CommandConsumer::status() const {
  CommandConsumerStatus s = counts_;
  s.consumer = consumer_->status();
  s.in_flight = in_flight_;
  s.running = running_;
  std::lock_guard lock(topics_mutex_);
  s.topics_ready = topics_ready_;
  s.topics_error = topics_error_;
  return s;
}

}  // namespace roombus::consumers
