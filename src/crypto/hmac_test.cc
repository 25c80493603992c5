// Goal: HMAC-SHA256 matches RFC 4231 and handles an empty key. Method: the RFC's test cases 1-4,
// 6 and 7 (case 5 tests truncation, which we do not offer), plus the well-known value for an empty
// key and message, and the constant-time verifier on a right and a wrong MAC.
#include "crypto/hmac.h"

#include <string>

#include <gtest/gtest.h>

#include "crypto/secure.h"
#include "crypto/test_hex.h"

namespace nds::crypto {
namespace {

using testing::FromHex;
using testing::ToHex;

struct HmacVector {
  const char* name;
  std::string key;
  std::string data;
  const char* mac;
};

TEST(HmacSha256, Rfc4231TestVectors) {
  const HmacVector vectors[] = {
      {"case1", std::string(20, '\x0b'), "Hi There",
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {"case2", "Jefe", "what do ya want for nothing?",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {"case3", std::string(20, '\xaa'), std::string(50, '\xdd'),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {"case4", FromHex("0102030405060708090a0b0c0d0e0f10111213141516171819"),
       std::string(50, '\xcd'), "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      {"case6", std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {"case7", std::string(131, '\xaa'),
       "This is a test using a larger than block-size key and a larger than block-size data. The "
       "key needs to be hashed before being used by the HMAC algorithm.",
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
  for (const HmacVector& v : vectors) {
    SCOPED_TRACE(v.name);
    auto mac = HmacSha256(AsBytes(v.key), v.data);
    ASSERT_TRUE(mac.ok()) << mac.status().ToString();
    EXPECT_EQ(mac->size(), kHmacSha256Bytes);
    EXPECT_EQ(ToHex(*mac), v.mac);
  }
}

TEST(HmacSha256, EmptyKeyAndMessageGiveTheKnownValue) {
  auto mac = HmacSha256({}, "");
  ASSERT_TRUE(mac.ok()) << mac.status().ToString();
  EXPECT_EQ(ToHex(*mac), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(HmacSha256, VerifyAcceptsTheRightMacOnly) {
  const std::string key = "Jefe";
  const std::string right =
      FromHex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  std::string wrong = right;
  wrong[31] ^= 1;
  auto ok = HmacSha256Verify(AsBytes(key), "what do ya want for nothing?", right);
  auto bad = HmacSha256Verify(AsBytes(key), "what do ya want for nothing?", wrong);
  auto short_mac =
      HmacSha256Verify(AsBytes(key), "what do ya want for nothing?", right.substr(0, 16));
  ASSERT_TRUE(ok.ok() && bad.ok() && short_mac.ok());
  EXPECT_TRUE(*ok);
  EXPECT_FALSE(*bad);
  EXPECT_FALSE(*short_mac);
}

}  // namespace
}  // namespace nds::crypto
