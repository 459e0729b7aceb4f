// Snapshot files: encoding with a SHA-256 checksum, crash-safe writing, validation on load.
#include "snapshot_file.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "posix_file.hpp"
#include "roombus/posix/huge_pages.hpp"

namespace roombus::sqlite::detail {

namespace {

constexpr std::string_view kMagic = "RBSNAPSH";
constexpr std::string_view kPrefix = "snapshot-";
constexpr std::string_view kSuffix = ".bin";
constexpr std::string_view kTempSuffix = ".tmp";
constexpr std::size_t kDigits = 20;
constexpr std::size_t kShaSize = 32;

using Sha256 = std::array<unsigned char, kShaSize>;

Sha256 sha256(std::string_view bytes) {
  Sha256 digest{};
  unsigned int size = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1 ||
      size != kShaSize) {
    throw std::runtime_error("SHA-256 computation failed");
  }
  return digest;
}

void put_le(std::string& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) {
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xffU));
  }
}

std::uint64_t get_le(std::string_view in, std::size_t offset, int bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) {
    const auto byte = static_cast<unsigned char>(in[offset + static_cast<std::size_t>(i)]);
    value |= static_cast<std::uint64_t>(byte) << (8 * i);
  }
  return value;
}

std::string encode_header(std::int64_t position, std::string_view payload) {
  std::string header;
  header.reserve(kSnapshotHeaderSize);
  header.append(kMagic);
  put_le(header, kSnapshotFormatVersion, 4);
  put_le(header, 0, 4);
  put_le(header, static_cast<std::uint64_t>(position), 8);
  put_le(header, payload.size(), 8);
  const Sha256 digest = sha256(payload);
  header.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  return header;
}

}  // namespace

std::string snapshot_file_name(std::int64_t position) {
  char digits[kDigits + 1];
  std::snprintf(digits, sizeof digits, "%020lld", static_cast<long long>(position));
  return std::string(kPrefix) + digits + std::string(kSuffix);
}

std::optional<std::int64_t> parse_snapshot_file_name(std::string_view name) {
  if (name.size() != kPrefix.size() + kDigits + kSuffix.size() || !name.starts_with(kPrefix) ||
      !name.ends_with(kSuffix)) {
    return std::nullopt;
  }
  const std::string_view digits = name.substr(kPrefix.size(), kDigits);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  std::int64_t position = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), position);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return position;
}

std::vector<SnapshotFile> list_snapshot_files(const std::filesystem::path& dir) {
  std::vector<SnapshotFile> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (auto position = parse_snapshot_file_name(entry.path().filename().native())) {
      files.push_back({*position, entry.path()});
    }
  }
  std::sort(files.begin(), files.end(),
            [](const SnapshotFile& a, const SnapshotFile& b) { return a.position > b.position; });
  return files;
}

namespace {

std::filesystem::path temp_path(const std::filesystem::path& dir, std::int64_t position) {
  std::filesystem::path temp = dir / snapshot_file_name(position);
  temp += kTempSuffix;
  return temp;
}

}  // namespace

void write_snapshot_temp_file(const std::filesystem::path& dir, std::int64_t position,
                              std::string_view payload) {
  const std::filesystem::path temp = temp_path(dir, position);
  try {
    FileDescriptor fd = open_file(temp, O_WRONLY | O_CREAT | O_TRUNC);
    write_all(fd, encode_header(position, payload), temp);
    write_all(fd, payload, temp);
    sync_file(fd, temp);
    fd.close();
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    throw;
  }
}

void publish_snapshot_temp_file(const std::filesystem::path& dir, std::int64_t position) {
  const std::filesystem::path temp = temp_path(dir, position);
  const std::filesystem::path target = dir / snapshot_file_name(position);
  if (::rename(temp.c_str(), target.c_str()) != 0) {
    const int error = errno;
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    throw_errno(error, "cannot rename to", target);
  }
  sync_directory(dir);
}

void remove_snapshot_temp_file(const std::filesystem::path& dir, std::int64_t position) {
  std::error_code ignored;
  std::filesystem::remove(temp_path(dir, position), ignored);
}

void write_snapshot_file(const std::filesystem::path& dir, std::int64_t position,
                         std::string_view payload) {
  write_snapshot_temp_file(dir, position, payload);
  publish_snapshot_temp_file(dir, position);
}

namespace {

// Reads exactly `size` bytes at the file's current offset into `out`; false if the file ends
// first (it shrank since it was measured).
bool read_exactly(const FileDescriptor& fd, char* out, std::size_t size,
                  const std::filesystem::path& path) {
  while (size > 0) {
    const ssize_t n = ::read(fd.get(), out, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("cannot read ") + path.string() + ": " +
                               std::strerror(errno));
    }
    if (n == 0) return false;
    out += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

std::string read_snapshot_file(const SnapshotFile& file) {
  FileDescriptor fd;
  try {
    fd = open_file(file.path, O_RDONLY);
  } catch (const std::system_error& e) {
    throw std::runtime_error(e.what());
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    throw std::runtime_error("cannot stat " + file.path.string() + ": " + std::strerror(errno));
  }
  const auto file_size = static_cast<std::uint64_t>(st.st_size);
  if (file_size < kSnapshotHeaderSize) {
    throw std::runtime_error("truncated: " + std::to_string(file_size) +
                             " bytes, shorter than the header");
  }
  char header_bytes[kSnapshotHeaderSize];
  if (!read_exactly(fd, header_bytes, kSnapshotHeaderSize, file.path)) {
    throw std::runtime_error("truncated while it was read");
  }
  const std::string_view header(header_bytes, kSnapshotHeaderSize);
  if (header.substr(0, kMagic.size()) != kMagic) throw std::runtime_error("not a snapshot file");
  if (const auto version = get_le(header, 8, 4); version != kSnapshotFormatVersion) {
    throw std::runtime_error("unsupported format version " + std::to_string(version));
  }
  if (const auto position = static_cast<std::int64_t>(get_le(header, 16, 8));
      position != file.position) {
    throw std::runtime_error("header says position " + std::to_string(position) +
                             ", the file name " + std::to_string(file.position));
  }
  const std::uint64_t length = get_le(header, 24, 8);
  if (length != file_size - kSnapshotHeaderSize) {
    throw std::runtime_error("truncated or padded: header says " + std::to_string(length) +
                             " payload bytes, the file has " +
                             std::to_string(file_size - kSnapshotHeaderSize));
  }
  // The payload straight into its string, sized once: a restart reads tens of MB here, and
  // reading it whole and then cutting the header off copied it three times.
  std::string payload;
  payload.reserve(static_cast<std::size_t>(length));
  posix::advise_huge_pages(payload.data(), payload.capacity());
  payload.resize(static_cast<std::size_t>(length));
  if (!read_exactly(fd, payload.data(), payload.size(), file.path)) {
    throw std::runtime_error("truncated while it was read");
  }
  const Sha256 digest = sha256(payload);
  if (!std::equal(digest.begin(), digest.end(), header.begin() + 32,
                  [](unsigned char a, char b) { return a == static_cast<unsigned char>(b); })) {
    throw std::runtime_error("SHA-256 checksum mismatch");
  }
  return payload;
}

void remove_snapshot_temp_files(const std::filesystem::path& dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().native();
    if (name.starts_with(kPrefix) && name.ends_with(kTempSuffix)) {
      std::error_code ignored;
      std::filesystem::remove(entry.path(), ignored);
    }
  }
}

}  // namespace roombus::sqlite::detail
