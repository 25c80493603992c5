// Join tokens: random generation, SHA-256 hashing (EVP_Digest) and constant-time checking.
#include "crypto/join_token.h"

#include <array>
#include <cstdint>

#include <openssl/evp.h>

#include "crypto/base64url.h"
#include "crypto/random.h"
#include "crypto/secure.h"
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

std::string HashJoinToken(std::string_view token) {
  std::string hash(kJoinTokenHashBytes, '\0');
  unsigned int hash_bytes = 0;
  int ok = EVP_Digest(token.data(), token.size(), reinterpret_cast<unsigned char*>(hash.data()),
                      &hash_bytes, EVP_sha256(), nullptr);
  NDS_CHECK(ok == 1, "EVP_Digest(SHA-256) failed");
  NDS_CHECK(hash_bytes == kJoinTokenHashBytes, "SHA-256 gave {} bytes", hash_bytes);
  return hash;
}

bool JoinTokenMatches(std::string_view stored_hash, std::string_view token) {
  if (token.empty() || stored_hash.size() != kJoinTokenHashBytes) return false;
  return ConstantTimeEquals(HashJoinToken(token), stored_hash);
}

}  // namespace nds::crypto
