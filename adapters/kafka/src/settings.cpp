// Kafka settings: property parsing, configuration building, start-up validation.
#include "roombus/kafka/settings.hpp"

#include <algorithm>
#include <stdexcept>

namespace roombus::kafka {
namespace {

// Kafka's own limit on topic names, and its alphabet.
constexpr std::size_t kMaxTopicName = 249;
// The longest topic name roombus appends to the prefix.
constexpr std::string_view kLongestSuffix = "command-results";

bool valid_topic_character(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

void set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  char error[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error, sizeof error) !=
      RD_KAFKA_CONF_OK) {
    throw std::invalid_argument(key + "=" + value + ": " + error);
  }
}

}  // namespace

Property parse_property(std::string_view text) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    throw std::invalid_argument("expected key=value, got '" + std::string(text) + "'");
  }
  return {std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
}

ConfPtr make_conf(const Settings& settings, std::initializer_list<Property> defaults,
                  std::initializer_list<std::string_view> locked) {
  ConfPtr conf(rd_kafka_conf_new());
  set(conf.get(), "bootstrap.servers", settings.brokers);
  for (const auto& [key, value] : defaults) set(conf.get(), key, value);
  for (const auto& [key, value] : settings.properties) {
    if (key == "bootstrap.servers" || key == "metadata.broker.list") {
      throw std::invalid_argument(key + ": set the brokers with --kafka-brokers");
    }
    if (std::find(locked.begin(), locked.end(), key) != locked.end()) {
      throw std::invalid_argument(key +
                                  ": roombus sets it itself; its delivery guarantees rest on it");
    }
    set(conf.get(), key, value);
  }
  return conf;
}

void validate_topic_prefix(const std::string& prefix) {
  if (prefix.size() + kLongestSuffix.size() > kMaxTopicName) {
    throw std::invalid_argument("too long (topic names have at most " +
                                std::to_string(kMaxTopicName) + " characters)");
  }
  if (!std::all_of(prefix.begin(), prefix.end(), valid_topic_character)) {
    throw std::invalid_argument("'" + prefix +
                                "' may only contain letters, digits, '.', '_' and '-'");
  }
}

}  // namespace roombus::kafka
