// Unit tests of the server commands: register, update, members, state, keys, clone, delete.
#include <catch2/catch.hpp>

#include "support/core_fakes.hpp"

using namespace roombus::core;
using namespace roombus::testing;

namespace {

Errc error_of(const Result<Decision>& r) {
  REQUIRE_FALSE(r.ok());
  return r.error().code;
}

const Server& server_of(const Event& e) { return std::get<ServerChanged>(e.change).server; }

}  // namespace

TEST_CASE("registering a server mints a key that is shown once and kept only as a hash",
          "[core][servers]") {
  World w;
  auto r = w.run(RegisterServer{"https://Meet.Example.com/",
                                "Meet",
                                "app",
                                "secret",
                                {"Alice@X.de", "@Corp.example", "alice@x.de"},
                                true,
                                std::nullopt});
  REQUIRE(r.ok());
  REQUIRE(r->reply.api_key);
  CHECK(*r->reply.api_key == "generated-key-1");
  const Server* s = w.state().server(*r->reply.server_id);
  REQUIRE(s != nullptr);
  CHECK(s->id == 1);
  CHECK(s->url == "Meet.Example.com");
  CHECK(s->api_key_hash == "hash(generated-key-1)");
  CHECK(s->members == std::vector<std::string>{"alice@x.de", "@corp.example"});
  CHECK(s->allow_clone);
  CHECK(s->state == ServerState::enabled);
  CHECK(r->events.at(0).type() == "server.registered");
  CHECK(r->events.at(0).aggregate() == "server:1");
  CHECK(server_of(r->events.at(0)).api_key_hash.find("generated-key-1") != std::string::npos);
}

TEST_CASE("an existing jitsi-admin key can be imported so clients keep working",
          "[core][servers]") {
  World w;
  auto r = w.run(RegisterServer{
      "meet.example.com", "Meet", "", "", {"alice@x.de"}, false, "k3y0ld1234567890abcd"});
  REQUIRE(r.ok());
  CHECK_FALSE(r->reply.api_key);
  CHECK(w.state().server(1)->api_key_hash == "hash(k3y0ld1234567890abcd)");
  CHECK(w.run(CreateRoom{"k3y0ld1234567890abcd", "meet.example.com", "alice@x.de", "n", "", "5"})
            .ok());
  CHECK(error_of(w.run(RegisterServer{"b.example.com", "B", "", "", {}, false, "short"})) ==
        Errc::invalid_argument);
  CHECK(error_of(w.run(
            RegisterServer{"b.example.com", "B", "", "", {}, false, "has whitespace in it!"})) ==
        Errc::invalid_argument);
}

TEST_CASE("registration is refused for bad urls, names, members and duplicate urls",
          "[core][servers]") {
  World w;
  w.register_server("meet.example.com", {});
  CHECK(error_of(w.run(RegisterServer{"", "N", "", "", {}, false, {}})) == Errc::invalid_argument);
  CHECK(error_of(w.run(RegisterServer{"a b", "N", "", "", {}, false, {}})) ==
        Errc::invalid_argument);
  CHECK(error_of(w.run(RegisterServer{"x.example.com/path", "N", "", "", {}, false, {}})) ==
        Errc::invalid_argument);
  CHECK(error_of(w.run(RegisterServer{"x.example.com", "", "", "", {}, false, {}})) ==
        Errc::invalid_argument);
  CHECK(error_of(w.run(RegisterServer{"x.example.com", "N", "", "", {"nope"}, false, {}})) ==
        Errc::invalid_email);
  CHECK(error_of(w.run(RegisterServer{"MEET.example.com", "N", "", "", {}, false, {}})) ==
        Errc::conflict);
  CHECK(w.state().servers().size() == 1);
}

TEST_CASE("update changes only the given server fields", "[core][servers]") {
  World w;
  auto s = w.register_server("meet.example.com", {"alice@x.de"});
  w.register_server("taken.example.com", {});
  UpdateServer u;
  u.id = s.id;
  u.name = "Renamed";
  u.members = std::vector<std::string>{"@x.de"};
  auto r = w.run(u);
  REQUIRE(r.ok());
  const Server* after = w.state().server(s.id);
  CHECK(after->name == "Renamed");
  CHECK(after->url == "meet.example.com");
  CHECK(after->app_secret == "secret");
  CHECK(after->members == std::vector<std::string>{"@x.de"});
  CHECK(after->version == 2);
  CHECK(w.run(u)->events.empty());

  UpdateServer taken;
  taken.id = s.id;
  taken.url = "taken.example.com";
  CHECK(error_of(w.run(taken)) == Errc::conflict);
  UpdateServer missing;
  missing.id = 42;
  CHECK(error_of(w.run(missing)) == Errc::server_not_found);
  UpdateServer empty_name;
  empty_name.id = s.id;
  empty_name.name = "";
  CHECK(error_of(w.run(empty_name)) == Errc::invalid_argument);
}

TEST_CASE("members are added and removed one at a time", "[core][servers]") {
  World w;
  auto s = w.register_server("meet.example.com", {"alice@x.de"});
  REQUIRE(w.run(AddServerMember{s.id, "Bob@X.de"}).ok());
  CHECK(w.run(AddServerMember{s.id, "bob@x.de"})->events.empty());
  CHECK(error_of(w.run(AddServerMember{s.id, "bob"})) == Errc::invalid_email);
  CHECK(w.state().server(s.id)->members == std::vector<std::string>{"alice@x.de", "bob@x.de"});
  REQUIRE(w.run(RemoveServerMember{s.id, "ALICE@x.de"}).ok());
  CHECK(error_of(w.run(RemoveServerMember{s.id, "alice@x.de"})) == Errc::not_a_member);
  CHECK(w.state().server(s.id)->members == std::vector<std::string>{"bob@x.de"});
}

TEST_CASE("rotating a key revokes the old one for the server and its clones", "[core][servers]") {
  World w;
  auto s = w.register_server("meet.example.com", {"alice@x.de"}, true);
  auto clone = w.run(CloneServer{s.key, "meet2.example.com", "Two", "", ""});
  REQUIRE(clone.ok());
  auto unrelated = w.register_server("other.example.com", {"alice@x.de"});
  auto r = w.run(RotateServerKey{s.id});
  REQUIRE(r.ok());
  REQUIRE(r->reply.api_key);
  std::string fresh = *r->reply.api_key;
  CHECK(fresh != s.key);
  CHECK(r->events.size() == 2);
  for (const auto& e : r->events) CHECK(e.type() == "server.key_rotated");
  CHECK(w.state().server(*clone->reply.server_id)->api_key_hash == "hash(" + fresh + ")");
  CHECK(w.state().server(unrelated.id)->api_key_hash == "hash(" + unrelated.key + ")");
  CHECK(error_of(w.run(CreateRoom{s.key, "meet.example.com", "alice@x.de", "n", "", "5"})) ==
        Errc::access_denied);
  CHECK(w.run(CreateRoom{fresh, "meet.example.com", "alice@x.de", "n", "", "5"}).ok());
  CHECK(error_of(w.run(RotateServerKey{99})) == Errc::server_not_found);
}

TEST_CASE("a clone shares the key, has no members and cannot itself be cloned", "[core][servers]") {
  World w;
  auto proto = w.register_server("meet.example.com", {"alice@x.de"}, true);
  auto r = w.run(CloneServer{proto.key, "meet2.example.com", "Two", "app2", "secret2"});
  REQUIRE(r.ok());
  CHECK(r->events.at(0).type() == "server.cloned");
  const Server* clone = w.state().server(*r->reply.server_id);
  CHECK(clone->id == 2);
  CHECK(clone->url == "meet2.example.com");
  CHECK(clone->name == "Two");
  CHECK(clone->app_id == "app2");
  CHECK(clone->api_key_hash == w.state().server(proto.id)->api_key_hash);
  CHECK(clone->members.empty());
  CHECK_FALSE(clone->allow_clone);
  CHECK(clone->prototype_id == proto.id);

  UpdateServer allow;
  allow.id = clone->id;
  allow.allow_clone = true;
  CHECK(error_of(w.run(allow)) == Errc::conflict);
  // Cloning again with the shared key clones the prototype, never the clone.
  auto again = w.run(CloneServer{proto.key, "meet3.example.com", "Three", "", ""});
  REQUIRE(again.ok());
  CHECK(w.state().server(*again->reply.server_id)->prototype_id == proto.id);
}

TEST_CASE("clone is refused without a clone-allowed server under the key, or bad input",
          "[core][servers]") {
  World w;
  auto plain = w.register_server("plain.example.com", {"alice@x.de"});
  auto proto = w.register_server("meet.example.com", {"alice@x.de"}, true);
  CHECK(error_of(w.run(CloneServer{plain.key, "c.example.com", "C", "", ""})) ==
        Errc::not_clonable);
  CHECK(error_of(w.run(CloneServer{std::nullopt, "c.example.com", "C", "", ""})) ==
        Errc::missing_key);
  CHECK(error_of(w.run(CloneServer{"unknown-key-123456", "c.example.com", "C", "", ""})) ==
        Errc::not_clonable);
  CHECK(error_of(w.run(CloneServer{proto.key, std::nullopt, "C", "", ""})) ==
        Errc::invalid_argument);
  CHECK(error_of(w.run(CloneServer{proto.key, "c.example.com", std::nullopt, "", ""})) ==
        Errc::invalid_argument);
  CHECK(error_of(w.run(CloneServer{proto.key, "meet.example.com", "C", "", ""})) == Errc::conflict);
  REQUIRE(w.run(SetServerState{proto.id, ServerState::disabled}).ok());
  CHECK(error_of(w.run(CloneServer{proto.key, "c.example.com", "C", "", ""})) ==
        Errc::not_clonable);
  CHECK(w.state().servers().size() == 2);
}

TEST_CASE("a server with rooms that have not ended cannot be deleted", "[core][servers]") {
  World w;
  auto s = w.register_server("meet.example.com", {"alice@x.de"});
  auto uid = w.create_room(s.key, "meet.example.com", "alice@x.de", "2021-02-02T13:30", "30");
  CHECK(error_of(w.run(DeleteServer{s.id})) == Errc::conflict);
  SECTION("once the room has ended the server goes, and its url is free again") {
    w.clock.advance(std::chrono::hours{2});
    auto r = w.run(DeleteServer{s.id});
    REQUIRE(r.ok());
    CHECK(w.state().server(s.id)->deleted);
    CHECK(w.state().live_server_by_url("meet.example.com") == nullptr);
    CHECK(error_of(w.run(DeleteServer{s.id})) == Errc::server_not_found);
    CHECK(error_of(w.run(CreateRoom{s.key, "meet.example.com", "alice@x.de", "n", "", "5"})) ==
          Errc::server_not_found);
    w.register_server("meet.example.com", {});
    // The old room keeps pointing at the tombstone, so its history stays readable.
    CHECK(w.state().server(w.room(uid).server_id)->url == "meet.example.com");
  }
  SECTION("or once the room is deleted") {
    REQUIRE(w.run(DeleteRoom{s.key, uid}).ok());
    CHECK(w.run(DeleteServer{s.id}).ok());
  }
}

TEST_CASE("server state changes are events, and repeating one is a no-op", "[core][servers]") {
  World w;
  auto s = w.register_server("meet.example.com", {});
  auto r = w.run(SetServerState{s.id, ServerState::cordoned});
  REQUIRE(r.ok());
  CHECK(r->events.at(0).type() == "server.state_changed");
  CHECK(w.run(SetServerState{s.id, ServerState::cordoned})->events.empty());
  CHECK(error_of(w.run(SetServerState{7, ServerState::enabled})) == Errc::server_not_found);
  CHECK(server_state_from_string("cordoned") == ServerState::cordoned);
  CHECK_FALSE(server_state_from_string("paused"));
}
