// Goal: AES-256-GCM matches the published vectors and refuses every altered message. Method:
// known-answer tests from the GCM specification (McGrew & Viega, test cases 13-16, the AES-256
// ones; case 16 has associated data and a partial block), then round trips with random nonces and
// exhaustive single-bit tampering of a short message, wrong key, wrong associated data and
// truncation, each of which must fail with kCorruption and return no plaintext.
#include "crypto/aes_gcm.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/secure.h"
#include "crypto/test_hex.h"

namespace nds::crypto {
namespace {

using testing::BytesFromHex;
using testing::FromHex;
using testing::ToHex;

struct GcmVector {
  const char* name;
  const char* key;
  const char* nonce;
  const char* plaintext;
  const char* aad;
  const char* ciphertext;
  const char* tag;
};

constexpr char kKey15[] = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";

const GcmVector kVectors[] = {
    {"case13", "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    {"case14", "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "00000000000000000000000000000000", "",
     "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    {"case15", kKey15, "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
     "",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    {"case16", kKey15, "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

TEST(AesGcm, SealMatchesTheGcmSpecVectors) {
  for (const GcmVector& v : kVectors) {
    SCOPED_TRACE(v.name);
    auto sealed = AesGcmSealWithNonce(BytesFromHex(v.key), BytesFromHex(v.nonce),
                                      FromHex(v.plaintext), FromHex(v.aad));
    ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
    EXPECT_EQ(ToHex(*sealed), std::string(v.ciphertext) + v.tag);
  }
}

TEST(AesGcm, OpenRecoversTheGcmSpecPlaintexts) {
  for (const GcmVector& v : kVectors) {
    SCOPED_TRACE(v.name);
    auto opened = AesGcmOpenWithNonce(BytesFromHex(v.key), BytesFromHex(v.nonce),
                                      FromHex(std::string(v.ciphertext) + v.tag), FromHex(v.aad));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(ToHex(*opened), v.plaintext);
  }
}

TEST(AesGcm, OpenRejectsAVectorWithAWrongTag) {
  const GcmVector& v = kVectors[3];
  std::string message = FromHex(std::string(v.ciphertext) + v.tag);
  message.back() ^= 0x01;
  auto opened =
      AesGcmOpenWithNonce(BytesFromHex(v.key), BytesFromHex(v.nonce), message, FromHex(v.aad));
  EXPECT_EQ(opened.status().code(), StatusCode::kCorruption);
}

std::vector<uint8_t> TestKey(uint8_t seed) {
  std::vector<uint8_t> key(kAesGcmKeyBytes);
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(seed + i * 7);
  return key;
}

TEST(AesGcm, SealThenOpenRoundTripsWithAPrefixAndAFreshNonceEachTime) {
  const auto key = TestKey(1);
  const std::string plaintext("binary\0data\xff", 12);
  auto a = AesGcmSeal(key, plaintext, "aad", "PFX");
  auto b = AesGcmSeal(key, plaintext, "aad", "PFX");
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->size(), 3 + kAesGcmOverheadBytes + plaintext.size());
  EXPECT_EQ(a->substr(0, 3), "PFX");
  EXPECT_NE(a->substr(3, kAesGcmNonceBytes), b->substr(3, kAesGcmNonceBytes));
  EXPECT_NE(*a, *b);
  for (const std::string* sealed : {&*a, &*b}) {
    auto opened = AesGcmOpen(key, sealed->substr(3), "aad");
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(*opened, plaintext);
  }
}

TEST(AesGcm, EmptyPlaintextRoundTrips) {
  const auto key = TestKey(2);
  auto sealed = AesGcmSeal(key, "", "");
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->size(), kAesGcmOverheadBytes);
  auto opened = AesGcmOpen(key, *sealed, "");
  ASSERT_TRUE(opened.ok());
  EXPECT_TRUE(opened->empty());
}

TEST(AesGcm, EverySingleBitFlipIsRejected) {
  const auto key = TestKey(3);
  auto sealed = AesGcmSeal(key, "attack at dawn", "header");
  ASSERT_TRUE(sealed.ok());
  for (size_t i = 0; i < sealed->size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string tampered = *sealed;
      tampered[i] = static_cast<char>(tampered[i] ^ (1 << bit));
      auto opened = AesGcmOpen(key, tampered, "header");
      EXPECT_EQ(opened.status().code(), StatusCode::kCorruption) << "byte " << i << " bit " << bit;
    }
  }
}

TEST(AesGcm, WrongKeyOrAssociatedDataIsRejected) {
  const auto key = TestKey(4);
  auto sealed = AesGcmSeal(key, "attack at dawn", "header");
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(AesGcmOpen(TestKey(5), *sealed, "header").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(AesGcmOpen(key, *sealed, "headeR").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(AesGcmOpen(key, *sealed, "").status().code(), StatusCode::kCorruption);
}

TEST(AesGcm, TruncatedOrExtendedMessagesAreRejected) {
  const auto key = TestKey(6);
  auto sealed = AesGcmSeal(key, "attack at dawn", "");
  ASSERT_TRUE(sealed.ok());
  for (size_t n = 0; n < sealed->size(); ++n) {
    EXPECT_EQ(AesGcmOpen(key, sealed->substr(0, n), "").status().code(), StatusCode::kCorruption)
        << "kept " << n << " bytes";
  }
  EXPECT_EQ(AesGcmOpen(key, *sealed + "x", "").status().code(), StatusCode::kCorruption);
}

TEST(AesGcm, WrongKeyOrNonceSizeIsInvalidArgument) {
  const std::vector<uint8_t> short_key(31), nonce(12), short_nonce(8);
  EXPECT_EQ(AesGcmSeal(short_key, "x", "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(AesGcmOpen(short_key, std::string(40, 'x'), "").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(AesGcmSealWithNonce(TestKey(7), short_nonce, "x", "").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(AesGcmOpenWithNonce(TestKey(7), short_nonce, std::string(20, 'x'), "").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(AesGcmOpenWithNonce(short_key, nonce, std::string(20, 'x'), "").status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace nds::crypto
