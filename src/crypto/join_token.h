// The cluster's join token: a shared secret that a new node presents (Authorization: Bearer) to
// POST /cluster/members. The bootstrap node makes or takes the token and stores only its SHA-256
// hash in the replicated state (store::kJoinTokenHashKey, docs/formats/store.md), so that the
// log, snapshots and data directories never hold the token itself. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace nds::crypto {

inline constexpr size_t kJoinTokenRandomBytes = 24;  // 192 bits
inline constexpr size_t kJoinTokenHashBytes = 32;    // SHA-256

// A new random token: base64url (URL- and header-safe) of kJoinTokenRandomBytes random bytes,
// 32 characters. Crashes when the system's random generator cannot produce output: a cluster must
// never start with a guessable token.
std::string GenerateJoinToken();

// The SHA-256 of `token`: kJoinTokenHashBytes raw bytes. Crashes if OpenSSL lacks SHA-256.
std::string HashJoinToken(std::string_view token);

// True when `token` hashes to `stored_hash`, compared in constant time. False for an empty token
// or a stored hash that is not kJoinTokenHashBytes long (no token has been set).
bool JoinTokenMatches(std::string_view stored_hash, std::string_view token);

}  // namespace nds::crypto
