// Event codec: the core's events as JSON for the event log and for Kafka consumers (RapidJSON).
#pragma once

#include <string>
#include <string_view>

#include "roombus/core/events.hpp"
#include "roombus/core/result.hpp"

namespace roombus::json {

// The event log's payload, members in this order:
//   {"type":"room.created","position":7,"version":1,"command_id":"...","time":"2021-02-02T12:00:00Z",
//    "room":{"uid","number","jitsi_name","name","start","duration_minutes","end","moderator",
//            "participants":[...],"server_id","deleted","version"},
//    "previous_server_id":1 (only when set), "participant":"..." (only when non-empty),
//    "fields":[...] (only when non-empty),
//    "due":"2021-02-02T12:00:00Z","late_seconds":0 (room.starting, room.started and room.ended
//    only, and always there)}
// or, for server events, {"type":"server.registered",...,"server":{"id","url","name","app_id",
//   "app_secret","api_key_hash","members":[...],"allow_clone","state":"enabled|cordoned|disabled",
//   "prototype_id":null|int,"deleted","version"}}.
// Times are ISO-8601 UTC to the second; instants must lie in the years 0000-32767 (the core's
// lie in 1970-10000). Strings are written byte for byte (JSON-escaped), so a name that is not
// valid UTF-8 survives the round trip: the payload is exact, not necessarily valid UTF-8.
std::string encode_event_payload(const core::Event& event);

// The same document for Kafka consumers, without the server's `app_secret` (it signs Jitsi
// tokens) and `api_key_hash` (it is what authenticates v1 callers; a hash of a weak imported key
// can be brute-forced offline). Consumers — autoscalers, mailers, analytics — never need them,
// and topics are read far more widely than the data directory. Invalid UTF-8 becomes U+FFFD so
// that every consumer's JSON parser accepts the value. decode_event_payload() refuses this form:
// it is not a log payload.
std::string encode_public_event(const core::Event& event);

// Strict inverse of encode_event_payload(): the document must be a JSON object with exactly the
// members above (no unknown or repeated member, optional members only in their written form:
// previous_server_id an integer, participant a non-empty string, fields a non-empty array; due
// and late_seconds, not negative, on lifecycle events and nowhere else),
// integers within int64, times in the canonical form, a known type. Anything else — including
// arbitrary bytes — is Errc::invalid_argument with a text naming the member and what is wrong.
// For every event e, decode(encode(e)) == e; for every payload p it accepts,
// encode(decode(p)) == p when p was written by encode_event_payload().
core::Result<core::Event> decode_event_payload(std::string_view json);

}  // namespace roombus::json
