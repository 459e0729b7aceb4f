// Kafka commands in (the real binary on a mock cluster): every command type runs its v1 write and
// answers its body; repeats, dead letters, outages, SIGKILL, and every wrong credential.
#include <signal.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/kafka_serve.hpp"

using namespace roombus::test;
using namespace std::chrono_literals;

namespace {

// After a SIGKILL the group waits for the dead member: session.timeout.ms (45 s by default), and
// the mock cluster also for max.poll.interval.ms. Short ones keep the test short.
const std::vector<std::string> kQuickGroup = {"--kafka-config", "session.timeout.ms=3000",
                                              "--kafka-config", "heartbeat.interval.ms=500",
                                              "--kafka-config", "max.poll.interval.ms=6000"};

const std::string kCommands = "roombus.commands";
const std::string kResults = "roombus.command-results";
const std::string kDeadLetters = "roombus.commands.dlq";

std::string command(const std::string& id, const std::string& type, const std::string& data) {
  return R"({"id":")" + id + R"(","type":")" + type + R"(","data":)" + data + "}";
}

std::vector<roombus::kafka::Header> auth(const std::string& key) {
  return {{"authorization", "Bearer " + key}};
}

// The results seen so far, by command id (every delivery, in order).
std::map<std::string, std::vector<ConsumedRecord>> by_command(
    const std::vector<ConsumedRecord>& records) {
  std::map<std::string, std::vector<ConsumedRecord>> out;
  for (const auto& r : records) out[r.key].push_back(r);
  return out;
}

std::string info(std::uint16_t port, const std::string& uid) {
  auto reply = HttpConnection(port).request("GET", "/api/v1/info/" + uid, {}, "");
  return reply ? reply->body : "";
}

// Room names of the room.created events in the log, as `roombus log dump` prints them.
std::multiset<std::string> created_names(const std::filesystem::path& data_dir,
                                         const std::filesystem::path& out) {
  Child dump({"log", "dump", "--data-dir", data_dir.string()}, out);
  dump.wait(std::chrono::seconds(30));
  std::multiset<std::string> names;
  std::istringstream lines(dump.output());
  for (std::string line; std::getline(lines, line);) {
    if (line.find(R"("type":"room.created")") == std::string::npos) continue;
    if (auto name = json_string_field(line.substr(line.find(R"("room":)")), "name")) {
      names.insert(*name);
    }
  }
  return names;
}

}  // namespace

TEST_CASE_METHOD(ServedCluster, "every command type runs its v1 write and answers the v1 body",
                 "[kafka][commands]") {
  REQUIRE(serve.ready());
  TopicWriter writer(cluster.mock.bootstraps());
  TopicReader results(cluster.mock.bootstraps(), {kResults});
  auto run = [&](const std::string& id, const std::string& type, const std::string& data) {
    REQUIRE(writer.send(kCommands, id, command(id, type, data), auth(serve.key)));
    auto all = by_command(results.read_until(results.read_for(0ms).size() + 1, 20s));
    REQUIRE(all.count(id) == 1);
    return all[id].front();
  };

  // Numbers as JSON numbers or as strings, as over HTTP with a JSON body.
  auto created = run("c-create", "room.create",
                     R"({"server":"meet.example.com","email":"alice@x.de","name":"Daily",)"
                     R"("start":"2030-01-07T09:00","duration":30})");
  CHECK(created.header("roombus-command-type") == "room.create");
  CHECK(created.header("roombus-outcome") == "ok");
  CHECK(created.header("roombus-status") == "200");
  const std::string uid = json_string_field(created.value, "uid").value_or("");
  REQUIRE(uid.size() == 32);
  CHECK(created.value ==
        R"({"error":false,"uid":")" + uid + R"(","text":"Meeting erfolgreich angelegt"})");
  CHECK(info(serve.port, uid).find(R"("name":"Daily")") != std::string::npos);

  auto updated = run("c-update", "room.update",
                     R"({"uid":")" + uid +
                         R"(","name":"Renamed",)"
                         R"("duration":"45"})");
  CHECK(updated.value ==
        R"({"error":false,"uid":")" + uid + R"(","text":"Meeting erfolgreich ge\u00e4ndert"})");
  CHECK(info(serve.port, uid).find(R"("duration":45,"name":"Renamed")") != std::string::npos);

  auto added =
      run("c-add", "room.participant.add", R"({"uid":")" + uid + R"(","email":"bob@example.org"})");
  CHECK(added.value == R"({"uid":")" + uid +
                           R"(","user":"bob@example.org","error":false,)"
                           R"("text":"Teilnehmer bob@example.org erfolgreich hinzugef\u00fcgt"})");
  CHECK(info(serve.port, uid).find("bob@example.org") != std::string::npos);
  auto removed = run("c-remove", "room.participant.remove",
                     R"({"uid":")" + uid + R"(","email":"bob@example.org"})");
  CHECK(removed.header("roombus-outcome") == "ok");
  CHECK(info(serve.port, uid).find("bob@example.org") == std::string::npos);

  auto cloned = run("c-clone", "server.clone", R"({"url":"meet2.example.com","name":"Meet 2"})");
  CHECK(cloned.value == R"({"server_id":2,"sucess":true,"error":false})");
  auto moved = run("c-move", "room.move", R"({"uid":")" + uid + R"(","server":2})");
  CHECK(moved.value == R"({"error":false,"message":"Room moved"})");
  CHECK(info(serve.port, uid).find(R"("server":"meet2.example.com")") != std::string::npos);
  auto deleted = run("c-delete", "room.delete", R"({"uid":")" + uid + R"("})");
  CHECK(deleted.value == R"({"error":false,"text":"Erfolgreich gel\u00f6scht"})");
  CHECK(info(serve.port, uid).find(R"("deleted":true)") != std::string::npos);

  // A rejection answers what the endpoint answers, byte for byte, with its HTTP status.
  auto refused = run("c-bad-start", "room.create",
                     R"({"server":"meet.example.com","email":"alice@x.de","start":"tomorrow"})");
  auto http = HttpConnection(serve.port)
                  .request("POST", "/api/v1/room", {bearer(serve.key)},
                           "server=meet.example.com&email=alice%40x.de&start=tomorrow",
                           "application/x-www-form-urlencoded");
  REQUIRE(http);
  CHECK(refused.value == http->body);
  CHECK(refused.header("roombus-outcome") == "error");
  auto moved_nowhere = run("c-move-404", "room.move", R"({"uid":")" + uid + R"(","server":"9"})");
  CHECK(moved_nowhere.value == R"({"error":true,"message":"Room not found"})");
  CHECK(moved_nowhere.header("roombus-status") == "404");
}

TEST_CASE_METHOD(
    ServedCluster,
    "a command delivered twice has one effect and both deliveries get the first result",
    "[kafka][commands]") {
  REQUIRE(serve.ready());
  TopicWriter writer(cluster.mock.bootstraps());
  const std::string create =
      command("same-id", "room.create",
              R"({"server":"meet.example.com","email":"alice@x.de","name":"Once","duration":30})");
  REQUIRE(writer.send(kCommands, "k", create, auth(serve.key)));
  REQUIRE(writer.send(kCommands, "k", create, auth(serve.key)));
  TopicReader results(cluster.mock.bootstraps(), {kResults});
  auto records = results.read_until(2, 20s);
  REQUIRE(records.size() == 2);
  CHECK(records[0].value == records[1].value);
  CHECK(records[0].value.find(R"("error":false)") != std::string::npos);
  // The same id with other data is not the same command: refused like a reused Idempotency-Key.
  REQUIRE(writer.send(kCommands, "k",
                      command("same-id", "room.create",
                              R"({"server":"meet.example.com","email":"alice@x.de",)"
                              R"("name":"Other","duration":30})"),
                      auth(serve.key)));
  records = results.read_until(3, 20s);
  REQUIRE(records.size() == 3);
  CHECK(records[2].header("roombus-status") == "422");
  serve.child->signal(SIGTERM);
  REQUIRE(serve.child->wait(30s) == 0);
  CHECK(created_names(temp.dir() / "data", temp.dir() / "dump.out") ==
        std::multiset<std::string>{"Once"});
}

TEST_CASE_METHOD(
    ServedCluster,
    "records that cannot run go to the dead letters with their reason, and the next runs",
    "[kafka][commands]") {
  REQUIRE(serve.ready());
  TopicWriter writer(cluster.mock.bootstraps());
  const std::string good_data =
      R"({"server":"meet.example.com","email":"alice@x.de","name":"Ok","duration":30})";
  std::vector<roombus::kafka::Header> traced = auth(serve.key);
  traced.push_back({"traceparent", "00-abc-def-01"});
  REQUIRE(writer.send(kCommands, "p", "not json at all", traced));
  REQUIRE(writer.send(kCommands, "p", command("c1", "room.explode", "{}"), auth(serve.key)));
  REQUIRE(writer.send(kCommands, "p", command("c2", "room.create", good_data)));
  REQUIRE(writer.send(kCommands, "p", command("c3", "room.create", good_data), auth("nope")));
  REQUIRE(writer.send(kCommands, "p", command("c4", "room.create", good_data), auth(serve.key)));

  TopicReader dlq(cluster.mock.bootstraps(), {kDeadLetters});
  const auto& dead = dlq.read_until(4, 20s);
  REQUIRE(dead.size() == 4);
  std::vector<std::string> reasons;
  for (const auto& r : dead) reasons.push_back(r.header("roombus-error"));
  CHECK(reasons ==
        std::vector<std::string>{"undecodable", "unknown-type", "missing-key", "wrong-key"});
  CHECK(dead[0].value == "not json at all");
  CHECK(dead[0].header("traceparent") == "00-abc-def-01");
  CHECK(dead[0].header("roombus-source-topic") == kCommands);
  CHECK_FALSE(dead[0].header("roombus-source-offset").empty());
  for (const auto& r : dead) {
    CHECK(r.header("authorization").empty());
    CHECK_FALSE(r.header("roombus-error-detail").empty());
  }
  TopicReader results(cluster.mock.bootstraps(), {kResults});
  const auto& answered = results.read_until(1, 20s);
  REQUIRE(answered.size() == 1);
  CHECK(answered[0].key == "c4");
  CHECK(answered[0].header("roombus-outcome") == "ok");
  auto metrics = HttpConnection(serve.port).request("GET", "/metrics", {}, "");
  REQUIRE(metrics);
  CHECK(metrics->body.find(R"(roombus_kafka_dead_letters_total{reason="wrong-key"} 1)") !=
        std::string::npos);
  CHECK(metrics->body.find(R"(roombus_kafka_commands_total{type="room.create",outcome="ok"} 1)") !=
        std::string::npos);
}

TEST_CASE("with Kafka down and back, the commands resume and none is lost", "[kafka][commands]") {
  Cluster cluster;
  TempDir temp;
  Serve serve(cluster, temp.dir() / "data", temp.dir() / "out.log", kQuickGroup);
  REQUIRE(serve.ready());
  TopicWriter writer(cluster.mock.bootstraps());
  for (int i = 0; i < 20; ++i) {
    const std::string id = "outage-" + std::to_string(i);
    REQUIRE(writer.send(
        kCommands, id,
        command(id, "room.create",
                R"({"server":"meet.example.com","email":"alice@x.de","duration":30,"name":")" + id +
                    R"("})"),
        auth(serve.key)));
  }
  cluster.mock.set_down();
  REQUIRE(wait_for_kafka(serve.port, "down"));  // roombus has met the outage
  cluster.mock.set_up();
  TopicReader results(cluster.mock.bootstraps(), {kResults});
  auto all = by_command(results.read_until(20, 60s));
  CHECK(all.size() == 20);
  serve.child->signal(SIGTERM);
  REQUIRE(serve.child->wait(30s) == 0);
  const auto names = created_names(temp.dir() / "data", temp.dir() / "dump.out");
  CHECK(names.size() == 20);
  CHECK(std::set<std::string>(names.begin(), names.end()).size() == 20);
}

TEST_CASE("after SIGKILL in the middle of a stream no command is applied twice or lost",
          "[kafka][commands]") {
  Cluster cluster;
  TempDir temp;
  constexpr int kCount = 150;
  {
    Serve first(cluster, temp.dir() / "data", temp.dir() / "first.log", kQuickGroup);
    REQUIRE(first.ready());
    std::thread producer([&] {
      TopicWriter writer(cluster.mock.bootstraps());
      for (int i = 0; i < kCount; ++i) {
        const std::string id = "stream-" + std::to_string(i);
        writer.send(
            kCommands, id,
            command(id, "room.create",
                    R"({"server":"meet.example.com","email":"alice@x.de","duration":30,"name":")" +
                        id + R"("})"),
            auth(first.key));
      }
    });
    TopicReader results(cluster.mock.bootstraps(), {kResults});
    results.read_until(30, 30s);
    first.child->signal(SIGKILL);
    producer.join();
    REQUIRE(first.child->wait(10s) == 128 + SIGKILL);
  }
  Serve second(cluster, temp.dir() / "data", temp.dir() / "second.log", kQuickGroup);
  REQUIRE(second.port != 0);
  INFO(second.child->output());
  TopicReader results(cluster.mock.bootstraps(), {kResults});
  std::map<std::string, std::vector<ConsumedRecord>> all;
  eventually(
      [&] {
        all = by_command(results.read_for(500ms));
        return all.size() >= kCount;
      },
      60s);
  REQUIRE(all.size() == kCount);
  // A command run again after the crash answers its first outcome.
  for (const auto& [id, deliveries] : all) {
    for (const auto& d : deliveries) CHECK(d.value == deliveries.front().value);
  }
  second.child->signal(SIGTERM);
  REQUIRE(second.child->wait(30s) == 0);
  const auto names = created_names(temp.dir() / "data", temp.dir() / "dump.out");
  CHECK(names.size() == kCount);
  CHECK(std::set<std::string>(names.begin(), names.end()).size() == kCount);
}

TEST_CASE_METHOD(ServedCluster,
                 "every command type with every wrong credential is refused and changes nothing",
                 "[kafka][commands][authorisation]") {
  REQUIRE(serve.ready());
  // Server B: another key, no members, not clone-allowed.
  auto b = HttpConnection(serve.port)
               .request("POST", "/admin/v1/servers", {bearer(kKafkaAdminToken)},
                        R"({"url":"b.example.com","name":"B","members":[],"allow_clone":false})",
                        "application/json");
  REQUIRE(b);
  const std::string other_key = json_string_field(b->body, "api_key").value_or("");
  const std::string old_key = serve.key;
  auto rotated =
      HttpConnection(serve.port)
          .request("POST", "/admin/v1/servers/1/rotate-key", {bearer(kKafkaAdminToken)}, "", "");
  REQUIRE(rotated);
  const std::string key = json_string_field(rotated->body, "api_key").value_or("");
  REQUIRE_FALSE(key.empty());
  TopicWriter writer(cluster.mock.bootstraps());
  TopicReader results(cluster.mock.bootstraps(), {kResults});
  REQUIRE(writer.send(kCommands, "seed",
                      command("seed", "room.create",
                              R"({"server":"meet.example.com","email":"alice@x.de","name":"Seed",)"
                              R"("duration":30})"),
                      auth(key)));
  const std::string uid =
      json_string_field(results.read_until(1, 20s).at(0).value, "uid").value_or("");
  REQUIRE(uid.size() == 32);
  auto position = [&] {
    auto m = HttpConnection(serve.port).request("GET", "/metrics", {}, "");
    const auto at = m->body.find("\nroombus_log_position ");
    return m->body.substr(at, m->body.find('\n', at + 1) - at);
  };
  const std::string before = position();

  const std::map<std::string, std::string> data = {
      {"room.create",
       R"({"server":"meet.example.com","email":"alice@x.de","name":"Taken","duration":30})"},
      {"room.update", R"({"uid":")" + uid + R"(","name":"Taken"})"},
      {"room.delete", R"({"uid":")" + uid + R"("})"},
      {"room.move", R"({"uid":")" + uid + R"(","server":"2"})"},
      {"room.participant.add", R"({"uid":")" + uid + R"(","email":"eve@evil.example"})"},
      {"room.participant.remove", R"({"uid":")" + uid + R"(","email":"alice@x.de"})"},
      {"server.clone", R"({"url":"c.example.com","name":"C"})"},
  };
  const std::vector<std::pair<std::string, std::vector<roombus::kafka::Header>>> credentials = {
      {"none", {}},
      {"empty", {{"authorization", ""}}},
      {"lower-case bearer", {{"authorization", "bearer " + key}}},
      {"two spaces", {{"authorization", "Bearer  " + key}}},
      {"Bearer: with a space", {{"authorization", "Bearer: " + key}}},
      {"two headers", {{"authorization", "Bearer " + key}, {"authorization", "Bearer " + key}}},
      {"wrong key", auth("not-a-key")},
      {"rotated-out key", auth(old_key)},
      {"admin token", auth(std::string(kKafkaAdminToken))},
      {"another server's key", auth(other_key)},
  };
  int sent = 0;
  for (const auto& [type, body] : data) {
    for (const auto& [name, headers] : credentials) {
      const std::string id = "authz-" + std::to_string(sent++);
      INFO(type << " with " << name);
      REQUIRE(writer.send(kCommands, id, command(id, type, body), headers));
    }
  }
  TopicReader dlq(cluster.mock.bootstraps(), {kDeadLetters});
  const auto& dead = dlq.read_until(data.size() * (credentials.size() - 1), 30s);
  const auto& answered = results.read_for(1500ms);
  // Everything but another live server's key is a dead letter; that key runs and is refused.
  CHECK(dead.size() == data.size() * (credentials.size() - 1));
  std::size_t refused = 0;
  for (const auto& r : answered) {
    if (r.key == "seed") continue;
    ++refused;
    INFO(r.header("roombus-command-type") << ": " << r.value);
    CHECK(r.header("roombus-outcome") == "error");
  }
  CHECK(refused == data.size());
  CHECK(position() == before);
  CHECK(info(serve.port, uid).find(R"("teilnehmer":["alice@x.de"])") != std::string::npos);
}

TEST_CASE("no more commands run at once than --kafka-commands-in-flight, and a flood gets through",
          "[kafka][commands][backpressure]") {
  Cluster cluster;
  TempDir temp;
  Serve serve(cluster, temp.dir() / "data", temp.dir() / "out.log",
              {"--kafka-commands-in-flight", "4"});
  REQUIRE(serve.ready());
  std::thread producer([&] {
    TopicWriter writer(cluster.mock.bootstraps());
    for (int i = 0; i < 300; ++i) {
      const std::string id = "flood-" + std::to_string(i);
      writer.send(kCommands, "k" + std::to_string(i % 8),
                  command(id, "room.create",
                          R"({"server":"meet.example.com","email":"alice@x.de","duration":30,)"
                          R"("name":")" +
                              id + R"("})"),
                  auth(serve.key), 10s);
    }
  });
  TopicReader results(cluster.mock.bootstraps(), {kResults});
  double most = 0;
  const auto until = std::chrono::steady_clock::now() + 60s;
  while (results.read_for(20ms).size() < 300 && std::chrono::steady_clock::now() < until) {
    auto m = HttpConnection(serve.port).request("GET", "/metrics", {}, "");
    if (!m) continue;
    const auto at = m->body.find("\nroombus_kafka_commands_in_flight ");
    if (at != std::string::npos) most = std::max(most, std::stod(m->body.substr(at + 34)));
  }
  producer.join();
  CHECK(by_command(results.read_for(0ms)).size() == 300);
  CHECK(most <= 4);
  CHECK(most >= 1);
}
