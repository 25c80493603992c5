// Goal: join tokens are random, URL-safe and long enough; their hash is SHA-256; a check accepts
// exactly the token whose hash is stored. Method: FIPS 180-2 test vectors for the hash, decoding
// generated tokens with the strict base64url decoder, and edge cases for the check.
#include "crypto/join_token.h"

#include <set>

#include <gtest/gtest.h>

#include "crypto/base64url.h"
#include "crypto/test_hex.h"

namespace nds::crypto {
namespace {

TEST(JoinToken, GeneratedTokensAreUrlSafeAndCarry192RandomBits) {
  std::set<std::string> seen;
  for (int i = 0; i < 16; ++i) {
    std::string token = GenerateJoinToken();
    auto bytes = Base64UrlDecode(token);
    ASSERT_TRUE(bytes.ok()) << token;
    EXPECT_EQ(bytes->size(), kJoinTokenRandomBytes);
    EXPECT_EQ(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                      "0123456789-_"),
              std::string::npos);
    seen.insert(token);
  }
  EXPECT_EQ(seen.size(), 16u);  // a repeat has probability below 2^-180
}

TEST(JoinToken, HashIsSha256) {
  EXPECT_EQ(testing::ToHex(HashJoinToken("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(testing::ToHex(HashJoinToken("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(JoinToken, MatchesOnlyTheHashedToken) {
  std::string token = GenerateJoinToken();
  std::string hash = HashJoinToken(token);
  EXPECT_TRUE(JoinTokenMatches(hash, token));
  EXPECT_FALSE(JoinTokenMatches(hash, token + "x"));
  EXPECT_FALSE(JoinTokenMatches(hash, token.substr(1)));
  EXPECT_FALSE(JoinTokenMatches(hash, GenerateJoinToken()));
  EXPECT_FALSE(JoinTokenMatches(token, token));  // the token is not its own hash
}

TEST(JoinToken, EmptyTokenOrMissingHashNeverMatches) {
  EXPECT_FALSE(JoinTokenMatches(HashJoinToken(""), ""));
  EXPECT_FALSE(JoinTokenMatches("", "t"));
  EXPECT_FALSE(JoinTokenMatches(HashJoinToken("t").substr(0, 31), "t"));
  EXPECT_FALSE(JoinTokenMatches(HashJoinToken("t") + "x", "t"));
}

}  // namespace
}  // namespace nds::crypto
