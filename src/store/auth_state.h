// The replicated state of client authentication (docs/formats/store.md "Authentication"): whether
// the cluster requires bearer tokens, and one record per access token (its role, its key prefix
// and the SHA-256 of the token, never the token). Both live in the system namespace
// (keyspace.h), are written only through kPutSystem/kDeleteSystem commands, and are invisible to
// every user route. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "store/command.h"
#include "util/status.h"

namespace nds::store {

// System key names. kAuthModeKey holds "on" in a cluster made with --auth; it is written by the
// first leader before its own member record (so a node that has applied any member record has
// applied the mode too), and no command removes it.
inline constexpr std::string_view kAuthModeKey = "auth_mode";
inline constexpr std::string_view kAuthModeOn = "on";
inline constexpr std::string_view kTokenKeyPrefix = "auth/token/";

inline constexpr size_t kTokenNameBytesMax = 64;
inline constexpr size_t kTokenPrefixBytesMax = 1024;  // a key prefix: at most a key
inline constexpr size_t kTokenHashBytes = 32;         // SHA-256

// Ordered: each role may do everything the one before it may.
enum class TokenRole : uint8_t { kRead = 1, kWrite = 2, kAdmin = 3 };

std::string_view TokenRoleName(TokenRole role);
// "read", "write" or "admin"; std::nullopt for anything else.
std::optional<TokenRole> ParseTokenRole(std::string_view text);

struct TokenRecord {
  TokenRole role = TokenRole::kRead;
  std::string prefix;  // every key the token touches starts with it; empty: every key
  std::string hash;    // kTokenHashBytes: SHA-256 of the whole token text

  bool operator==(const TokenRecord&) const = default;
};

// 1 to kTokenNameBytesMax of [A-Za-z0-9_-]. kInvalidArgument saying which rule failed.
Status ValidateTokenName(std::string_view name);
// At most kTokenPrefixBytesMax bytes; an admin token has none (it may /clear every key).
Status ValidateTokenScope(TokenRole role, std::string_view prefix);

// "auth/token/" + name.
std::string TokenKeyName(std::string_view name);
std::string EncodeTokenRecord(const TokenRecord& record);
// The digest an authorized write carries (Command::authorized_by): SHA-256 of the record's stored
// bytes, kAuthorizedDigestBytes long. A revoked and re-created token has another hash, so another
// record and digest.
std::string TokenRecordDigest(std::string_view stored_record);
// kCorruption for a record of an unknown version, role or hash length, or with trailing bytes.
Result<TokenRecord> DecodeTokenRecord(std::string_view bytes);

// The commands a new cluster made with --auth records first: the mode, then the root token
// (admin, no prefix) under the name "root". Precondition: root_hash is kTokenHashBytes long.
inline constexpr std::string_view kRootTokenName = "root";
// The first of them alone: put_system(kAuthModeKey, "on"). Recording it twice changes nothing.
Command AuthModeCommand();
std::vector<Command> AuthSeedCommands(std::string root_hash);

// Every token record of `view`, in name order. Errors reading or decoding are returned.
Result<std::vector<std::pair<std::string, TokenRecord>>> ReadTokens(const engine::View& view);

}  // namespace nds::store
