// Snapshot codec: the whole core State as one JSON document, written and read record by record.
#pragma once

#include <string>
#include <string_view>

#include "roombus/core/result.hpp"
#include "roombus/core/state.hpp"

namespace roombus::json {

inline constexpr std::string_view kSnapshotFormat = "roombus.snapshot.v1";

// One JSON document, one record per line so that large snapshots stay readable with head/grep:
//   {"format":"roombus.snapshot.v1","position":42,
//   "servers":[
//   {<server object, as in event payloads, secrets included>},
//   ...
//   ],
//   "room_fields":["uid","number","jitsi_name","name","start","duration_minutes","end",
//                  "moderator","participants","server_id","deleted","version"],
//   "room_count":2,
//   "rooms":[
//   ["<uid>",1,"<jitsi name>","<name>",1612267200,45,1612269900,"<moderator>",[...],1,false,1],
//   ...
//   ],
//   "room_stages":"0213"}
// Rooms are arrays in `room_fields` order (no member names: a million rooms would repeat them a
// million times), in number order, times as Unix seconds. `room_stages` holds one digit per room
// in number order, its lifecycle stage (0 none, 1 starting, 2 started, 3 ended); it is optional
// on input, since snapshots written before lifecycle events have none (every room then reads as
// none). Snapshots hold secrets: keep them in the data directory only.
// The snapshotter writes the binary format now (snapshot_binary.hpp, several times faster to
// decode); this one stays readable, so a data directory from before upgrades from its last JSON
// snapshot.
std::string encode_snapshot(const core::State& state);

// Rebuilds a State equal (==) to the one encoded. Reads one record at a time, so memory beyond
// the input and the state is one record. The skeleton's members must come in the order above
// (whitespace between tokens is free); records are checked as strictly as event payloads, and
// the data must be consistent (see core::State::restore). Anything else, including a different
// format or a truncated file, is Errc::invalid_argument naming where: the caller then replays
// the whole log instead.
core::Result<core::State> decode_snapshot(std::string_view json);

}  // namespace roombus::json
