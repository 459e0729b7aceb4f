// The canonical text of a command: what callers hash to tell a repeated request from another.
#include "roombus/core/commands.hpp"

#include <string>
#include <variant>

namespace roombus::core {
namespace {

// "<type>" then "\n<name>=<length>:<bytes>" per field: no two different commands share a text
// (lengths keep any byte inside a value from posing as a separator), and absent ("-") differs
// from empty ("=0:").
class Canonical {
 public:
  // Reserved: grown field by field, a create's text was reallocated four times.
  explicit Canonical(std::string_view type) {
    out_.reserve(256);
    out_ += type;
  }

  Canonical& field(std::string_view name, std::string_view value) {
    out_ += '\n';
    out_ += name;
    out_ += '=';
    out_ += std::to_string(value.size());
    out_ += ':';
    out_ += value;
    return *this;
  }
  Canonical& field(std::string_view name, std::int64_t value) {
    return field(name, std::string_view(std::to_string(value)));
  }
  Canonical& field(std::string_view name, bool value) {
    return field(name, std::string_view(value ? "true" : "false"));
  }
  Canonical& field(std::string_view name, const std::vector<std::string>& values) {
    field(name, static_cast<std::int64_t>(values.size()));
    for (const auto& v : values) field(name, std::string_view(v));
    return *this;
  }
  template <class T>
  Canonical& field(std::string_view name, const std::optional<T>& value) {
    if (value) return field(name, *value);
    out_ += '\n';
    out_ += name;
    out_ += '-';
    return *this;
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

struct Canonicalize {
  std::string operator()(const CreateRoom& c) const {
    return Canonical("room.create")
        .field("api_key", c.api_key)
        .field("server_url", std::string_view(c.server_url))
        .field("email", std::string_view(c.email))
        .field("name", c.name)
        .field("start", c.start)
        .field("duration", c.duration)
        .take();
  }
  std::string operator()(const UpdateRoom& c) const {
    return Canonical("room.update")
        .field("api_key", c.api_key)
        .field("uid", std::string_view(c.uid))
        .field("server_url", c.server_url)
        .field("name", c.name)
        .field("start", c.start)
        .field("duration", c.duration)
        .take();
  }
  std::string operator()(const DeleteRoom& c) const {
    return Canonical("room.delete")
        .field("api_key", c.api_key)
        .field("uid", std::string_view(c.uid))
        .take();
  }
  std::string operator()(const MoveRoom& c) const {
    return Canonical("room.move")
        .field("api_key", c.api_key)
        .field("uid", std::string_view(c.uid))
        .field("target", c.target)
        .take();
  }
  std::string operator()(const AddParticipant& c) const {
    return Canonical("room.add-participant")
        .field("api_key", c.api_key)
        .field("uid", std::string_view(c.uid))
        .field("email", std::string_view(c.email))
        .take();
  }
  std::string operator()(const RemoveParticipant& c) const {
    return Canonical("room.remove-participant")
        .field("api_key", c.api_key)
        .field("uid", std::string_view(c.uid))
        .field("email", std::string_view(c.email))
        .take();
  }
  std::string operator()(const CloneServer& c) const {
    return Canonical("server.clone")
        .field("api_key", c.api_key)
        .field("url", c.url)
        .field("name", c.name)
        .field("app_id", std::string_view(c.app_id))
        .field("app_secret", std::string_view(c.app_secret))
        .take();
  }
  std::string operator()(const RegisterServer& c) const {
    return Canonical("server.register")
        .field("url", std::string_view(c.url))
        .field("name", std::string_view(c.name))
        .field("app_id", std::string_view(c.app_id))
        .field("app_secret", std::string_view(c.app_secret))
        .field("members", c.members)
        .field("allow_clone", c.allow_clone)
        .field("api_key", c.api_key)
        .take();
  }
  std::string operator()(const UpdateServer& c) const {
    return Canonical("server.update")
        .field("id", c.id)
        .field("url", c.url)
        .field("name", c.name)
        .field("app_id", c.app_id)
        .field("app_secret", c.app_secret)
        .field("members", c.members)
        .field("allow_clone", c.allow_clone)
        .take();
  }
  std::string operator()(const AddServerMember& c) const {
    return Canonical("server.add-member")
        .field("id", c.id)
        .field("member", std::string_view(c.member))
        .take();
  }
  std::string operator()(const RemoveServerMember& c) const {
    return Canonical("server.remove-member")
        .field("id", c.id)
        .field("member", std::string_view(c.member))
        .take();
  }
  std::string operator()(const SetServerState& c) const {
    return Canonical("server.set-state")
        .field("id", c.id)
        .field("state", to_string(c.state))
        .take();
  }
  std::string operator()(const RotateServerKey& c) const {
    return Canonical("server.rotate-key").field("id", c.id).take();
  }
  std::string operator()(const DeleteServer& c) const {
    return Canonical("server.delete").field("id", c.id).take();
  }
  std::string operator()(const Tick& c) const {
    return Canonical("lifecycle.tick")
        .field("max_events", static_cast<std::int64_t>(c.max_events))
        .take();
  }
};

}  // namespace

std::string canonical_text(const Command& command) { return std::visit(Canonicalize{}, command); }

}  // namespace roombus::core
