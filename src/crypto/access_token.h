// Access tokens for the client API (docs/security.md): the text "<name>.<secret>", where the
// secret is base64url of kAccessTokenRandomBytes random bytes. The name says which token record
// (store/auth_state.h) to check it against, so a check is one lookup; only the SHA-256 of the whole
// text is stored, and comparing hashes is constant-time. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace nds::crypto {

inline constexpr size_t kAccessTokenRandomBytes = 32;  // 256 bits
// Secrets shorter than 256 bits of base64url (43 characters) are refused; longer ones (an
// operator's own root token) are accepted up to this length.
inline constexpr size_t kAccessSecretCharsMin = 43;
inline constexpr size_t kAccessSecretCharsMax = 256;

// A new token for `name`. Crashes when the system's random generator cannot produce output.
std::string GenerateAccessToken(std::string_view name);

// The name part of a well-formed token: "<name>.<secret>" split at the last '.', with a
// non-empty name and a base64url secret of kAccessSecretCharsMin..Max characters. std::nullopt
// otherwise. The name itself is not validated here (store::ValidateTokenName does).
std::optional<std::string_view> AccessTokenName(std::string_view token);

// SHA-256 of the whole token text (32 bytes).
std::string HashAccessToken(std::string_view token);

// True when `token` hashes to `stored_hash`, compared in constant time.
bool AccessTokenMatches(std::string_view stored_hash, std::string_view token);

}  // namespace nds::crypto
