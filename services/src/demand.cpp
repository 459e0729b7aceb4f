// DemandForecaster: dirty servers, a one-second debounce per server, 5-minute roll-overs.
#include "roombus/services/demand.hpp"

#include <asio/post.hpp>
#include <variant>

namespace roombus::services {
namespace {

constexpr std::chrono::seconds kMinInterval{1};  // per server

double d(auto value) { return static_cast<double>(value); }

}  // namespace

DemandForecaster::DemandForecaster(asio::io_context& io, const core::Service& service,
                                   std::chrono::minutes horizon, Encoder encode)
    : service_(service),
      horizon_(horizon),
      encode_(std::move(encode)),
      flush_timer_(io),
      rollover_timer_(io) {}

void DemandForecaster::start() {
  running_ = true;
  for (const auto& [id, server] : service_.state().servers()) {
    if (!server.deleted) mark(id);
  }
  arm_rollover();
}

asio::awaitable<void> DemandForecaster::stop(Deadline, bool) {
  running_ = false;
  flush_timer_.cancel();
  rollover_timer_.cancel();
  co_return;
}

void DemandForecaster::on_events(const core::EventBatch& events) {
  for (const core::Event& e : *events) {
    if (const auto* r = std::get_if<core::RoomChanged>(&e.change)) {
      if (core::is_lifecycle(r->change)) continue;
      mark(r->room.server_id);
      if (r->previous_server) mark(*r->previous_server);
      continue;
    }
    const auto& s = std::get<core::ServerChanged>(e.change);
    if (s.change == core::ServerChange::deleted) {
      servers_.erase(s.server.id);
      ++status_.removed;
      for (const DemandOutput& out : outputs_) out.remove(s.server.id, e.time);
    } else if (s.change == core::ServerChange::registered ||
               s.change == core::ServerChange::cloned) {
      mark(s.server.id);
    }
  }
}

void DemandForecaster::mark(core::ServerId server) {
  if (outputs_.empty()) return;  // nowhere to publish (no Kafka, no Redis): compute nothing
  const core::Server* s = service_.state().server(server);
  if (s == nullptr || s->deleted) return;
  Followed& followed = servers_[server];
  if (!followed.dirty) dirty_.push_back(server);
  followed.dirty = true;
  if (running_ && !flush_at_) arm_flush(Steady::now());
}

void DemandForecaster::arm_flush(Steady::time_point when) {
  flush_at_ = when;
  flush_timer_.expires_at(when);
  flush_timer_.async_wait([this](const std::error_code& ec) {
    if (ec) return;
    flush_at_.reset();
    flush();
  });
}

void DemandForecaster::flush() {
  if (!running_) return;
  const Steady::time_point now = Steady::now();
  std::optional<Steady::time_point> next;
  const core::Instant at = service_.now();
  // Only the dirty servers: a busy server must not cost every other one a visit per batch.
  std::vector<core::ServerId> dirty = std::move(dirty_);
  dirty_.clear();
  for (core::ServerId id : dirty) {
    auto found = servers_.find(id);
    if (found == servers_.end() || !found->second.dirty) continue;  // deleted meanwhile
    Followed& followed = found->second;
    const Steady::time_point allowed = followed.published + kMinInterval;
    if (followed.last && allowed > now) {
      next = next ? std::min(*next, allowed) : allowed;
      dirty_.push_back(id);
      continue;
    }
    followed.dirty = false;
    core::Demand demand = core::forecast_demand(service_.state(), id, at, horizon_);
    ++status_.computed;
    if (followed.last && followed.last->same_load(demand)) continue;
    const std::string json = encode_(demand);
    for (const DemandOutput& out : outputs_) out.put(demand, json);
    ++status_.published;
    followed.last = std::move(demand);
    followed.published = now;
  }
  if (next) arm_flush(*next);
}

void DemandForecaster::arm_rollover() {
  // The next 5-minute boundary of the wall clock, a few milliseconds after it so that the
  // Service's whole-second clock reads the new bucket.
  const auto wall = std::chrono::system_clock::now();
  const auto width = std::chrono::duration_cast<std::chrono::system_clock::duration>(
      std::chrono::minutes(core::kDemandBucket));
  const auto since = wall.time_since_epoch() % width;
  rollover_timer_.expires_after(width - since + std::chrono::milliseconds(5));
  rollover_timer_.async_wait([this](const std::error_code& ec) {
    if (ec || !running_) return;
    for (const auto& [id, server] : service_.state().servers()) {
      if (!server.deleted) mark(id);
    }
    arm_rollover();
  });
}

DemandStatus DemandForecaster::status() const {
  DemandStatus s = status_;
  s.servers = servers_.size();
  return s;
}

void DemandForecaster::metrics(std::string& out) const {
  const DemandStatus s = status();
  single(out, "roombus_demand_forecasts_computed_total", "counter",
         "Demand forecasts computed since start.", d(s.computed));
  single(out, "roombus_demand_forecasts_published_total", "counter",
         "Demand forecasts that had changed and went to the outputs since start.", d(s.published));
  single(out, "roombus_demand_servers", "gauge", "Live servers with a demand forecast.",
         d(s.servers));
}

}  // namespace roombus::services
