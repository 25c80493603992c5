// SHA-256 over OpenSSL's one-shot EVP_Digest. Pure function; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace nds::crypto {

inline constexpr size_t kSha256DigestBytes = 32;

// The SHA-256 of `bytes`: kSha256DigestBytes raw bytes. Crashes if OpenSSL lacks SHA-256.
std::string Sha256(std::string_view bytes);

}  // namespace nds::crypto
