// Hand-written fakes of the core's ports, and a World fixture that drives the core through them.
#pragma once

#include <cstdio>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "roombus/core/commands.hpp"
#include "roombus/core/event_ports.hpp"
#include "roombus/core/ports.hpp"
#include "roombus/core/service.hpp"

namespace roombus::testing {

using namespace std::chrono_literals;
using core::Instant;

inline Instant at(int y, unsigned mo, unsigned d, unsigned h = 0, unsigned mi = 0, unsigned s = 0) {
  return core::instant_from_utc_fields({y, mo, d, h, mi, s});
}

class FixedClock final : public core::Clock {
 public:
  explicit FixedClock(Instant t) : now_(t) {}
  Instant now() const override { return now_; }
  void set(Instant t) { now_ = t; }
  void advance(std::chrono::seconds d) { now_ += d; }

 private:
  Instant now_;
};

// Predictable ids: uid 0000...0001, 0000...0002; keys "key-1", "key-2", ...
class SequenceIds final : public core::IdSource {
 public:
  std::string room_uid() override {
    char buf[33];
    std::snprintf(buf, sizeof buf, "%032llx", static_cast<unsigned long long>(++rooms_));
    return buf;
  }
  std::string jitsi_name() override { return "jitsi" + std::to_string(rooms_); }
  std::string api_key() override { return "generated-key-" + std::to_string(++keys_); }
  // The next room uid handed out repeats the last one (to exercise the collision guard).
  void repeat_next_uid() { --rooms_; }

 private:
  unsigned long long rooms_ = 0;
  unsigned long long keys_ = 0;
};

// Reversible "hash" so tests can read it; the core only ever compares hashes.
class PrefixHasher final : public core::KeyHasher {
 public:
  std::string hash(std::string_view key) const override { return "hash(" + std::string(key) + ")"; }
};

// A fixed-offset zone: enough to tell wall-clock input from UTC without a tz database.
class FixedOffsetZone final : public core::TimeZone {
 public:
  FixedOffsetZone(std::string name, std::chrono::minutes offset, std::string abbrev)
      : name_(std::move(name)), offset_(offset), abbrev_(std::move(abbrev)) {}
  std::string name() const override { return name_; }
  Instant to_utc(const core::LocalDateTime& local) const override {
    return core::instant_from_utc_fields(local) - offset_;
  }
  core::LocalDateTime to_local(Instant t) const override { return core::utc_fields(t + offset_); }
  std::string abbreviation(Instant) const override { return abbrev_; }

 private:
  std::string name_;
  std::chrono::minutes offset_;
  std::string abbrev_;
};

// Records appends; completes them at once unless held, so tests can look between
// "applied" and "durable", or make the log fail.
class MemoryLog final : public core::EventLog {
 public:
  void append(core::EventBatch events, core::SharedOutcome outcome,
              Completion on_durable) override {
    for (const auto& e : *events) appended.push_back(e);
    batches.push_back(events);
    if (outcome) outcomes.push_back(*outcome);
    pending_.push_back(std::move(on_durable));
    if (!hold) release_all();
  }
  void release_all(const std::optional<std::string>& error = std::nullopt) {
    while (!pending_.empty()) {
      auto done = std::move(pending_.front());
      pending_.pop_front();
      done(error);
    }
  }
  std::size_t pending() const { return pending_.size(); }

  bool hold = false;
  std::vector<core::Event> appended;
  std::vector<core::EventBatch> batches;  // as handed over, to check they are shared
  std::vector<core::Outcome> outcomes;

 private:
  std::deque<Completion> pending_;
};

class RecordingListener final : public core::EventListener {
 public:
  void on_events(const core::EventBatch& events) override {
    for (const auto& e : *events) seen.push_back(e);
    batches.push_back(events);
  }
  std::vector<core::Event> seen;
  std::vector<core::EventBatch> batches;
};

// The core wired to fakes: 2021-02-02 12:00 UTC, a CET-like zone at UTC+1.
class World {
 public:
  explicit World(core::Service::Options options = {})
      : clock(at(2021, 2, 2, 12)),
        zone("Europe/Berlin", 60min, "CET"),
        service(core::Service::Ports{&clock, &ids, &hasher, &zone, &log, {&listener}}, options) {}

  // Runs a command and returns its final outcome (the log completes synchronously here).
  core::Result<core::Decision> run(const core::Command& command) {
    std::optional<core::Result<core::Decision>> outcome;
    service.submit("cmd-" + std::to_string(++commands_), command,
                   [&](const core::Result<core::Decision>& r) { outcome = r; });
    if (!outcome) return core::make_error(core::Errc::conflict, "outcome still pending");
    return *outcome;
  }

  struct Registered {
    core::ServerId id;
    std::string key;
  };

  Registered register_server(const std::string& url, std::vector<std::string> members,
                             bool allow_clone = false) {
    core::RegisterServer c;
    c.url = url;
    c.name = "Server " + url;
    c.app_id = "app";
    c.app_secret = "secret";
    c.members = std::move(members);
    c.allow_clone = allow_clone;
    auto r = run(c);
    if (!r) throw std::runtime_error("register failed: " + r.error().text);
    return {*r->reply.server_id, *r->reply.api_key};
  }

  // Clones `prototype` (registered with allow_clone) as v1 server/create does; the clone shares
  // the prototype's key, so rooms can move between the two.
  Registered clone_server(const Registered& prototype, const std::string& url) {
    auto r = run(core::CloneServer{prototype.key, url, "Clone " + url, "", ""});
    if (!r) throw std::runtime_error("clone failed: " + r.error().text);
    return {*r->reply.server_id, prototype.key};
  }

  // Creates a room and returns its uid (throws if the core refused).
  std::string create_room(const std::string& key, const std::string& url, const std::string& email,
                          const std::string& start = "2021-02-10T13:00",
                          const std::string& duration = "45", const std::string& name = "Daily") {
    auto r = run(core::CreateRoom{key, url, email, name, start, duration});
    if (!r) throw std::runtime_error("create failed: " + r.error().text);
    return r->reply.room_uid;
  }

  const core::State& state() const { return service.state(); }
  const core::Room& room(const std::string& uid) const { return *state().room(uid); }

  FixedClock clock;
  SequenceIds ids;
  PrefixHasher hasher;
  FixedOffsetZone zone;
  MemoryLog log;
  RecordingListener listener;
  core::Service service;

 private:
  int commands_ = 0;
};

}  // namespace roombus::testing
