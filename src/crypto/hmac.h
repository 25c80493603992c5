// HMAC-SHA256 (RFC 2104) over OpenSSL's EVP_MAC "HMAC": a keyed pseudo-random function, used to
// turn an id into a storage location that only holders of the key can compute.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "util/status.h"

namespace nds::crypto {

inline constexpr size_t kHmacSha256Bytes = 32;

// Returns the 32-byte HMAC-SHA256 of `message` under `key` (any length, empty included).
// Errors: kUnavailable when OpenSSL fails. Thread-safe.
Result<std::string> HmacSha256(std::span<const uint8_t> key, std::string_view message);

// True when `mac` is the HMAC-SHA256 of `message` under `key`, compared in constant time.
// Errors: kUnavailable when OpenSSL fails. Thread-safe.
Result<bool> HmacSha256Verify(std::span<const uint8_t> key, std::string_view message,
                              std::string_view mac);

}  // namespace nds::crypto
