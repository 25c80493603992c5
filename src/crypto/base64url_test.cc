// Goal: base64url encodes as RFC 4648 §5 says (no padding), decodes what it encodes, accepts
// padded input, and rejects every malformed text with kInvalidArgument. Method: the RFC's §10
// vectors, the two characters that differ from standard base64, round trips of every length up to
// 300 over all byte values, and a catalogue of malformed inputs.
#include "crypto/base64url.h"

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "crypto/secure.h"

namespace nds::crypto {
namespace {

TEST(Base64Url, Rfc4648VectorsEncodeWithoutPadding) {
  EXPECT_EQ(Base64UrlEncode(std::string_view("")), "");
  EXPECT_EQ(Base64UrlEncode(std::string_view("f")), "Zg");
  EXPECT_EQ(Base64UrlEncode(std::string_view("fo")), "Zm8");
  EXPECT_EQ(Base64UrlEncode(std::string_view("foo")), "Zm9v");
  EXPECT_EQ(Base64UrlEncode(std::string_view("foob")), "Zm9vYg");
  EXPECT_EQ(Base64UrlEncode(std::string_view("fooba")), "Zm9vYmE");
  EXPECT_EQ(Base64UrlEncode(std::string_view("foobar")), "Zm9vYmFy");
}

TEST(Base64Url, Rfc4648VectorsDecodePaddedAndUnpadded) {
  const std::vector<std::pair<std::string, std::string>> cases = {{"", ""},
                                                                  {"Zg", "f"},
                                                                  {"Zg==", "f"},
                                                                  {"Zm8", "fo"},
                                                                  {"Zm8=", "fo"},
                                                                  {"Zm9v", "foo"},
                                                                  {"Zm9vYg", "foob"},
                                                                  {"Zm9vYg==", "foob"},
                                                                  {"Zm9vYmE", "fooba"},
                                                                  {"Zm9vYmE=", "fooba"},
                                                                  {"Zm9vYmFy", "foobar"}};
  for (const auto& [text, bytes] : cases) {
    auto decoded = Base64UrlDecode(text);
    ASSERT_TRUE(decoded.ok()) << text << ": " << decoded.status().ToString();
    EXPECT_EQ(*decoded, bytes) << text;
  }
}

TEST(Base64Url, UsesDashAndUnderscoreForTheLastTwoDigits) {
  // Standard base64 of fb ff bf is "+/+/"; base64url replaces + and / with - and _.
  EXPECT_EQ(Base64UrlEncode(std::string_view("\xfb\xff\xbf")), "-_-_");
  auto decoded = Base64UrlDecode("-_-_");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, "\xfb\xff\xbf");
}

TEST(Base64Url, EveryLengthAndByteValueRoundTrips) {
  std::string bytes;
  for (size_t n = 0; n <= 300; ++n) {
    const std::string text = Base64UrlEncode(bytes);
    EXPECT_EQ(text.find('='), std::string::npos);
    EXPECT_EQ(text.size(), (n * 4 + 2) / 3);
    auto decoded = Base64UrlDecode(text);
    ASSERT_TRUE(decoded.ok()) << n << ": " << decoded.status().ToString();
    EXPECT_EQ(*decoded, bytes) << n;
    // The padded form decodes to the same bytes.
    const std::string padded = text + std::string((4 - text.size() % 4) % 4, '=');
    auto decoded_padded = Base64UrlDecode(padded);
    ASSERT_TRUE(decoded_padded.ok()) << padded;
    EXPECT_EQ(*decoded_padded, bytes);
    bytes.push_back(static_cast<char>((n * 37 + 11) & 0xff));
  }
}

TEST(Base64Url, MalformedTextIsInvalidArgument) {
  const std::vector<std::string> bad = {
      "Z",                      // a lone character cannot hold a byte
      "Zm9vY",                  // length 1 mod 4
      "Z===",                   // padding after one character
      "Zg=",                    // one '=' where two are needed
      "Zm8==",                  // two '=' where one is needed
      "Zm9v=",                  // padding after a full group
      "Zm9v====",               // a whole group of padding
      "====",                   // nothing but padding
      "Zg===",                  // too much padding
      "Zm+v",                   // standard-base64 digit
      "Zm/v",                   // standard-base64 digit
      "Zm9 v",                  // whitespace
      "Zm9v\n",                 // newline
      "Zg=a",                   // '=' inside the text
      "=Zg",                    // '=' at the front
      "Zm.v",                   // punctuation
      std::string("Zm\0v", 4),  // NUL
      "Zm\xc3\xa9v",            // non-ASCII
      "Zh",                     // non-zero unused bits: "Zg" is the canonical spelling of "f"
      "Zm9",                    // non-zero unused bits: "Zm8" is the canonical spelling of "fo"
  };
  for (const std::string& text : bad) {
    auto decoded = Base64UrlDecode(text);
    EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument) << "accepted: " << text;
  }
}

TEST(Base64Url, DecodedBytesChecksLengthOnly) {
  EXPECT_EQ(*Base64UrlDecodedBytes("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), 32u);
  EXPECT_EQ(*Base64UrlDecodedBytes("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="), 32u);
  EXPECT_EQ(*Base64UrlDecodedBytes("!!!!"), 3u);
  EXPECT_FALSE(Base64UrlDecodedBytes("AAAAA").ok());
}

TEST(Base64Url, DecodeIntoRejectsABufferOfTheWrongSize) {
  std::vector<uint8_t> small(2), exact(3);
  EXPECT_EQ(Base64UrlDecodeInto("Zm9v", small).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(Base64UrlDecodeInto("Zm9v", exact).ok());
  EXPECT_EQ(AsStringView(exact), "foo");
}

TEST(Base64Url, AcceptedTextIsExactlyTheCanonicalEncodingOfWhatItDecodesTo) {
  // Property test on random short texts over the alphabet plus '=', '+' and '.': whenever decoding
  // succeeds, encoding the result gives back the text without its padding, so each byte string
  // has one accepted spelling (plus its padded form). Fixed seed: the run is reproducible.
  const std::string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+.";
  std::mt19937 rng(20261123);
  int accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string text(rng() % 9, ' ');
    for (char& c : text) c = chars[rng() % chars.size()];
    auto decoded = Base64UrlDecode(text);
    if (!decoded.ok()) {
      EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument) << text;
      continue;
    }
    ++accepted;
    std::string unpadded = text;
    while (!unpadded.empty() && unpadded.back() == '=') unpadded.pop_back();
    EXPECT_EQ(Base64UrlEncode(*decoded), unpadded) << text;
  }
  EXPECT_GT(accepted, 100);  // the property was exercised, not vacuously true
}

}  // namespace
}  // namespace nds::crypto
