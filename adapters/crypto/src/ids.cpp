// OpenSslIdSource and random_token: RAND_bytes plus the text encodings of identifiers.
#include "roombus/crypto/ids.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <climits>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "encoding.hpp"

namespace roombus::crypto {
namespace detail {

std::string to_hex(std::span<const unsigned char> bytes) {
  // OpenSSL's hex helpers print upper case with separators; the uid format is plain lower case.
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '\0');
  char* to = out.data();
  for (const unsigned char b : bytes) {  // indexing, not push_back: this runs on every request
    *to++ = kDigits[b >> 4];
    *to++ = kDigits[b & 0x0f];
  }
  return out;
}

std::string to_base32_lower(std::span<const unsigned char> bytes) {
  // OpenSSL has no base32. Lower case because Jitsi room names end up in URLs and XMPP JIDs,
  // where case is folded.
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  std::string out;
  out.reserve((bytes.size() * 8 + 4) / 5);
  unsigned buffer = 0;
  int bits = 0;
  for (const unsigned char b : bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push_back(kAlphabet[(buffer >> bits) & 0x1f]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (5 - bits)) & 0x1f]);
  return out;
}

std::string to_base64url(std::span<const unsigned char> bytes) {
  std::vector<unsigned char> encoded(4 * ((bytes.size() + 2) / 3) + 1);
  const int length = EVP_EncodeBlock(encoded.data(), bytes.data(), static_cast<int>(bytes.size()));
  std::string out(encoded.begin(), encoded.begin() + length);
  // EVP_EncodeBlock writes the standard alphabet with padding; map to RFC 4648 section 5.
  out.erase(out.find_last_not_of('=') + 1);
  std::replace(out.begin(), out.end(), '+', '-');
  std::replace(out.begin(), out.end(), '/', '_');
  return out;
}

std::optional<std::vector<unsigned char>> from_base64url(std::string_view text) {
  if (text.size() % 4 == 1 || text.size() > static_cast<std::size_t>(INT_MAX) / 2) {
    return std::nullopt;
  }
  // EVP_DecodeBlock skips surrounding whitespace; the alphabet is checked first so it never does.
  std::string standard(text);
  for (char& c : standard) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return std::nullopt;
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  const std::size_t padding = (4 - standard.size() % 4) % 4;
  standard.append(padding, '=');
  std::vector<unsigned char> out(standard.size() / 4 * 3);
  const int length =
      EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(standard.data()),
                      static_cast<int>(standard.size()));
  if (length < 0 || static_cast<std::size_t>(length) != out.size()) return std::nullopt;
  out.resize(out.size() - padding);  // EVP_DecodeBlock counts the padding as zero bytes
  if (to_base64url(out) != text) return std::nullopt;
  return out;
}

}  // namespace detail

namespace {

void fill_random(std::span<unsigned char> out) {
  if (out.size() > static_cast<std::size_t>(INT_MAX) ||
      RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed: no cryptographically secure random bytes");
  }
}

}  // namespace

void OpenSslIdSource::take(std::span<unsigned char> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    if (next_ == pool_.size()) {
      fill_random(pool_);
      next_ = 0;
    }
    std::size_t n = std::min(out.size() - done, pool_.size() - next_);
    std::copy_n(pool_.begin() + static_cast<std::ptrdiff_t>(next_), n,
                out.begin() + static_cast<std::ptrdiff_t>(done));
    OPENSSL_cleanse(pool_.data() + next_, n);
    next_ += n;
    done += n;
  }
}

std::string OpenSslIdSource::room_uid() {
  std::array<unsigned char, 16> bytes{};
  take(bytes);
  return detail::to_hex(bytes);
}

std::string OpenSslIdSource::jitsi_name() {
  std::array<unsigned char, 16> bytes{};
  take(bytes);
  return detail::to_base32_lower(bytes);
}

std::string OpenSslIdSource::api_key() { return random_token(32); }

std::string random_token(std::size_t bytes) {
  std::vector<unsigned char> buffer(bytes);
  fill_random(buffer);
  return detail::to_base64url(buffer);
}

}  // namespace roombus::crypto
