// libFuzzer target: the whole request path, bytes -> wire parser -> router -> core -> reply, on
// the real HTTP API, core, JSON codecs, crypto and tz adapters. The log is an in-memory one that
// is durable at once: a SQLite commit is an fsync, which would cut thousands of inputs a second
// to dozens. Every input starts from the same state (two servers, a room); every answer must be
// well-formed and free of secrets, and the events must replay and round-trip through the codecs.
#include <rapidjson/document.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "roombus/core/service.hpp"
#include "roombus/crypto/hashing.hpp"
#include "roombus/http/api.hpp"
#include "roombus/http/params.hpp"
#include "roombus/json/event_codec.hpp"
#include "roombus/json/snapshot_codec.hpp"
#include "roombus/time/tz_time_zone.hpp"
#include "support/core_fakes.hpp"
#include "wire_parser.hpp"

namespace {

using namespace roombus;

// Secrets of the fixture: the dictionary holds them so the fuzzer gets past authorisation; no
// answer may ever contain them (the API keys are imported, so they are never shown either).
constexpr std::string_view kAdminToken = "fuzz-admin-token-0123456789";
constexpr std::string_view kKeyA = "fuzz-key-a-0123456789";
constexpr std::string_view kKeyB = "fuzz-key-b-0123456789";
constexpr std::string_view kAppSecret = "fuzz-app-secret-of-a";

// A broken invariant must crash, so that libFuzzer keeps the input.
void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_request_path: invariant broken: %s\n", what);
    std::abort();
  }
}

// Durable at once; keeps this input's events for the checks.
class InstantLog final : public core::EventLog {
 public:
  void append(core::EventBatch events, core::SharedOutcome, Completion on_durable) override {
    for (const auto& e : *events) appended.push_back(e);
    on_durable(std::nullopt);
  }
  std::vector<core::Event> appended;
};

// Counted ids, so a run is reproducible: the fixture's room is ...1001, an input's rooms ...2001
// on.
class CountingIds final : public core::IdSource {
 public:
  explicit CountingIds(unsigned long long first_room) : rooms_(first_room - 1) {}
  std::string room_uid() override {
    char buf[33];
    std::snprintf(buf, sizeof buf, "%032llx", ++rooms_);
    return buf;
  }
  std::string jitsi_name() override { return "jitsi" + std::to_string(rooms_); }
  std::string api_key() override { return "minted-key-" + std::to_string(++keys_); }

 private:
  unsigned long long rooms_;
  unsigned long long keys_ = 0;
};

struct Fixture {
  testing::FixedClock clock{testing::at(2021, 2, 2, 12)};
  crypto::Sha256KeyHasher hasher;
  std::unique_ptr<core::TimeZone> zone = time::make_time_zone("Europe/Berlin");
  core::State state;

  Fixture() {
    CountingIds ids(0x1001);
    InstantLog log;
    core::Service service(core::Service::Ports{&clock, &ids, &hasher, zone.get(), &log, {}});
    auto run = [&](const core::Command& c) {
      bool ok = false;
      service.submit("setup", c, [&](const core::Result<core::Decision>& r) { ok = r.ok(); });
      check(ok, "fixture command");
    };
    core::RegisterServer a;
    a.url = "a.example.com";
    a.name = "A";
    a.app_id = "app-a";
    a.app_secret = std::string(kAppSecret);
    a.members = {"alice@x.de", "@corp.example"};
    a.allow_clone = true;
    a.api_key = std::string(kKeyA);
    run(a);
    core::RegisterServer b;
    b.url = "b.example.com";
    b.name = "B";
    b.members = {"bob@y.de"};
    b.api_key = std::string(kKeyB);
    run(b);
    run(core::CreateRoom{std::string(kKeyA), "a.example.com", "alice@x.de", "Standup",
                         "2021-02-10T13:00", "45"});
    state = service.state();
  }
};

// Every spelling in which a request's parameters could carry a secret: raw, percent-decoded, and
// the strings of a JSON body. Answers may echo a caller's own input (an invalid URL, an unknown
// field), but never a secret the caller did not send (the Authorization field is never echoed).
std::string parameter_texts(const http::Request& r) {
  std::string out = r.target + '\n' + r.body + '\n' + http::percent_decode(r.target, true) + '\n' +
                    http::percent_decode(r.body, true);
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(r.body.data(), r.body.size());
  if (doc.HasParseError()) return out;
  std::vector<const rapidjson::Value*> pending{&doc};
  while (!pending.empty()) {
    const rapidjson::Value* v = pending.back();
    pending.pop_back();
    if (v->IsString()) out.append("\n").append(v->GetString(), v->GetStringLength());
    if (v->IsArray()) {
      for (const auto& item : v->GetArray()) pending.push_back(&item);
    }
    if (v->IsObject()) {
      for (auto m = v->MemberBegin(); m != v->MemberEnd(); ++m) {
        out.append("\n").append(m->name.GetString(), m->name.GetStringLength());
        pending.push_back(&m->value);
      }
    }
  }
  return out;
}

void check_response(const http::Request& request, const http::Response& r) {
  check(r.status >= 200 && r.status <= 599, "status");
  for (const auto& h : r.headers) {
    check(!h.name.empty(), "header name");
    for (std::string_view part : {std::string_view(h.name), std::string_view(h.value)}) {
      check(part.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos,
            "header bytes");
    }
  }
  const std::string sent = parameter_texts(request);
  const std::string_view body = r.content();
  for (std::string_view secret : {kAdminToken, kKeyA, kKeyB, kAppSecret}) {
    check(body.find(secret) == std::string_view::npos || sent.find(secret) != std::string::npos,
          "a secret the caller did not send in a reply");
  }
  auto type = r.header("Content-Type");
  if (type && *type == "application/json" && r.status != 204) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
    check(!doc.HasParseError(), "a JSON reply that does not parse");
  }
}

void check_events(const core::State& start, const core::State& end,
                  const std::vector<core::Event>& events) {
  core::State replayed = start;
  for (const core::Event& e : events) {
    check(e.position == replayed.position() + 1, "event positions");
    replayed.apply(e);
    auto decoded = json::decode_event_payload(json::encode_event_payload(e));
    check(decoded.ok() && *decoded == e, "event payload round trip");
  }
  check(replayed == end, "replaying the events rebuilds the state");
  if (events.empty()) return;
  auto restored = json::decode_snapshot(json::encode_snapshot(end));
  check(restored.ok() && *restored == end, "snapshot round trip");
}

}  // namespace

// Input: the bytes of one connection.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture fixture;
  CountingIds ids(0x2001);
  InstantLog log;
  core::Service service(
      core::Service::Ports{&fixture.clock, &ids, &fixture.hasher, fixture.zone.get(), &log, {}});
  service.restore(fixture.state);
  http::ApiOptions options;
  options.hash_token = [](std::string_view t) { return crypto::sha256_hex(t); };
  options.admin_token_hash = crypto::sha256_hex(kAdminToken);
  int generated = 0;
  options.new_command_id = [&generated] { return "gen:" + std::to_string(++generated); };
  http::Api api(service, options);
  asio::io_context io{1};

  // As the server reads a connection: requests until an error or a closing one.
  http::detail::WireParser parser(http::detail::WireLimits{});
  std::string_view wire(reinterpret_cast<const char*>(data), size);
  while (!wire.empty()) {
    wire.remove_prefix(parser.feed(wire));
    if (parser.status() != http::detail::WireParser::Status::complete) break;
    http::Request request = parser.take();
    std::optional<http::Response> response;
    asio::co_spawn(io, api.handle(request), [&](std::exception_ptr e, http::Response r) {
      check(!e, "a handler threw");
      response = std::move(r);
    });
    io.restart();
    io.run();
    check(response.has_value(), "a request got no answer");
    // Replaying a crash: FUZZ_VERBOSE=1 fuzz_request_path crash-<sha1> shows the exchange.
    static const bool verbose = std::getenv("FUZZ_VERBOSE") != nullptr;
    if (verbose) {
      std::fprintf(stderr, "%s %s -> %d %s\n", request.method.c_str(), request.target.c_str(),
                   response->status, std::string(response->content()).c_str());
    }
    check_response(request, *response);
    check(service.in_flight() == 0, "a command still in flight");
    if (!request.keep_alive || parser.upgrade()) break;
  }
  check_events(fixture.state, service.state(), log.appended);
  return 0;
}
