// The default stop of a component, and the Prometheus text helpers of metrics().
#include "roombus/services/component.hpp"

#include <cstdio>

namespace roombus::services {

asio::awaitable<void> Component::stop(Deadline, bool) { co_return; }

void describe(std::string& out, std::string_view name, std::string_view type,
              std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void append_sample(std::string& out, std::string_view name, std::string_view labels, double value) {
  out.append(name);
  if (!labels.empty()) {
    out.push_back('{');
    out.append(labels);
    out.push_back('}');
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, " %.17g\n", value);
  out.append(buf);
}

void single(std::string& out, std::string_view name, std::string_view type, std::string_view help,
            double value) {
  describe(out, name, type, help);
  append_sample(out, name, "", value);
}

}  // namespace roombus::services
