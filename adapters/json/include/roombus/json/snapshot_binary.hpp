// Binary snapshot codec: the whole core State in a compact, versioned layout that decodes fast.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "roombus/core/result.hpp"
#include "roombus/core/state.hpp"

namespace roombus::json {

// The first bytes of every binary snapshot. A JSON snapshot starts with '{', so the two formats
// are told apart by their first byte (decode_stored_snapshot).
inline constexpr std::string_view kBinarySnapshotMagic{"RBSTATE\0", 8};
// Raised whenever the layout below changes; a decoder refuses any other version.
inline constexpr std::uint32_t kBinarySnapshotVersion = 1;

// Rooms per chunk of the layout below: chunks decode on several threads at once.
inline constexpr std::size_t kBinarySnapshotRoomsPerChunk = 65536;

// Layout, little-endian. "varint": unsigned LEB128 (7 bits per byte, low first, at most 10
// bytes); "zigzag": a signed integer as a varint ((n << 1) ^ (n >> 63)); "text": varint length,
// then the bytes as stored (no encoding applied: secrets and invalid UTF-8 kept byte for byte).
//   magic (8) | format version u32 | position i64 | server count varint | room count varint |
//   rooms per chunk varint (>= 1) | the byte size of each chunk of rooms, varint, one per
//     ceil(room count / rooms per chunk) chunks
//   servers, each: id zigzag | url, name, app_id, app_secret, api_key_hash text | member count
//     varint, members text... | flags u8 (1 allow_clone, 2 deleted, 4 has prototype_id) |
//     state u8 (0 enabled, 1 cordoned, 2 disabled) | prototype_id zigzag (only with flag 4) |
//     version zigzag
//   rooms in number order (number = 1 + index, not stored), in chunks of `rooms per chunk` (the
//     last one shorter) that fill the sizes above exactly, each room: uid, jitsi_name, name,
//     moderator text | start zigzag (Unix seconds) | duration_minutes zigzag | end - start
//     zigzag (modulo 2^64) | participant count varint, participants text... | server_id zigzag |
//     flags u8 (bit 0 deleted, bits 1-2 the lifecycle stage 0-3) | version zigzag
//   and nothing after the last chunk.
// No checksum of its own: the store's snapshot file carries a SHA-256 of the whole payload
// (adapters/sqlite), and every read here is bounds-checked, so a damaged payload is an error,
// never a crash. Snapshots hold secrets: keep them in the data directory only.
// `rooms_per_chunk`: other values for tests only (1 makes every room a chunk).
std::string encode_binary_snapshot(const core::State& state,
                                   std::size_t rooms_per_chunk = kBinarySnapshotRoomsPerChunk);

// Rebuilds a State equal (==) to the one encoded. Another magic, another version, a truncated or
// overlong payload, a value out of range and data core::State::restore refuses are all
// Errc::invalid_argument, naming what and where ("snapshot: rooms[17].name: truncated ...").
// Chunks of rooms decode on up to 4 threads (the caller's and as many more as there are other
// CPUs), which it joins before it returns; everything else runs on the caller's thread.
core::Result<core::State> decode_binary_snapshot(std::string_view bytes);

// Whether `bytes` starts like a binary snapshot (the magic), whatever its version.
bool is_binary_snapshot(std::string_view bytes);

// A snapshot as the store holds it, in either format: binary (the magic) or JSON (written before
// the binary format, still read once so that an upgrade starts from it; the next snapshot written
// is binary).
core::Result<core::State> decode_stored_snapshot(std::string_view bytes);

}  // namespace roombus::json
