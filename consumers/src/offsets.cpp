// CommandConsumer's offsets: a record from taken to done; its partition's offset stored in order.
#include "roombus/consumers/command_consumer.hpp"

namespace roombus::consumers {

std::uint64_t CommandConsumer::track(const kafka::Message& message) {
  const std::uint64_t tag = next_tag_++;
  const kafka::TopicPartition tp{message.topic, message.partition};
  pending_[tag] = Pending{tp, message.offset, "", std::nullopt};
  partitions_[tp].take(message.offset);
  return tag;
}

void CommandConsumer::done(std::uint64_t tag) {
  auto it = pending_.find(tag);
  if (it == pending_.end()) return;
  const Pending pending = std::move(it->second);
  pending_.erase(it);
  // Stored only once it and every record before it in its partition are done: a commit never
  // skips a command whose answer is not out yet.
  auto part = partitions_.find(pending.partition);
  if (part != partitions_.end() && part->second.complete(pending.offset)) {
    consumer_->store_offset(pending.partition, part->second.done_through() + 1);
  }
  release();
}

void CommandConsumer::on_revoke(const std::vector<kafka::TopicPartition>& partitions) {
  // Commands of these partitions still running finish, but their offsets are no longer ours to
  // store: the new owner runs them again, harmlessly (they are idempotent).
  for (const auto& tp : partitions) partitions_.erase(tp);
}

}  // namespace roombus::consumers
