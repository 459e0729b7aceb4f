// librdkafka statistics: brokers up, consumer lag.
#include "statistics.hpp"

#include <charconv>
#include <string_view>

namespace roombus::kafka::detail {

int brokers_up(const rapidjson::Document& stats) {
  int up = 0;
  auto brokers = stats.FindMember("brokers");
  if (brokers == stats.MemberEnd() || !brokers->value.IsObject()) return 0;
  for (auto it = brokers->value.MemberBegin(); it != brokers->value.MemberEnd(); ++it) {
    const auto& b = it->value;
    if (!b.IsObject()) continue;
    auto node = b.FindMember("nodeid");
    auto state = b.FindMember("state");
    if (node == b.MemberEnd() || !node->value.IsInt() || node->value.GetInt() < 0) continue;
    if (state != b.MemberEnd() && state->value.IsString() &&
        std::string_view(state->value.GetString()) == "UP") {
      ++up;
    }
  }
  return up;
}

std::map<std::pair<std::string, std::int32_t>, std::int64_t> consumer_lag(
    const rapidjson::Document& stats) {
  std::map<std::pair<std::string, std::int32_t>, std::int64_t> lag;
  auto topics = stats.FindMember("topics");
  if (topics == stats.MemberEnd() || !topics->value.IsObject()) return lag;
  for (auto t = topics->value.MemberBegin(); t != topics->value.MemberEnd(); ++t) {
    auto partitions = t->value.FindMember("partitions");
    if (!t->value.IsObject() || partitions == t->value.MemberEnd() ||
        !partitions->value.IsObject()) {
      continue;
    }
    for (auto p = partitions->value.MemberBegin(); p != partitions->value.MemberEnd(); ++p) {
      const std::string_view id(p->name.GetString(), p->name.GetStringLength());
      std::int32_t partition = -1;
      std::from_chars(id.data(), id.data() + id.size(), partition);
      if (partition < 0 || !p->value.IsObject()) continue;
      auto assigned = p->value.FindMember("fetch_state");
      auto value = p->value.FindMember("consumer_lag");
      if (value == p->value.MemberEnd() || !value->value.IsInt64()) continue;
      // Partitions the client only knows from metadata have fetch_state "none".
      if (assigned != p->value.MemberEnd() && assigned->value.IsString() &&
          std::string_view(assigned->value.GetString()) == "none") {
        continue;
      }
      lag[{std::string(t->name.GetString(), t->name.GetStringLength()), partition}] =
          value->value.GetInt64();
    }
  }
  return lag;
}

}  // namespace roombus::kafka::detail
