// Kafka settings: property parsing, configuration building, start-up validation.
#include "roombus/kafka/settings.hpp"

#include <algorithm>
#include <charconv>
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

void validate_brokers(std::string_view brokers) {
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = brokers.find(',', start);
    std::string_view entry = brokers.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    const std::string shown(entry);
    if (const auto scheme = entry.find("://"); scheme != std::string_view::npos) {
      entry.remove_prefix(scheme + 3);
    }
    std::string_view host = entry;
    std::string_view port;
    if (!entry.empty() && entry.front() == '[') {
      const auto close = entry.find(']');
      if (close == std::string_view::npos) throw std::invalid_argument("'" + shown + "': no ']'");
      host = entry.substr(1, close - 1);
      if (close + 1 < entry.size()) {
        if (entry[close + 1] != ':') throw std::invalid_argument("'" + shown + "': bad port");
        port = entry.substr(close + 2);
      }
    } else if (const auto colon = entry.rfind(':'); colon != std::string_view::npos) {
      host = entry.substr(0, colon);
      port = entry.substr(colon + 1);
      if (port.empty()) throw std::invalid_argument("'" + shown + "': empty port");
    }
    const bool host_ok = !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '.' || c == '-' || c == '_' || c == ':';
    });
    if (!host_ok) {
      throw std::invalid_argument("'" + shown + "' is not host[:port]");
    }
    if (!port.empty()) {
      unsigned value = 0;
      auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
      if (ec != std::errc() || end != port.data() + port.size() || value < 1 || value > 65535) {
        throw std::invalid_argument("'" + shown + "': the port must be 1-65535");
      }
    }
    if (comma == std::string_view::npos) return;
    start = comma + 1;
  }
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
