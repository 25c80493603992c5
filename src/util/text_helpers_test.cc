// Tests of the small text helpers: ascii.h, hex.h, host_port.h.
#include <string>

#include <gtest/gtest.h>

#include "util/ascii.h"
#include "util/hex.h"
#include "util/host_port.h"

namespace nds {
namespace {

TEST(Ascii, FoldsOnlyAsciiLetters) {
  EXPECT_EQ(AsciiLower("Content-LENGTH_09@[`{"), "content-length_09@[`{");
  EXPECT_EQ(AsciiLower("\xC3\x89"), "\xC3\x89");  // not ASCII: unchanged
  EXPECT_TRUE(EqualsIgnoreCase("Transfer-Encoding", "transfer-encoding"));
  EXPECT_FALSE(EqualsIgnoreCase("close", "closed"));
  // '@' and '`' differ only in the bit that separates upper from lower case letters.
  EXPECT_FALSE(EqualsIgnoreCase("@", "`"));
  EXPECT_FALSE(EqualsIgnoreCase("[", "{"));
}

TEST(Hex, EncodesEachByteAsTwoDigitsHighNibbleFirst) {
  EXPECT_EQ(HexEncode(std::string("\x00\x0f\xa5\xff", 4)), "000fa5ff");
  std::string out;
  AppendHexByte(&out, 0xab, /*upper=*/true);
  EXPECT_EQ(out, "AB");
  EXPECT_EQ(HexDigitValue('0'), 0);
  EXPECT_EQ(HexDigitValue('f'), 15);
  EXPECT_EQ(HexDigitValue('F'), 15);
  EXPECT_EQ(HexDigitValue('g'), -1);
  EXPECT_EQ(HexDigitValue('/'), -1);
}

TEST(Hex, ParseLowerHexTakesOneToSixteenLowerCaseDigitsOnly) {
  EXPECT_EQ(ParseLowerHex("0"), 0u);
  EXPECT_EQ(ParseLowerHex("00000000000000ff"), 255u);
  EXPECT_EQ(ParseLowerHex("ffffffffffffffff"), UINT64_MAX);
  EXPECT_EQ(ParseLowerHex(""), std::nullopt);
  EXPECT_EQ(ParseLowerHex("00000000000000000"), std::nullopt);  // 17 digits
  EXPECT_EQ(ParseLowerHex("00FF"), std::nullopt);               // upper case names another file
  EXPECT_EQ(ParseLowerHex("12g4"), std::nullopt);
  EXPECT_EQ(ParseLowerHex("-1"), std::nullopt);
}

TEST(HostPort, SplitsAtTheLastColonAndDropsIpv6Brackets) {
  auto hp = SplitHostPort("node-1.example:7777");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "node-1.example");
  EXPECT_EQ(hp->port, 7777);
  hp = SplitHostPort("[::1]:80");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "::1");
  EXPECT_EQ(hp->port, 80);
  hp = SplitHostPort(":0");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "");
  EXPECT_EQ(hp->port, 0);
  hp = SplitHostPort("h:65535");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->port, 65535);
}

TEST(HostPort, RefusesAMissingOrBadPort) {
  for (const char* bad : {"host", "host:", "host:65536", "host:-1", "host:+1", "host: 1", "host:1x",
                          "host:99999999999999999999"}) {
    EXPECT_FALSE(SplitHostPort(bad)) << bad;
  }
}

TEST(HostPort, AdvertisesAWildcardAsThisMachinesName) {
  EXPECT_EQ(AdvertisedAddress("10.0.0.1:7777"), "10.0.0.1:7777");
  EXPECT_EQ(AdvertisedAddress("no-port"), "no-port");
  for (const char* wildcard : {"0.0.0.0:7777", "[::]:7777", ":7777"}) {
    const std::string advertised = AdvertisedAddress(wildcard);
    ASSERT_GT(advertised.size(), 5u) << wildcard;
    EXPECT_EQ(advertised.substr(advertised.size() - 5), ":7777") << wildcard;
    EXPECT_NE(advertised.front(), ':') << wildcard;
    EXPECT_EQ(advertised.find("0.0.0.0"), std::string::npos) << advertised;
    EXPECT_EQ(advertised.find('['), std::string::npos) << advertised;
  }
}

}  // namespace
}  // namespace nds
