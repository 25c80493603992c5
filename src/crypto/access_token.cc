// Access token generation, parsing and checking. Hashing is the join token's SHA-256: both are
// high-entropy random secrets, for which a fast unsalted hash is enough (nothing to brute-force).
#include "crypto/access_token.h"

#include <array>
#include <cstdint>

#include "crypto/base64url.h"
#include "crypto/join_token.h"
#include "crypto/random.h"
#include "crypto/secure.h"
#include "util/check.h"

namespace nds::crypto {
namespace {

bool IsBase64UrlChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

}  // namespace

std::string GenerateAccessToken(std::string_view name) {
  std::array<uint8_t, kAccessTokenRandomBytes> bytes{};
  Status s = RandomBytes(bytes);
  NDS_CHECK(s.ok(), "no random bytes for an access token: {}", s.message());
  std::string token(name);
  token.push_back('.');
  token += Base64UrlEncode(std::span<const uint8_t>(bytes));
  SecureWipe(bytes);
  return token;
}

std::optional<std::string_view> AccessTokenName(std::string_view token) {
  size_t dot = token.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return std::nullopt;
  std::string_view secret = token.substr(dot + 1);
  if (secret.size() < kAccessSecretCharsMin || secret.size() > kAccessSecretCharsMax) {
    return std::nullopt;
  }
  for (char c : secret) {
    if (!IsBase64UrlChar(c)) return std::nullopt;
  }
  return token.substr(0, dot);
}

std::string HashAccessToken(std::string_view token) { return HashJoinToken(token); }

bool AccessTokenMatches(std::string_view stored_hash, std::string_view token) {
  return JoinTokenMatches(stored_hash, token);
}

}  // namespace nds::crypto
