// Snapshot file format (header + SHA-256-checked payload), atomic writing and validated reading.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roombus::sqlite::detail {

// Layout, little-endian: magic "RBSNAPSH" (8) | format version u32 | reserved u32 (0) |
// position i64 | payload length u64 | SHA-256 of the payload (32) | payload.
inline constexpr std::size_t kSnapshotHeaderSize = 64;
inline constexpr std::uint32_t kSnapshotFormatVersion = 1;

// "snapshot-<position as 20 digits>.bin": names sort like positions.
std::string snapshot_file_name(std::int64_t position);
std::optional<std::int64_t> parse_snapshot_file_name(std::string_view name);

struct SnapshotFile {
  std::int64_t position;
  std::filesystem::path path;
};
// Snapshot files in `dir`, newest (highest position) first. Throws std::system_error.
std::vector<SnapshotFile> list_snapshot_files(const std::filesystem::path& dir);

// Writes the file durably and atomically: temp file, fsync, rename, fsync of `dir`.
// Throws std::system_error (errno) naming the file.
void write_snapshot_file(const std::filesystem::path& dir, std::int64_t position,
                         std::string_view payload);
// The two halves of write_snapshot_file(), for a temp file written by another process: the temp
// file with its header, fsynced (removed again if that fails); and its rename into place with the
// fsync of `dir` (the temp file removed if the rename fails). Both throw std::system_error.
void write_snapshot_temp_file(const std::filesystem::path& dir, std::int64_t position,
                              std::string_view payload);
void publish_snapshot_temp_file(const std::filesystem::path& dir, std::int64_t position);
// Removes the temp file of `position`, if any. Best effort.
void remove_snapshot_temp_file(const std::filesystem::path& dir, std::int64_t position);

// Reads and validates one file and returns its payload. Throws std::runtime_error saying what is
// wrong with it (unreadable, truncated, bad magic or version, position mismatch, checksum).
std::string read_snapshot_file(const SnapshotFile& file);

// Removes temp files a crash left behind. Best effort.
void remove_snapshot_temp_files(const std::filesystem::path& dir);

}  // namespace roombus::sqlite::detail
