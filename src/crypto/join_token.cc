// Join tokens: random generation, SHA-256 hashing and constant-time checking.
#include "crypto/join_token.h"

#include <array>
#include <cstdint>

#include "crypto/base64url.h"
#include "crypto/random.h"
#include "crypto/secure.h"
#include "crypto/sha256.h"
#include "util/check.h"

namespace nds::crypto {

std::string GenerateJoinToken() {
  std::array<uint8_t, kJoinTokenRandomBytes> bytes{};
  Status s = RandomBytes(bytes);
  NDS_CHECK(s.ok(), "no random bytes for a join token: {}", s.message());
  std::string token = Base64UrlEncode(std::span<const uint8_t>(bytes));
  SecureWipe(bytes);
  return token;
}

std::string HashJoinToken(std::string_view token) { return Sha256(token); }

bool JoinTokenMatches(std::string_view stored_hash, std::string_view token) {
  if (token.empty() || stored_hash.size() != kJoinTokenHashBytes) return false;
  return ConstantTimeEquals(HashJoinToken(token), stored_hash);
}

}  // namespace nds::crypto
