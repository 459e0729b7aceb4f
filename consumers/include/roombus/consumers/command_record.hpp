// The Kafka command record: `{"id":..,"type":..,"data":{..}}` with `authorization: Bearer <key>`.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "roombus/json/flat_fields.hpp"
#include "roombus/kafka/producer.hpp"

namespace roombus::consumers {

// The command types, one per v1 write.
inline constexpr std::array<std::string_view, 7> kCommandTypes = {
    "room.create", "room.update",          "room.delete",
    "room.move",   "room.participant.add", "room.participant.remove",
    "server.clone"};

struct CommandRecord {
  std::string id;    // the producer's command id: the idempotency key
  std::string type;  // one of kCommandTypes
  // The v1 endpoint's parameters; numbers may come as JSON numbers or strings, as in a JSON body
  // over HTTP (json::flat_fields).
  json::FlatFields data;
  std::string key;  // the server API key of the `authorization` header
};

// Why a record goes to the dead-letter topic (the `roombus-error` header).
enum class Refusal {
  undecodable,
  bad_id,
  unknown_type,
  bad_data,
  missing_key,
  wrong_key,
  failed,  // running it threw: a bug, kept out of the partition's way
};
std::string_view to_string(Refusal refusal);

struct Decoded {
  std::optional<CommandRecord> record;  // set when the record is a command
  Refusal refusal = Refusal::undecodable;
  std::string detail;  // what exactly is wrong, for the DLQ record and the log
};

// Reads a record value and its headers. Refused: a value that is not a JSON object (or nested
// deeper than a command needs), an `id` that is not 1-200 visible ASCII characters (the rule of
// HTTP's Idempotency-Key), an unknown `type`, a `data` that is not an object, an `authorization`
// header that is missing, repeated or not `Bearer <key>` / `Bearer:<key>` (jitsi-admin's form).
// Never throws; any bytes are safe.
Decoded decode_command(std::string_view value, const std::vector<kafka::Header>& headers);

}  // namespace roombus::consumers
