// Demand forecasts: computed from the in-memory state when a server's schedule changes (at most
// once a second per server) and at every 5-minute boundary, then handed to outputs (Kafka's
// server-demand topic; Redis next).
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "roombus/core/demand.hpp"
#include "roombus/core/event_ports.hpp"
#include "roombus/core/service.hpp"
#include "roombus/services/component.hpp"
#include "roombus/services/subscription.hpp"

namespace roombus::services {

// One destination of forecasts (Kafka's server-demand topic, Redis's roombus:demand:<server id>).
// Both functions run on the io_context's thread and must not block (queue the work, as
// kafka::DemandTopic does). Outputs hold derived data only: a flushed Redis is refilled by the
// next forecast of each server (a change, or the next 5-minute boundary at the latest).
struct DemandOutput {
  std::string name;
  // The newest forecast of a live server, and its document (the forecaster's encoder: the same
  // JSON as GET /admin/v1/servers/{id}/demand).
  std::function<void(const core::Demand& demand, const std::string& json)> put;
  // The server was deleted at `at`: drop its forecast.
  std::function<void(core::ServerId server, core::Instant at)> remove;
};

struct DemandStatus {
  std::uint64_t computed = 0;   // forecasts computed
  std::uint64_t published = 0;  // forecasts handed to the outputs (they had changed)
  std::uint64_t removed = 0;    // deleted servers
  std::size_t servers = 0;      // live servers followed
};

// Follows durable events (as a core::EventListener, on the io thread): a room created, updated,
// moved, deleted or with participants changed marks its server(s) dirty; a new server is dirty;
// a deleted one is removed from every output. Dirty servers are forecast at most once a second
// each and published only when the buckets differ from the last published ones. At every
// 5-minute boundary (buckets roll over) every live server is forecast again. At start() every
// live server is published once (the compacted topic then holds the current forecasts even after
// a change of horizon). Lifecycle events change no forecast and are skipped.
class DemandForecaster final : public core::EventListener, public Component {
 public:
  // Encodes a forecast once for every output (a wire format is the adapters' business).
  using Encoder = std::function<std::string(const core::Demand&)>;
  DemandForecaster(asio::io_context& io, const core::Service& service, std::chrono::minutes horizon,
                   Encoder encode);

  void add_output(DemandOutput output) { outputs_.push_back(std::move(output)); }
  std::string_view name() const override { return "demand"; }
  void start() override;
  // Nothing new is forecast (what is queued in an output is the output's to finish).
  asio::awaitable<void> stop(Deadline deadline, bool failed) override;

  void on_events(const core::EventBatch& events) override;
  void metrics(std::string& out) const override;
  DemandStatus status() const;

 private:
  using Steady = std::chrono::steady_clock;
  struct Followed {
    std::optional<core::Demand> last;  // as last published
    Steady::time_point published{};
    bool dirty = false;
  };

  void mark(core::ServerId server);
  void flush();
  void arm_flush(Steady::time_point when);
  void arm_rollover();

  const core::Service& service_;
  std::chrono::minutes horizon_;
  Encoder encode_;
  std::vector<DemandOutput> outputs_;
  std::map<core::ServerId, Followed> servers_;
  std::vector<core::ServerId> dirty_;  // each once, while its `dirty` flag is set
  asio::steady_timer flush_timer_;
  std::optional<Steady::time_point> flush_at_;
  asio::steady_timer rollover_timer_;
  bool running_ = false;
  DemandStatus status_;
};

}  // namespace roombus::services
