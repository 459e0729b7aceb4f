// decide(): every room and server rule of the domain, as a pure function of state and command.
#include "roombus/core/decide.hpp"

#include <algorithm>
#include <functional>
#include <queue>
#include <type_traits>
#include <unordered_map>

#include "roombus/core/rules.hpp"

namespace roombus::core {
namespace {

constexpr std::size_t kMaxNameBytes = 1024;
constexpr std::size_t kMinImportedKeyBytes = 16;
// Every participant event carries the whole list, so an unbounded list would grow the log
// quadratically.
constexpr std::size_t kMaxParticipants = 1000;

// Builds the events of one decision with contiguous positions and per-aggregate versions.
class Emitter {
 public:
  Emitter(const State& state, const Context& ctx) : ctx_(ctx), position_(state.position()) {}

  void room(RoomChanged change) { push(std::move(change)); }
  void server(ServerChanged change) { push(std::move(change)); }

  Decision finish(Reply reply) { return Decision{std::move(events_), std::move(reply)}; }

 private:
  template <class Change>
  void push(Change change) {
    Event e;
    e.position = ++position_;
    e.command_id = ctx_.command_id;
    e.time = ctx_.now;
    if constexpr (std::is_same_v<Change, RoomChanged>) {
      e.version = change.room.version;
    } else {
      e.version = change.server.version;
    }
    e.change = std::move(change);
    events_.push_back(std::move(e));
  }

  const Context& ctx_;
  std::int64_t position_;
  std::vector<Event> events_;
};

Decision no_change(Reply reply) { return Decision{{}, std::move(reply)}; }

// A missing or empty key matches nothing, not even a server without a key.
std::optional<Error> check_key(const Context& ctx, const Server& server) {
  if (!ctx.presented_key_hash || ctx.presented_key_hash->empty()) {
    return make_error(Errc::missing_key, "no API key was presented");
  }
  if (server.api_key_hash.empty() || !same_key_hash(*ctx.presented_key_hash, server.api_key_hash)) {
    return make_error(Errc::access_denied, "the API key does not belong to this server");
  }
  return std::nullopt;
}

Result<const Room*> find_live_room(const State& state, const std::string& uid) {
  const Room* room = state.room(uid);
  if (room == nullptr) return make_error(Errc::room_not_found, "no room with uid '" + uid + "'");
  if (room->deleted) return make_error(Errc::room_deleted, "room '" + uid + "' was deleted");
  return room;
}

// Looks the room up, then checks the key of the server it is on: jitsi-admin's order.
Result<const Room*> authorised_room(const State& state, const Context& ctx,
                                    const std::string& uid) {
  auto room = find_live_room(state, uid);
  if (!room) return room;
  const Server* server = state.server((*room)->server_id);
  if (server == nullptr) return make_error(Errc::server_not_found, "the room's server is gone");
  if (auto denied = check_key(ctx, *server)) return *denied;
  return room;
}

Result<Instant> resolve_start(const Text& text, const Context& ctx) {
  if (!text || text->empty()) return ctx.now;
  auto parsed = parse_start(*text);
  if (!parsed) return parsed.error();
  if (parsed->offset_minutes) {
    return instant_from_utc_fields(parsed->local) - std::chrono::minutes{*parsed->offset_minutes};
  }
  return ctx.zone->to_utc(parsed->local);
}

std::optional<Error> check_name(const std::string& name) {
  if (!is_valid_utf8_text(name)) {
    return make_error(Errc::invalid_argument, "name must be UTF-8 text without NUL characters");
  }
  if (name.size() > kMaxNameBytes) {
    return make_error(Errc::invalid_argument,
                      "name is longer than " + std::to_string(kMaxNameBytes) + " bytes");
  }
  return std::nullopt;
}

std::optional<Error> check_takes_rooms(const Server& server) {
  if (server.state != ServerState::enabled) {
    return make_error(Errc::server_unavailable, "server " + std::to_string(server.id) + " is " +
                                                    std::string(to_string(server.state)) +
                                                    " and takes no new rooms");
  }
  return std::nullopt;
}

bool same_email(std::string_view a, std::string_view b) { return lowercase(a) == lowercase(b); }

// Server URLs are host names; a scheme or trailing slash typed by an operator is dropped, as
// jitsi-admin's UI does.
Result<std::string> normalise_url(std::string_view url) {
  for (std::string_view scheme : {"https://", "http://"}) {
    if (lowercase(url.substr(0, scheme.size())) == scheme) url.remove_prefix(scheme.size());
  }
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  if (url.empty()) return make_error(Errc::invalid_argument, "url is required");
  if (url.size() > 253) return make_error(Errc::invalid_argument, "url is too long");
  for (char c : url) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '/' || c == '?' || c == '#' || c == '@') {
      return make_error(
          Errc::invalid_argument,
          "url must be a host name such as meet.example.com, got '" + std::string(url) + "'");
    }
  }
  return std::string(url);
}

std::optional<Error> check_url_free(const State& state, const std::string& url,
                                    std::optional<ServerId> self) {
  const Server* other = state.live_server_by_url(url);
  if (other != nullptr && (!self || other->id != *self)) {
    return make_error(Errc::conflict,
                      "server " + std::to_string(other->id) + " already has the url '" + url + "'");
  }
  return std::nullopt;
}

Result<std::vector<std::string>> normalise_members(const std::vector<std::string>& members) {
  std::vector<std::string> out;
  for (const auto& m : members) {
    std::string lower = lowercase(m);
    if (!is_valid_email(lower) && !is_valid_domain_rule(lower)) {
      return make_error(Errc::invalid_email,
                        "member '" + m + "' is neither an email nor an @domain rule");
    }
    if (std::find(out.begin(), out.end(), lower) == out.end()) out.push_back(std::move(lower));
  }
  return out;
}

Result<const Server*> live_server(const State& state, ServerId id) {
  const Server* s = state.server(id);
  if (s == nullptr || s->deleted) {
    return make_error(Errc::server_not_found, "no server with id " + std::to_string(id));
  }
  return s;
}

Room bumped(const Room& room) {
  Room next = room;
  ++next.version;
  return next;
}

Server bumped(const Server& server) {
  Server next = server;
  ++next.version;
  return next;
}

class Decider {
 public:
  Decider(const State& state, const Context& ctx) : state_(state), ctx_(ctx), emit_(state, ctx) {}

  Result<Decision> operator()(const CreateRoom& c) {
    const Server* server = state_.live_server_by_url(c.server_url);
    if (!ctx_.presented_key_hash) return make_error(Errc::missing_key, "no API key was presented");
    if (server == nullptr) {
      return make_error(Errc::server_not_found, "no server with the url '" + c.server_url + "'");
    }
    if (auto denied = check_key(ctx_, *server)) return *denied;
    if (!is_valid_email(c.email)) {
      return make_error(Errc::invalid_email, "'" + c.email + "' is not a valid email");
    }
    if (!is_member(*server, c.email)) {
      return make_error(Errc::not_a_member,
                        c.email + " is not a member of server " + std::to_string(server->id));
    }
    if (auto unavailable = check_takes_rooms(*server)) return *unavailable;
    auto start = resolve_start(c.start, ctx_);
    if (!start) return start.error();
    if (!c.duration) return make_error(Errc::invalid_duration, "duration is required");
    auto duration = parse_duration(*c.duration);
    if (!duration) return duration.error();
    if (!c.name) return make_error(Errc::invalid_argument, "name is required");
    if (auto bad = check_name(*c.name)) return *bad;
    if (ctx_.minted.room_uid.empty() || state_.room(ctx_.minted.room_uid) != nullptr) {
      return make_error(Errc::conflict, "no fresh room uid was available; retry");
    }

    Room room;
    room.uid = ctx_.minted.room_uid;
    room.number = state_.next_room_number();
    room.jitsi_name = ctx_.minted.jitsi_name;
    room.name = *c.name;
    room.start = *start;
    room.duration_minutes = *duration;
    room.end = *start + std::chrono::minutes{*duration};
    room.moderator = c.email;
    room.participants = {c.email};
    room.server_id = server->id;
    room.version = 1;
    emit_.room({RoomChange::created, room, std::nullopt, {}, {}, std::nullopt, 0});
    begin_cycle(room);
    return emit_.finish(Reply{room.uid, server->id, std::nullopt});
  }

  Result<Decision> operator()(const UpdateRoom& c) {
    auto found = authorised_room(state_, ctx_, c.uid);
    if (!found) return found.error();
    const Room& room = **found;
    Room next = room;
    std::vector<std::string> fields;
    std::optional<ServerId> previous;

    if (c.server_url) {
      const Server* target = state_.live_server_by_url(*c.server_url);
      if (target == nullptr) {
        return make_error(Errc::server_not_found, "no server with the url '" + *c.server_url + "'");
      }
      if (auto denied = check_key(ctx_, *target)) return *denied;
      if (!is_member(*target, room.moderator)) {
        return make_error(Errc::not_a_member, room.moderator + " is not a member of server " +
                                                  std::to_string(target->id));
      }
      if (target->id != room.server_id) {
        if (auto unavailable = check_takes_rooms(*target)) return *unavailable;
        previous = room.server_id;
        next.server_id = target->id;
        fields.push_back("server");
      }
    }
    if (c.start && !c.start->empty()) {
      auto start = resolve_start(c.start, ctx_);
      if (!start) return start.error();
      if (*start != room.start) fields.push_back("start");
      next.start = *start;
    }
    if (c.duration) {
      auto duration = parse_duration(*c.duration);
      if (!duration) return duration.error();
      if (*duration != room.duration_minutes) fields.push_back("duration");
      next.duration_minutes = *duration;
    }
    if (c.name) {
      if (auto bad = check_name(*c.name)) return *bad;
      if (*c.name != room.name) fields.push_back("name");
      next.name = *c.name;
    }
    Reply reply{room.uid, next.server_id, std::nullopt};
    if (fields.empty()) return no_change(std::move(reply));
    next.end = next.start + std::chrono::minutes{next.duration_minutes};
    ++next.version;
    const bool new_start = next.start != room.start;
    emit_.room({RoomChange::updated, next, previous, {}, std::move(fields), std::nullopt, 0});
    if (new_start) begin_cycle(next);
    return emit_.finish(std::move(reply));
  }

  Result<Decision> operator()(const DeleteRoom& c) {
    auto found = authorised_room(state_, ctx_, c.uid);
    if (!found) return found.error();
    Room next = bumped(**found);
    next.deleted = true;
    emit_.room({RoomChange::deleted, next, std::nullopt, {}, {}, std::nullopt, 0});
    return emit_.finish(Reply{next.uid, next.server_id, std::nullopt});
  }

  Result<Decision> operator()(const MoveRoom& c) {
    auto found = authorised_room(state_, ctx_, c.uid);
    if (!found) return found.error();
    const Room& room = **found;
    const Server* target = c.target ? state_.server(*c.target) : nullptr;
    // An existing server under another key is reported exactly like a missing one.
    if (target == nullptr || target->deleted || check_key(ctx_, *target)) {
      return make_error(Errc::target_not_found, "no server with that id under the same key");
    }
    Reply reply{room.uid, target->id, std::nullopt};
    if (target->id == room.server_id) return no_change(std::move(reply));
    if (auto unavailable = check_takes_rooms(*target)) return *unavailable;
    Room next = bumped(room);
    next.server_id = target->id;
    emit_.room({RoomChange::moved, next, room.server_id, {}, {"server"}, std::nullopt, 0});
    return emit_.finish(std::move(reply));
  }

  Result<Decision> operator()(const AddParticipant& c) {
    auto found = authorised_room(state_, ctx_, c.uid);
    if (!found) return found.error();
    const Room& room = **found;
    if (!is_valid_email(c.email)) {
      return make_error(Errc::invalid_email, "'" + c.email + "' is not a valid email");
    }
    Reply reply{room.uid, room.server_id, std::nullopt};
    auto same = [&](const std::string& p) { return same_email(p, c.email); };
    if (std::any_of(room.participants.begin(), room.participants.end(), same)) {
      return no_change(std::move(reply));
    }
    if (room.participants.size() >= kMaxParticipants) {
      return make_error(Errc::invalid_argument,
                        "a room has at most " + std::to_string(kMaxParticipants) + " participants");
    }
    Room next = bumped(room);
    next.participants.push_back(c.email);
    emit_.room({RoomChange::participant_added, next, std::nullopt, c.email, {}, std::nullopt, 0});
    return emit_.finish(std::move(reply));
  }

  Result<Decision> operator()(const RemoveParticipant& c) {
    auto found = authorised_room(state_, ctx_, c.uid);
    if (!found) return found.error();
    const Room& room = **found;
    if (!is_valid_email(c.email)) {
      return make_error(Errc::invalid_email, "'" + c.email + "' is not a valid email");
    }
    auto same = [&](const std::string& p) { return same_email(p, c.email); };
    auto it = std::find_if(room.participants.begin(), room.participants.end(), same);
    if (it == room.participants.end()) {
      return make_error(Errc::not_a_participant, c.email + " is not a participant");
    }
    Room next = bumped(room);
    std::string removed = *it;
    next.participants.erase(next.participants.begin() + (it - room.participants.begin()));
    emit_.room({RoomChange::participant_removed, next, std::nullopt, removed, {}, std::nullopt, 0});
    return emit_.finish(Reply{room.uid, room.server_id, std::nullopt});
  }

  Result<Decision> operator()(const CloneServer& c) {
    if (!ctx_.presented_key_hash) return make_error(Errc::missing_key, "no API key was presented");
    const Server* prototype = nullptr;
    for (const Server* s : state_.live_servers_by_key_hash(*ctx_.presented_key_hash)) {
      if (s->allow_clone && !s->prototype_id && s->state != ServerState::disabled) {
        prototype = s;
        break;
      }
    }
    if (prototype == nullptr) {
      return make_error(Errc::not_clonable, "no clone-allowed server answers to this key");
    }
    if (!c.url) return make_error(Errc::invalid_argument, "url is required");
    auto url = normalise_url(*c.url);
    if (!url) return url.error();
    if (!c.name || c.name->empty()) return make_error(Errc::invalid_argument, "name is required");
    if (auto bad = check_name(*c.name)) return *bad;
    if (auto taken = check_url_free(state_, *url, std::nullopt)) return *taken;

    Server clone = *prototype;
    clone.id = state_.next_server_id();
    clone.url = *url;
    clone.name = *c.name;
    clone.app_id = c.app_id;
    clone.app_secret = c.app_secret;
    clone.members.clear();
    clone.allow_clone = false;
    clone.state = ServerState::enabled;
    clone.prototype_id = prototype->id;
    clone.version = 1;
    emit_.server({ServerChange::cloned, clone});
    return emit_.finish(Reply{{}, clone.id, std::nullopt});
  }

  Result<Decision> operator()(const RegisterServer& c) {
    auto url = normalise_url(c.url);
    if (!url) return url.error();
    if (c.name.empty()) return make_error(Errc::invalid_argument, "name is required");
    if (auto bad = check_name(c.name)) return *bad;
    if (auto taken = check_url_free(state_, *url, std::nullopt)) return *taken;
    auto members = normalise_members(c.members);
    if (!members) return members.error();
    std::optional<std::string> shown_key;
    std::string key_hash;
    if (c.api_key) {
      if (c.api_key->size() < kMinImportedKeyBytes ||
          std::any_of(c.api_key->begin(), c.api_key->end(),
                      [](char ch) { return static_cast<unsigned char>(ch) <= 0x20; })) {
        return make_error(Errc::invalid_argument,
                          "an imported api_key needs at least 16 characters and no whitespace");
      }
      key_hash = ctx_.imported_key_hash.value_or("");
    } else {
      shown_key = ctx_.minted.api_key;
      key_hash = ctx_.minted.api_key_hash;
    }
    if (key_hash.empty()) return make_error(Errc::conflict, "no key hash was provided; retry");

    Server server;
    server.id = state_.next_server_id();
    server.url = *url;
    server.name = c.name;
    server.app_id = c.app_id;
    server.app_secret = c.app_secret;
    server.api_key_hash = key_hash;
    server.members = std::move(*members);
    server.allow_clone = c.allow_clone;
    server.version = 1;
    emit_.server({ServerChange::registered, server});
    return emit_.finish(Reply{{}, server.id, shown_key});
  }

  Result<Decision> operator()(const UpdateServer& c) {
    auto found = live_server(state_, c.id);
    if (!found) return found.error();
    const Server& server = **found;
    Server next = server;
    if (c.url) {
      auto url = normalise_url(*c.url);
      if (!url) return url.error();
      if (auto taken = check_url_free(state_, *url, server.id)) return *taken;
      next.url = *url;
    }
    if (c.name) {
      if (c.name->empty()) return make_error(Errc::invalid_argument, "name must not be empty");
      if (auto bad = check_name(*c.name)) return *bad;
      next.name = *c.name;
    }
    if (c.app_id) next.app_id = *c.app_id;
    if (c.app_secret) next.app_secret = *c.app_secret;
    if (c.members) {
      auto members = normalise_members(*c.members);
      if (!members) return members.error();
      next.members = std::move(*members);
    }
    if (c.allow_clone) {
      if (*c.allow_clone && server.prototype_id) {
        return make_error(Errc::conflict, "a clone cannot itself be cloned");
      }
      next.allow_clone = *c.allow_clone;
    }
    return server_changed(server, std::move(next), ServerChange::updated);
  }

  Result<Decision> operator()(const AddServerMember& c) {
    auto found = live_server(state_, c.id);
    if (!found) return found.error();
    auto members = (*found)->members;
    members.push_back(c.member);
    auto normalised = normalise_members(members);
    if (!normalised) return normalised.error();
    Server next = **found;
    next.members = std::move(*normalised);
    return server_changed(**found, std::move(next), ServerChange::updated);
  }

  Result<Decision> operator()(const RemoveServerMember& c) {
    auto found = live_server(state_, c.id);
    if (!found) return found.error();
    Server next = **found;
    std::string wanted = lowercase(c.member);
    auto it = std::find(next.members.begin(), next.members.end(), wanted);
    if (it == next.members.end()) {
      return make_error(Errc::not_a_member,
                        c.member + " is not a member of server " + std::to_string(c.id));
    }
    next.members.erase(it);
    return server_changed(**found, std::move(next), ServerChange::updated);
  }

  Result<Decision> operator()(const SetServerState& c) {
    auto found = live_server(state_, c.id);
    if (!found) return found.error();
    Server next = **found;
    next.state = c.state;
    return server_changed(**found, std::move(next), ServerChange::state_changed);
  }

  Result<Decision> operator()(const RotateServerKey& c) {
    auto found = live_server(state_, c.id);
    if (!found) return found.error();
    const Server& server = **found;
    if (ctx_.minted.api_key_hash.empty()) return make_error(Errc::conflict, "no fresh key; retry");
    for (const auto& [id, s] : state_.servers()) {
      bool family = id == server.id || (s.prototype_id == server.id && !s.deleted &&
                                        same_key_hash(s.api_key_hash, server.api_key_hash));
      if (!family) continue;
      Server next = bumped(s);
      next.api_key_hash = ctx_.minted.api_key_hash;
      emit_.server({ServerChange::key_rotated, next});
    }
    return emit_.finish(Reply{{}, server.id, ctx_.minted.api_key});
  }

  Result<Decision> operator()(const DeleteServer& c) {
    auto found = live_server(state_, c.id);
    if (!found) return found.error();
    std::size_t open = state_.open_room_count(c.id, ctx_.now);
    if (open > 0) {
      return make_error(Errc::conflict,
                        "server " + std::to_string(c.id) + " still has " + std::to_string(open) +
                            " rooms that have not ended; move or delete them first");
    }
    Server next = bumped(**found);
    next.deleted = true;
    emit_.server({ServerChange::deleted, next});
    return emit_.finish(Reply{{}, c.id, std::nullopt});
  }

  // Every lifecycle fact due at ctx.now, earliest first, at most max_events. Facts owed by one
  // room come in stage order, so a room whose start and end both passed while nothing ticked
  // gets starting, started and ended in one decision.
  Result<Decision> operator()(const Tick& c) {
    const std::vector<DueFact> seeds = state_.due_facts(ctx_.now, c.max_events);
    // The walk stopped at max_events: facts after the last seed may exist, so nothing after it
    // is emitted now, and facts come out in (due, room, stage) order across Ticks too.
    const bool capped = !seeds.empty() && seeds.size() == c.max_events;
    const DueFact last_seed = capped ? seeds.back() : DueFact{};
    std::priority_queue<DueFact, std::vector<DueFact>, std::greater<>> due(seeds.begin(),
                                                                           seeds.end());
    std::unordered_map<std::int64_t, Room> latest;  // each touched room as this decision left it
    std::size_t emitted = 0;
    while (!due.empty() && emitted < c.max_events) {
      const DueFact fact = due.top();
      due.pop();
      if (capped && last_seed < fact) break;
      auto [it, fresh] = latest.try_emplace(fact.number);
      if (fresh) it->second = *state_.room_by_number(fact.number);
      Room& room = it->second;
      ++room.version;
      emit_.room(lifecycle_change(room, fact.stage, fact.due));
      ++emitted;
      if (auto after = next_stage(fact.stage)) {
        const DueFact next{due_at(room, *after, ctx_.starting_soon), fact.number, *after};
        if (next.due <= ctx_.now) due.push(next);
      }
    }
    return emit_.finish(Reply{});
  }

 private:
  RoomChanged lifecycle_change(const Room& room, Stage stage, Instant due) const {
    return RoomChanged{change_reaching(stage),  room, std::nullopt, {}, {}, due,
                       (ctx_.now - due).count()};
  }

  // A room whose cycle begins now (created, or given a new start) inside the starting-soon lead,
  // or past its start, is starting at once: due now, not late. started and ended follow from the
  // next Tick.
  void begin_cycle(const Room& room) {
    if (ctx_.now < room.start - ctx_.starting_soon) return;
    emit_.room(lifecycle_change(bumped(room), Stage::starting, ctx_.now));
  }

  Result<Decision> server_changed(const Server& before, Server after, ServerChange change) {
    Reply reply{{}, before.id, std::nullopt};
    if (after == before) return no_change(std::move(reply));
    ++after.version;
    emit_.server({change, std::move(after)});
    return emit_.finish(std::move(reply));
  }

  const State& state_;
  const Context& ctx_;
  Emitter emit_;
};

}  // namespace

bool same_key_hash(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  std::size_t n = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff = static_cast<unsigned char>(diff | (x ^ y));
  }
  return diff == 0;
}

MintNeeds mint_needs(const Command& command) {
  return MintNeeds{std::holds_alternative<CreateRoom>(command),
                   std::holds_alternative<RegisterServer>(command) ||
                       std::holds_alternative<RotateServerKey>(command)};
}

Result<Decision> decide(const State& state, const Command& command, const Context& context) {
  Decider decider(state, context);
  return std::visit(decider, command);
}

}  // namespace roombus::core
