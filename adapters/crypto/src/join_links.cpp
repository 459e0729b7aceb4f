// JoinLinkCipher and join keys on OpenSSL 3: HKDF subkeys, AES-128 on one block, AES-256-GCM.
#include "roombus/crypto/join_links.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <cstring>
#include <stdexcept>
#include <vector>

#include "encoding.hpp"

namespace roombus::crypto {
namespace {

constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;
// Bound into every sealed payload: a token of some other (future) format never opens as this one.
constexpr std::string_view kPersonalAad = "roombus personal join link v1";

// Fetched once: the implicit fetch behind EVP_aes_*() takes a lock on every init.
const EVP_CIPHER* fetch_cipher(const char* name) {
  EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, name, nullptr);
  if (cipher == nullptr) throw std::runtime_error(std::string("OpenSSL has no ") + name);
  return cipher;  // lives as long as the process
}

const EVP_CIPHER* aes128_ecb() {
  static const EVP_CIPHER* const cipher = fetch_cipher("AES-128-ECB");
  return cipher;
}

const EVP_CIPHER* aes256_gcm() {
  static const EVP_CIPHER* const cipher = fetch_cipher("AES-256-GCM");
  return cipher;
}

// HKDF-SHA256 (RFC 5869) of the join key; `info` names the use.
void derive(const JoinKey& key, std::string_view info, std::span<unsigned char> out) {
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  EVP_KDF_CTX* ctx = kdf != nullptr ? EVP_KDF_CTX_new(kdf) : nullptr;
  EVP_KDF_free(kdf);
  if (ctx == nullptr) throw std::runtime_error("OpenSSL has no HKDF");
  char digest[] = "SHA256";
  std::vector<unsigned char> info_bytes(info.begin(), info.end());
  std::array<unsigned char, kJoinKeyBytes> secret = key;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, secret.data(), secret.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info_bytes.data(), info_bytes.size()),
      OSSL_PARAM_construct_end()};
  int ok = EVP_KDF_derive(ctx, out.data(), out.size(), params);
  EVP_KDF_CTX_free(ctx);
  OPENSSL_cleanse(secret.data(), secret.size());
  if (ok != 1) throw std::runtime_error("HKDF derivation failed");
}

std::optional<std::array<unsigned char, 16>> uid_bytes(std::string_view uid) {
  if (uid.size() != 32) return std::nullopt;
  std::array<unsigned char, 16> out{};
  for (std::size_t i = 0; i < 32; ++i) {
    char c = uid[i];
    int v = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (v < 0) return std::nullopt;
    out[i / 2] = static_cast<unsigned char>(out[i / 2] << 4 | v);
  }
  return out;
}

// AES-128 on one 16-byte block, in the direction `ctx` was set up for. Re-initialised with its
// key kept, so each call is an independent block.
std::array<unsigned char, 16> one_block(EVP_CIPHER_CTX* ctx, const unsigned char* in) {
  std::array<unsigned char, 16> out{};
  int length = 0;
  if (EVP_CipherInit_ex2(ctx, nullptr, nullptr, nullptr, -1, nullptr) != 1 ||
      EVP_CipherUpdate(ctx, out.data(), &length, in, 16) != 1 || length != 16) {
    throw std::runtime_error("AES-128 on one block failed");
  }
  return out;
}

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

struct JoinLinkCipher::Contexts {
  EVP_CIPHER_CTX* encrypt = EVP_CIPHER_CTX_new();
  EVP_CIPHER_CTX* decrypt = EVP_CIPHER_CTX_new();
  EVP_CIPHER_CTX* gcm = EVP_CIPHER_CTX_new();
  ~Contexts() {
    EVP_CIPHER_CTX_free(encrypt);
    EVP_CIPHER_CTX_free(decrypt);
    EVP_CIPHER_CTX_free(gcm);
  }
};

std::string generate_join_key() {
  JoinKey key{};
  if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed: no cryptographically secure random bytes");
  }
  std::string text = detail::to_base64url(key);
  OPENSSL_cleanse(key.data(), key.size());
  return text;
}

std::optional<JoinKey> parse_join_key(std::string_view text) {
  auto decoded = detail::from_base64url(text);
  if (!decoded || decoded->size() != kJoinKeyBytes) return std::nullopt;
  JoinKey key{};
  std::memcpy(key.data(), decoded->data(), key.size());
  OPENSSL_cleanse(decoded->data(), decoded->size());
  return key;
}

JoinLinkCipher::JoinLinkCipher(const JoinKey& key) : contexts_(std::make_unique<Contexts>()) {
  if (contexts_->encrypt == nullptr || contexts_->decrypt == nullptr || contexts_->gcm == nullptr) {
    throw std::runtime_error("EVP_CIPHER_CTX_new failed");
  }
  std::array<unsigned char, 16> shared_key{};
  derive(key, "roombus shared join link v1 (AES-128 uid permutation)", shared_key);
  derive(key, "roombus personal join link v1 (AES-256-GCM)", personal_key_);
  bool ok = EVP_EncryptInit_ex2(contexts_->encrypt, aes128_ecb(), shared_key.data(), nullptr,
                                nullptr) == 1 &&
            EVP_DecryptInit_ex2(contexts_->decrypt, aes128_ecb(), shared_key.data(), nullptr,
                                nullptr) == 1 &&
            EVP_CIPHER_CTX_set_padding(contexts_->encrypt, 0) == 1 &&
            EVP_CIPHER_CTX_set_padding(contexts_->decrypt, 0) == 1;
  OPENSSL_cleanse(shared_key.data(), shared_key.size());
  if (!ok) throw std::runtime_error("AES-128 key set-up failed");
}

JoinLinkCipher::~JoinLinkCipher() { OPENSSL_cleanse(personal_key_.data(), personal_key_.size()); }

std::string JoinLinkCipher::seal_uid(std::string_view uid) const {
  auto in = uid_bytes(uid);
  if (!in) return "";
  return detail::to_base64url(one_block(contexts_->encrypt, in->data()));
}

std::optional<std::string> JoinLinkCipher::open_uid(std::string_view token) const {
  if (token.size() != kUidTokenLength) return std::nullopt;
  auto in = detail::from_base64url(token);
  if (!in || in->size() != 16) return std::nullopt;
  return detail::to_hex(one_block(contexts_->decrypt, in->data()));
}

std::string JoinLinkCipher::seal(std::string_view payload) const {
  std::vector<unsigned char> out(kNonceBytes + payload.size() + kTagBytes);
  if (RAND_bytes(out.data(), static_cast<int>(kNonceBytes)) != 1) {
    throw std::runtime_error("RAND_bytes failed: no nonce for a personal link");
  }
  EVP_CIPHER_CTX* ctx = contexts_->gcm;
  int length = 0;
  int unused = 0;
  bool ok =
      EVP_EncryptInit_ex2(ctx, aes256_gcm(), personal_key_.data(), out.data(), nullptr) == 1 &&
      EVP_EncryptUpdate(ctx, nullptr, &unused, bytes(kPersonalAad),
                        static_cast<int>(kPersonalAad.size())) == 1 &&
      EVP_EncryptUpdate(ctx, out.data() + kNonceBytes, &length, bytes(payload),
                        static_cast<int>(payload.size())) == 1 &&
      EVP_EncryptFinal_ex(ctx, out.data() + kNonceBytes + length, &unused) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes),
                          out.data() + kNonceBytes + payload.size()) == 1;
  if (!ok) throw std::runtime_error("AES-256-GCM encryption failed");
  return detail::to_base64url(out);
}

std::optional<std::string> JoinLinkCipher::open(std::string_view token) const {
  // Anything longer than a URL could carry is not ours; no need to decode it.
  if (token.size() <= kUidTokenLength || token.size() > 4096) return std::nullopt;
  auto in = detail::from_base64url(token);
  if (!in || in->size() < kNonceBytes + kTagBytes) return std::nullopt;
  const std::size_t text_bytes = in->size() - kNonceBytes - kTagBytes;
  std::string payload(text_bytes, '\0');
  EVP_CIPHER_CTX* ctx = contexts_->gcm;
  int length = 0;
  int unused = 0;
  unsigned char* tag = in->data() + kNonceBytes + text_bytes;
  bool ok =
      EVP_DecryptInit_ex2(ctx, aes256_gcm(), personal_key_.data(), in->data(), nullptr) == 1 &&
      EVP_DecryptUpdate(ctx, nullptr, &unused, bytes(kPersonalAad),
                        static_cast<int>(kPersonalAad.size())) == 1 &&
      EVP_DecryptUpdate(ctx, reinterpret_cast<unsigned char*>(payload.data()), &length,
                        in->data() + kNonceBytes, static_cast<int>(text_bytes)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes), tag) == 1;
  // The tag check happens here: a failure means the token was not sealed with this key as is.
  if (!ok || EVP_DecryptFinal_ex(ctx, nullptr, &unused) != 1) return std::nullopt;
  return payload;
}

}  // namespace roombus::crypto
