// CommandConsumer's outputs: results and dead letters, produced again until acknowledged.
#include <algorithm>
#include <asio/steady_timer.hpp>
#include <cctype>

#include "roombus/consumers/command_consumer.hpp"

namespace roombus::consumers {

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
  send_later(tag);
}

void CommandConsumer::send_later(std::uint64_t tag) {
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
    send_later(tag);
    return;
  }
  done(tag);
}

}  // namespace roombus::consumers
