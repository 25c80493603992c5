// The secrets scheme of docs/api.md "Secrets" (described in docs/secrets.md): each stored secret
// gets a fresh random 256-bit key that the cluster hands back once and never keeps. From that key,
// HKDF-SHA256 derives two independent subkeys:
//   enc subkey = HKDF(key, info "nds secret enc v1")  -> AES-256-GCM key for the plaintext
//   loc subkey = HKDF(key, info "nds secret loc v1")  -> HMAC-SHA256 key for the location
//   location   = HMAC-SHA256(loc subkey, id)           (32 raw bytes, the storage key)
//   blob       = 0x01 || nonce (12) || AES-256-GCM ciphertext || tag (16),
//                with associated data "nds-secret-v1" || id
// The cluster stores only (location, blob). Without the key, a data dump reveals neither the id
// (nor any plain hash of it) nor the plaintext, only sizes and counts. Sealing the same id twice
// gives two unrelated keys, locations and blobs; each key opens what was sealed with it.
// All functions are thread-safe and CPU-bound (run them off the io threads, STYLE.md §7).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/aes_gcm.h"
#include "util/status.h"

namespace nds::crypto {

// The first byte of every blob; OpenSecret refuses any other.
inline constexpr uint8_t kSecretFormatVersion1 = 1;
inline constexpr size_t kSecretKeyBytes = 32;
inline constexpr size_t kSecretLocationBytes = 32;
// A blob is this much longer than its plaintext: version byte, nonce and tag.
inline constexpr size_t kSecretBlobOverheadBytes = 1 + kAesGcmOverheadBytes;
// The key as base64url: 43 characters unpadded, 44 with its one '='.
inline constexpr size_t kSecretKeyBase64UrlChars = (kSecretKeyBytes * 4 + 2) / 3;
static_assert(kSecretKeyBase64UrlChars == 43);

// The labels that keep the derived keys and the ciphertext of each use apart (domain separation).
inline constexpr std::string_view kSecretEncInfo = "nds secret enc v1";
inline constexpr std::string_view kSecretLocInfo = "nds secret loc v1";
inline constexpr std::string_view kSecretAadPrefix = "nds-secret-v1";

// What SealSecret produces. The cluster stores `blob` under `location`; `key_b64url` goes back to
// the client once and must never be logged or stored. Plain value type.
struct SealedSecret {
  std::string location;    // kSecretLocationBytes raw bytes: where the ciphertext lives
  std::string blob;        // version || nonce || ciphertext || tag
  std::string key_b64url;  // the 256-bit key, base64url without padding (43 characters)
};

// Seals `plaintext` (any bytes, up to kAesGcmPlaintextBytesMax) for `id` (any bytes) under a
// fresh random key. The raw key and the subkeys are wiped before returning; the caller should
// SecureWipe(sealed.key_b64url) once the key is sent.
// Errors: kInvalidArgument when the plaintext is too large; kUnavailable when OpenSSL fails (no
// random bytes). Never returns a partly filled SealedSecret.
Result<SealedSecret> SealSecret(std::string_view id, std::string_view plaintext);

// Returns the location (kSecretLocationBytes raw bytes) at which the secret sealed for `id` with
// `key_b64url` lives. Deterministic: the same (id, key) always gives the same location.
// Errors: kInvalidArgument when the key is not base64url (padded or not) or does not decode to
// exactly 32 bytes; kUnavailable when OpenSSL fails.
Result<std::string> DeriveSecretLocation(std::string_view id, std::string_view key_b64url);

// Verifies and decrypts `blob`, which was stored at DeriveSecretLocation(id, key_b64url).
// Errors: kInvalidArgument for a malformed key (as DeriveSecretLocation); kCorruption when the
// blob is shorter than kSecretBlobOverheadBytes or starts with an unknown format version;
// kNotFound when authentication fails, which is what a wrong key, another id's blob, or any change
// to the blob yields; its message is fixed and says nothing about the key or the id, so a wrong key
// looks exactly like an unknown id. No plaintext is ever returned with an error.
Result<std::string> OpenSecret(std::string_view id, std::string_view key_b64url,
                               std::string_view blob);

}  // namespace nds::crypto
