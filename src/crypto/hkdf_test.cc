// Goal: HKDF-SHA256 matches RFC 5869 and enforces its output limit. Method: the RFC's SHA-256 test
// cases 1 (basic), 2 (long inputs and output) and 3 (empty salt and info), then the bounds.
#include "crypto/hkdf.h"

#include <string>

#include <gtest/gtest.h>

#include "crypto/test_hex.h"

namespace nds::crypto {
namespace {

using testing::BytesFromHex;
using testing::FromHex;
using testing::ToHex;

std::string Hex(const SecretBytes& b) { return ToHex(AsStringView(b.span())); }

TEST(HkdfSha256, Rfc5869TestCase1) {
  auto okm =
      HkdfSha256(BytesFromHex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
                 BytesFromHex("000102030405060708090a0b0c"), FromHex("f0f1f2f3f4f5f6f7f8f9"), 42);
  ASSERT_TRUE(okm.ok()) << okm.status().ToString();
  EXPECT_EQ(Hex(*okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST(HkdfSha256, Rfc5869TestCase2LongInputs) {
  std::string ikm, salt, info;
  for (int i = 0x00; i <= 0x4f; ++i) ikm.push_back(static_cast<char>(i));
  for (int i = 0x60; i <= 0xaf; ++i) salt.push_back(static_cast<char>(i));
  for (int i = 0xb0; i <= 0xff; ++i) info.push_back(static_cast<char>(i));
  auto okm = HkdfSha256(AsBytes(ikm), AsBytes(salt), info, 82);
  ASSERT_TRUE(okm.ok()) << okm.status().ToString();
  EXPECT_EQ(Hex(*okm),
            "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
            "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
            "cc30c58179ec3e87c14c01d5c1f3434f1d87");
}

TEST(HkdfSha256, Rfc5869TestCase3EmptySaltAndInfo) {
  auto okm = HkdfSha256(BytesFromHex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"), {}, "", 42);
  ASSERT_TRUE(okm.ok()) << okm.status().ToString();
  EXPECT_EQ(Hex(*okm),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST(HkdfSha256, DifferentInfoGivesIndependentKeys) {
  const auto ikm = BytesFromHex("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
  auto a = HkdfSha256(ikm, {}, "nds secret enc v1", 32);
  auto b = HkdfSha256(ikm, {}, "nds secret loc v1", 32);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(Hex(*a), Hex(*b));
}

TEST(HkdfSha256, OutputLengthOutsideOneTo255HashesIsInvalidArgument) {
  const auto ikm = BytesFromHex("0b0b");
  EXPECT_EQ(HkdfSha256(ikm, {}, "", 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HkdfSha256(ikm, {}, "", kHkdfSha256OutputBytesMax + 1).status().code(),
            StatusCode::kInvalidArgument);
  auto longest = HkdfSha256(ikm, {}, "", kHkdfSha256OutputBytesMax);
  ASSERT_TRUE(longest.ok()) << longest.status().ToString();
  EXPECT_EQ(longest->size(), kHkdfSha256OutputBytesMax);
}

}  // namespace
}  // namespace nds::crypto
