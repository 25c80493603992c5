// HKDF-SHA256 (RFC 5869), extract then expand, over OpenSSL's EVP_KDF "HKDF". Used to derive
// independent subkeys from one master key by giving each use its own `info` label.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "crypto/secure.h"
#include "util/status.h"

namespace nds::crypto {

inline constexpr size_t kSha256Bytes = 32;
// RFC 5869 §2.3: L <= 255 * HashLen.
inline constexpr size_t kHkdfSha256OutputBytesMax = 255 * kSha256Bytes;

// Derives `output_bytes` bytes of key material from input key material `ikm`, an optional `salt`
// (empty means HashLen zero bytes, as the RFC says) and a context label `info`.
// Errors: kInvalidArgument when output_bytes is 0 or exceeds kHkdfSha256OutputBytesMax;
// kUnavailable when OpenSSL fails. Thread-safe. The result wipes itself when dropped.
Result<SecretBytes> HkdfSha256(std::span<const uint8_t> ikm, std::span<const uint8_t> salt,
                               std::string_view info, size_t output_bytes);

}  // namespace nds::crypto
