// Goal: the secrets scheme keeps its promises (secret_box.h, docs/secrets.md): round trips for any
// plaintext, a wrong key indistinguishable from an unknown id (kNotFound), no decryption of any
// altered or truncated blob, malformed keys rejected, independent stores for the same id, and
// nothing in the stored (location, blob) that reveals the id, the plaintext, a hash of the id or
// the key. Method: direct calls; a golden vector computed independently (Python's `cryptography`
// package, following docs/secrets.md) pins the exact scheme so that stored data stays readable;
// byte-by-byte searches of the stored bytes for every leak we can name.
#include "crypto/secret_box.h"

#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include "crypto/aes_gcm.h"
#include "crypto/base64url.h"
#include "crypto/hkdf.h"
#include "crypto/hmac.h"
#include "crypto/secure.h"
#include "crypto/test_hex.h"

namespace nds::crypto {
namespace {

using testing::FromHex;
using testing::ToHex;

SealedSecret MustSeal(std::string_view id, std::string_view plaintext) {
  auto sealed = SealSecret(id, plaintext);
  NDS_CHECK(sealed.ok(), "{}", sealed.status().ToString());
  return std::move(sealed).value();
}

std::string Sha256(std::string_view data) {
  std::string digest(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         reinterpret_cast<unsigned char*>(digest.data()));
  return digest;
}

// A different valid key than `key_b64url`.
std::string OtherKey(const std::string& key_b64url) {
  std::string other = key_b64url;
  other[0] = other[0] == 'A' ? 'B' : 'A';
  return other;
}

TEST(SecretBox, GoldenVectorOpensAndLocates) {
  // Computed with Python's cryptography package from docs/secrets.md: key = 00 01 .. 1f,
  // nonce = a0 .. ab, id "golden/id-1", plaintext "the quick brown fox".
  const std::string key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
  const std::string blob = FromHex(
      "01a0a1a2a3a4a5a6a7a8a9aaab43cadf82336d7a3bcad2a9e88aef9bfdd4c7c07190f5fafddad58f2016bcbb7325"
      "e4ea");
  auto location = DeriveSecretLocation("golden/id-1", key);
  ASSERT_TRUE(location.ok()) << location.status().ToString();
  EXPECT_EQ(ToHex(*location), "7115c556f752da38e496147a60a018380d2d94b2ef5789ecf69187f6de2b2c23");
  auto plaintext = OpenSecret("golden/id-1", key, blob);
  ASSERT_TRUE(plaintext.ok()) << plaintext.status().ToString();
  EXPECT_EQ(*plaintext, "the quick brown fox");
}

TEST(SecretBox, SealFollowsTheDocumentedKeySchedule) {
  const SealedSecret s = MustSeal("schedule-id", "payload");
  auto key = Base64UrlDecode(s.key_b64url);
  ASSERT_TRUE(key.ok());
  auto enc = HkdfSha256(AsBytes(*key), {}, "nds secret enc v1", 32);
  auto loc = HkdfSha256(AsBytes(*key), {}, "nds secret loc v1", 32);
  ASSERT_TRUE(enc.ok() && loc.ok());
  auto location = HmacSha256(loc->span(), "schedule-id");
  ASSERT_TRUE(location.ok());
  EXPECT_EQ(s.location, *location);
  ASSERT_EQ(s.blob[0], '\x01');
  auto plaintext = AesGcmOpen(enc->span(), s.blob.substr(1), "nds-secret-v1schedule-id");
  ASSERT_TRUE(plaintext.ok()) << plaintext.status().ToString();
  EXPECT_EQ(*plaintext, "payload");
}

TEST(SecretBox, PlaintextsOfEveryKindRoundTrip) {
  std::string binary;
  for (int i = 0; i < 512; ++i) binary.push_back(static_cast<char>(i & 0xff));
  std::string mebibyte(1 << 20, '\0');
  for (size_t i = 0; i < mebibyte.size(); ++i) mebibyte[i] = static_cast<char>((i * 131) >> 3);
  const std::vector<std::string> plaintexts = {"", "x", "hello, secret", binary, mebibyte};
  for (const std::string& plaintext : plaintexts) {
    SCOPED_TRACE(plaintext.size());
    const SealedSecret s = MustSeal("id/1", plaintext);
    EXPECT_EQ(s.location.size(), kSecretLocationBytes);
    EXPECT_EQ(s.blob.size(), plaintext.size() + kSecretBlobOverheadBytes);
    EXPECT_EQ(static_cast<uint8_t>(s.blob[0]), kSecretFormatVersion1);
    EXPECT_EQ(s.key_b64url.size(), kSecretKeyBase64UrlChars);
    auto location = DeriveSecretLocation("id/1", s.key_b64url);
    ASSERT_TRUE(location.ok()) << location.status().ToString();
    EXPECT_EQ(*location, s.location);
    auto opened = OpenSecret("id/1", s.key_b64url, s.blob);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_TRUE(*opened == plaintext);
  }
}

TEST(SecretBox, PaddedKeyWorksLikeTheUnpaddedOne) {
  const SealedSecret s = MustSeal("padded", "value");
  const std::string padded = s.key_b64url + "=";
  auto location = DeriveSecretLocation("padded", padded);
  ASSERT_TRUE(location.ok());
  EXPECT_EQ(*location, s.location);
  auto opened = OpenSecret("padded", padded, s.blob);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, "value");
}

TEST(SecretBox, WrongKeyIsNotFoundWithTheSameMessageAsAnyOtherMiss) {
  const SealedSecret s = MustSeal("id", "value");
  const SealedSecret other = MustSeal("id", "value");
  auto with_other_key = OpenSecret("id", other.key_b64url, s.blob);
  auto with_altered_key = OpenSecret("id", OtherKey(s.key_b64url), s.blob);
  auto with_other_id = OpenSecret("other id", s.key_b64url, s.blob);
  EXPECT_EQ(with_other_key.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(with_altered_key.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(with_other_id.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(with_other_key.status(), with_altered_key.status());
  EXPECT_EQ(with_other_key.status(), with_other_id.status());
  // The message names neither the id nor the key.
  EXPECT_EQ(with_other_key.status().message().find("id"), std::string::npos);
  EXPECT_EQ(with_other_key.status().message().find(other.key_b64url), std::string::npos);
}

TEST(SecretBox, NoSingleBitFlipAnywhereInTheBlobDecrypts) {
  const SealedSecret s = MustSeal("flip-id", "short secret");
  for (size_t i = 0; i < s.blob.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string tampered = s.blob;
      tampered[i] = static_cast<char>(tampered[i] ^ (1 << bit));
      auto opened = OpenSecret("flip-id", s.key_b64url, tampered);
      ASSERT_FALSE(opened.ok()) << "byte " << i << " bit " << bit;
      // Byte 0 is the format version; everything after it is authenticated.
      EXPECT_EQ(opened.status().code(), i == 0 ? StatusCode::kCorruption : StatusCode::kNotFound)
          << "byte " << i << " bit " << bit;
    }
  }
}

TEST(SecretBox, TruncatedOrExtendedBlobNeverDecrypts) {
  const SealedSecret s = MustSeal("trunc-id", "short secret");
  for (size_t n = 0; n < s.blob.size(); ++n) {
    auto opened = OpenSecret("trunc-id", s.key_b64url, s.blob.substr(0, n));
    ASSERT_FALSE(opened.ok()) << "kept " << n;
    EXPECT_EQ(opened.status().code(),
              n < kSecretBlobOverheadBytes ? StatusCode::kCorruption : StatusCode::kNotFound)
        << "kept " << n;
  }
  EXPECT_EQ(OpenSecret("trunc-id", s.key_b64url, s.blob + '\0').status().code(),
            StatusCode::kNotFound);
}

TEST(SecretBox, UnknownFormatVersionIsCorruption) {
  const SealedSecret s = MustSeal("v", "value");
  for (uint8_t version : {0, 2, 255}) {
    std::string blob = s.blob;
    blob[0] = static_cast<char>(version);
    EXPECT_EQ(OpenSecret("v", s.key_b64url, blob).status().code(), StatusCode::kCorruption)
        << int{version};
  }
}

TEST(SecretBox, MalformedKeyIsInvalidArgument) {
  const SealedSecret s = MustSeal("k", "value");
  const std::string& good = s.key_b64url;
  const std::vector<std::string> bad = {
      "",
      good.substr(0, 42),                          // 31 bytes
      good.substr(0, 40),                          // 30 bytes
      good + "A",                                  // length 0 mod 4 but 33 bytes
      good + "AAAA",                               // 35 bytes
      good + "==",                                 // too much padding
      "+" + good.substr(1),                        // standard-base64 digit
      "/" + good.substr(1),                        // standard-base64 digit
      good.substr(0, 20) + " " + good.substr(21),  // whitespace
      good.substr(0, 42) + "=",                    // '=' in place of a digit
      std::string(1000, 'A'),                      // far too long
  };
  for (const std::string& key : bad) {
    EXPECT_EQ(DeriveSecretLocation("k", key).status().code(), StatusCode::kInvalidArgument)
        << "key: " << key;
    EXPECT_EQ(OpenSecret("k", key, s.blob).status().code(), StatusCode::kInvalidArgument)
        << "key: " << key;
  }
}

TEST(SecretBox, DifferentIdsUnderOneKeyHaveDifferentLocations) {
  const SealedSecret s = MustSeal("alpha", "value");
  auto alpha = DeriveSecretLocation("alpha", s.key_b64url);
  auto beta = DeriveSecretLocation("beta", s.key_b64url);
  auto empty = DeriveSecretLocation("", s.key_b64url);
  ASSERT_TRUE(alpha.ok() && beta.ok() && empty.ok());
  EXPECT_EQ(*alpha, s.location);
  EXPECT_NE(*alpha, *beta);
  EXPECT_NE(*alpha, *empty);
  EXPECT_NE(*beta, *empty);
}

TEST(SecretBox, SealingTheSameIdTwiceGivesIndependentStores) {
  const SealedSecret first = MustSeal("same-id", "first value");
  const SealedSecret second = MustSeal("same-id", "second value");
  EXPECT_NE(first.key_b64url, second.key_b64url);
  EXPECT_NE(first.location, second.location);
  EXPECT_NE(first.blob, second.blob);
  // Same plaintext too: fresh key and nonce make the blobs unrelated.
  const SealedSecret third = MustSeal("same-id", "first value");
  EXPECT_NE(first.blob.substr(1), third.blob.substr(1));
  EXPECT_NE(first.location, third.location);
  // Each key reads what was stored with it, and only that.
  EXPECT_EQ(*OpenSecret("same-id", first.key_b64url, first.blob), "first value");
  EXPECT_EQ(*OpenSecret("same-id", second.key_b64url, second.blob), "second value");
  EXPECT_EQ(OpenSecret("same-id", first.key_b64url, second.blob).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(*DeriveSecretLocation("same-id", second.key_b64url), second.location);
}

// True when `haystack` contains any `window`-byte run of `needle` (or all of a shorter needle).
bool ContainsAnyPiece(std::string_view haystack, std::string_view needle, size_t window) {
  if (needle.size() <= window) return haystack.find(needle) != std::string_view::npos;
  for (size_t i = 0; i + window <= needle.size(); ++i) {
    if (haystack.find(needle.substr(i, window)) != std::string_view::npos) return true;
  }
  return false;
}

TEST(SecretBox, StoredBytesRevealNeitherIdNorPlaintextNorHashNorKey) {
  const std::string id = "customer-4711/database-password";
  const std::string plaintext = "correct horse battery staple, 2026 edition";
  const SealedSecret s = MustSeal(id, plaintext);
  const std::string stored = s.location + s.blob;
  const std::string id_hash = Sha256(id);
  auto raw_key = Base64UrlDecode(s.key_b64url);
  ASSERT_TRUE(raw_key.ok());
  const std::vector<std::pair<std::string, std::string>> leaks = {
      {"id", id},
      {"plaintext", plaintext},
      {"sha256(id) raw", id_hash},
      {"sha256(id) hex", ToHex(id_hash)},
      {"sha256(id) HEX", ToHex(id_hash, /*upper=*/true)},
      {"sha256(plaintext) raw", Sha256(plaintext)},
      {"key raw", *raw_key},
      {"key base64url", s.key_b64url},
  };
  for (const auto& [what, bytes] : leaks) {
    // Any 8-byte piece in the stored bytes would be a leak (chance match: about 2^-58).
    EXPECT_FALSE(ContainsAnyPiece(stored, bytes, 8)) << what;
  }
  EXPECT_NE(s.location, id_hash.substr(0, kSecretLocationBytes));
}

TEST(SecretBox, ConcurrentCallersEachGetTheirOwnSecret) {
  // The OpenSSL algorithms are fetched once on first use and then shared; several threads sealing
  // and opening at once must not disturb each other.
  constexpr int kThreads = 4;
  constexpr int kRoundsPerThread = 50;
  std::vector<int> failures(kThreads, 0);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &failures] {
      for (int i = 0; i < kRoundsPerThread; ++i) {
        const std::string id = "thread-" + std::to_string(t) + "/" + std::to_string(i);
        const std::string plaintext(static_cast<size_t>(i * 37), static_cast<char>('a' + t));
        auto sealed = SealSecret(id, plaintext);
        if (!sealed.ok()) {
          ++failures[t];
          continue;
        }
        auto opened = OpenSecret(id, sealed->key_b64url, sealed->blob);
        if (!opened.ok() || *opened != plaintext) ++failures[t];
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
}

}  // namespace
}  // namespace nds::crypto
