// JSON codec of remembered command outcomes (idempotency records in the event log).
#pragma once

#include <string>
#include <string_view>

#include "roombus/core/event_ports.hpp"
#include "roombus/core/result.hpp"

namespace roombus::json {

// {"error":{"code":"invalid_duration","text":"..."}} or {"reply":{"room_uid":..,"server_id":..}},
// then "fingerprint":"<the caller's hash>" when there is one and "at":<Unix seconds of the
// decision> when known. Never contains an API key.
std::string encode_outcome(const core::Outcome& outcome);

// Strict: anything but the shape above is Errc::invalid_argument. Both optional members are
// optional on input too: logs written before them (error or reply only) still decode, with an
// empty fingerprint and no time. `command_id` is not part of the JSON (the log keeps it beside
// the payload) and is passed in.
core::Result<core::Outcome> decode_outcome(std::string_view command_id, std::string_view json);

}  // namespace roombus::json
