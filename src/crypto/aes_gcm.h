// AES-256-GCM authenticated encryption with associated data (NIST SP 800-38D) over OpenSSL's EVP
// interface: a 256-bit key, a 96-bit nonce and a 128-bit tag. Opening verifies the tag over the
// associated data and the whole ciphertext before any plaintext is handed back, so a tampered,
// truncated or mis-keyed message yields an error and never partial plaintext.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "util/status.h"

namespace nds::crypto {

inline constexpr size_t kAesGcmKeyBytes = 32;
inline constexpr size_t kAesGcmNonceBytes = 12;
inline constexpr size_t kAesGcmTagBytes = 16;
// What AesGcmSeal adds to the plaintext: the nonce in front, the tag behind.
inline constexpr size_t kAesGcmOverheadBytes = kAesGcmNonceBytes + kAesGcmTagBytes;
// SP 800-38D §5.2.1.1: at most 2^39 - 256 bits of plaintext per (key, nonce).
inline constexpr uint64_t kAesGcmPlaintextBytesMax = (uint64_t{1} << 36) - 32;

// Encrypts `plaintext` under `key` with a fresh random nonce and authenticates it together with
// `aad` (which is not encrypted and not included in the output). Returns
// prefix || nonce (12 bytes) || ciphertext (plaintext.size() bytes) || tag (16 bytes), where
// `prefix` is copied unchanged (a format header, say; it is authenticated only if it is in `aad`
// too). Building the whole message in one buffer saves copying a large ciphertext again.
// Errors: kInvalidArgument when key is not 32 bytes or plaintext exceeds kAesGcmPlaintextBytesMax;
// kUnavailable when OpenSSL fails (no random bytes, cipher missing from the provider).
// Thread-safe. Random 96-bit nonces are safe for up to 2^32 messages per key (SP 800-38D §8.3).
Result<std::string> AesGcmSeal(std::span<const uint8_t> key, std::string_view plaintext,
                               std::string_view aad, std::string_view prefix = {});

// Reverses AesGcmSeal: verifies and decrypts `sealed` (nonce || ciphertext || tag) with `aad`.
// Errors: kInvalidArgument when key is not 32 bytes; kCorruption when `sealed` is shorter than
// kAesGcmOverheadBytes or fails authentication (any changed bit of nonce, ciphertext, tag or aad,
// or a wrong key), in which case no plaintext is returned and the scratch buffer is wiped;
// kUnavailable when OpenSSL fails. Thread-safe.
Result<std::string> AesGcmOpen(std::span<const uint8_t> key, std::string_view sealed,
                               std::string_view aad);

// The deterministic core of AesGcmSeal with a caller-chosen 12-byte nonce: returns
// ciphertext || tag. For known-answer tests and callers that manage nonces themselves; a
// (key, nonce) pair must never encrypt two messages, or both lose confidentiality and integrity.
// Errors as AesGcmSeal, plus kInvalidArgument when nonce is not 12 bytes.
Result<std::string> AesGcmSealWithNonce(std::span<const uint8_t> key,
                                        std::span<const uint8_t> nonce, std::string_view plaintext,
                                        std::string_view aad);

// The deterministic core of AesGcmOpen: verifies and decrypts `ciphertext_and_tag` under
// (key, nonce). Errors as AesGcmOpen, plus kInvalidArgument when nonce is not 12 bytes.
Result<std::string> AesGcmOpenWithNonce(std::span<const uint8_t> key,
                                        std::span<const uint8_t> nonce,
                                        std::string_view ciphertext_and_tag, std::string_view aad);

}  // namespace nds::crypto
