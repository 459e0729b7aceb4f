// The v1 writes, each one core command, shared by the HTTP endpoints and the Kafka commands.
#pragma once

#include <asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "roombus/core/commands.hpp"
#include "roombus/core/service.hpp"
#include "roombus/json/flat_fields.hpp"
#include "roombus/v1/replies.hpp"
#include "roombus/v1/submit.hpp"

namespace roombus::v1 {

enum class Write {
  room_create,         // POST /api/v1/room
  room_update,         // PUT /api/v1/room
  room_delete,         // DELETE /api/v1/room
  room_move,           // POST /api/v1/room/move[/{uid}]
  participant_add,     // POST /api/v1/user
  participant_remove,  // DELETE /api/v1/user
  server_clone,        // POST /api/v1/server/create
};

// The Kafka command type of a write ("room.create", "room.participant.add", ...), and back.
std::string_view command_type(Write write);
std::optional<Write> write_of(std::string_view command_type);

// The parameters of one request, by name: HTTP's query, form or JSON body; a Kafka command's
// `data`.
class Parameters {
 public:
  virtual ~Parameters() = default;
  // nullopt when absent (or sent as an array: see is_array).
  virtual std::optional<std::string> get(std::string_view name) const = 0;
  // Sent, but as an array or an object where one value is needed.
  virtual bool is_array(std::string_view name) const = 0;
};

// A JSON object's members as parameters (json::flat_fields).
class JsonParameters final : public Parameters {
 public:
  explicit JsonParameters(const json::FlatFields& fields) : fields_(fields) {}
  std::optional<std::string> get(std::string_view name) const override;
  bool is_array(std::string_view name) const override;

 private:
  const json::FlatFields& fields_;
};

// jitsi-admin's /^Bearer[ :](?<token>\S+)$/ on a credential's text (one trailing newline
// tolerated, as PHP's `$` does): the key, or nullopt.
std::optional<std::string> parse_bearer(std::string_view value);

// Uids are lower-case hex; jitsi-admin's MySQL collation matched them in any case.
std::string room_uid(const std::optional<std::string>& given);

// A decimal id; nullopt for anything else (signs, spaces, overflow).
std::optional<std::int64_t> parse_id(std::string_view text);

struct WriteRequest {
  Write write = Write::room_create;
  const Parameters* parameters = nullptr;
  core::Text api_key;                   // the presented credential
  std::optional<std::string> path_uid;  // /room/move/{uid}
  CommandId id;
};

// Runs one write: its parameters to the core command, submit (durable on success), the outcome
// to the endpoint's v1 reply — byte for byte what jitsi-admin's endpoint answers, with roombus's
// defined errors where it crashed (docs/api-v1.md). Call on the Service's thread.
asio::awaitable<Reply> run(core::Service& service, WriteRequest request);

}  // namespace roombus::v1
