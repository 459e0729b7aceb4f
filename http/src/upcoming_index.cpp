// The cache of getRooms answers rendered from the upcoming-room index.
#include "roombus/http/upcoming_index.hpp"

#include <functional>

namespace roombus::http {

std::size_t RoomsAnswerCache::KeyHash::operator()(const Key& k) const noexcept {
  const std::size_t a = std::hash<core::ServerId>{}(k.server);
  const std::size_t b =
      std::hash<std::int64_t>{}(k.window_seconds * 2 + (k.include_running ? 1 : 0));
  return a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
}

std::shared_ptr<const std::string> RoomsAnswerCache::find(const Key& key, core::Instant now,
                                                          std::uint64_t version) const {
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.now != now || it->second.version != version) {
    return nullptr;
  }
  return it->second.body;
}

void RoomsAnswerCache::store(const Key& key, core::Instant now, std::uint64_t version,
                             std::shared_ptr<const std::string> body) {
  if (entries_.size() >= capacity_ && entries_.find(key) == entries_.end()) entries_.clear();
  entries_.insert_or_assign(key, Entry{now, version, std::move(body)});
}

}  // namespace roombus::http
