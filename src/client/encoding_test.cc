// Goal: the client's byte encodings match docs/api.md's conventions exactly (keys any bytes,
// '/' kept in paths, '+' for spaces in queries, base64 of /keys in either alphabet).
// Method: table tests of the pure functions, including every byte value and malformed inputs.
#include "client/encoding.h"

#include <string>

#include <gtest/gtest.h>

#include "client/options.h"

namespace nds::client {
namespace {

using namespace std::string_literals;

TEST(PercentEncodePath, KeepsUnreservedAndSlashEncodesEverythingElse) {
  EXPECT_EQ(PercentEncodePath("photos/2026/cat.jpg"), "photos/2026/cat.jpg");
  EXPECT_EQ(PercentEncodePath("a b%c"), "a%20b%25c");
  EXPECT_EQ(PercentEncodePath("A-z_0.9~"), "A-z_0.9~");
  EXPECT_EQ(PercentEncodePath("\x00\xff?#+&="s), "%00%FF%3F%23%2B%26%3D");
}

TEST(PercentEncodePath, EveryByteRoundTripsThroughHexDigits) {
  for (int b = 0; b < 256; ++b) {
    const std::string in(1, static_cast<char>(b));
    const std::string out = PercentEncodePath(in);
    if (out.size() == 1) {
      EXPECT_EQ(out, in);
    } else {
      ASSERT_EQ(out.size(), 3u);
      EXPECT_EQ(std::stoi(out.substr(1), nullptr, 16), b);
    }
  }
}

TEST(FormEncode, SpaceBecomesPlusAndSlashIsEncoded) {
  EXPECT_EQ(FormEncode("a b/c"), "a+b%2Fc");
  EXPECT_EQ(FormEncode("x+y&z=1"), "x%2By%26z%3D1");
  EXPECT_EQ(FormEncode("\x00"s), "%00");
}

TEST(Base64Decode, AcceptsBothAlphabetsWithOrWithoutPadding) {
  EXPECT_EQ(Base64Decode("aGVsbG8=").value(), "hello");
  EXPECT_EQ(Base64Decode("aGVsbG8").value(), "hello");
  EXPECT_EQ(Base64Decode("").value(), "");
  EXPECT_EQ(Base64Decode("AP8=").value(), "\x00\xff"s);
  EXPECT_EQ(Base64Decode("-_8").value(), "\xfb\xff"s);
  EXPECT_EQ(Base64Decode("+/8").value(), "\xfb\xff"s);
}

TEST(Base64Decode, RejectsBadCharactersAndLengths) {
  EXPECT_EQ(Base64Decode("aGV*bG8=").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Base64Decode("a").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Base64Decode("aG=V").status().code(), StatusCode::kInvalidArgument);
}

TEST(EscapeForMessage, ShowsControlBytesAsHexAndCutsLongInput) {
  EXPECT_EQ(EscapeForMessage("a\nb\x00"s), "a\\x0ab\\x00");
  EXPECT_EQ(EscapeForMessage(std::string(100, 'k'), 4), "kkkk...");
}

TEST(ParseServerList, ParsesHostsPortsAndIpv6) {
  const auto servers = ParseServerList("localhost:7777, 10.0.0.2:80,[::1]:9000").value();
  ASSERT_EQ(servers.size(), 3u);
  EXPECT_EQ(servers[0], (ServerAddress{"localhost", 7777}));
  EXPECT_EQ(servers[1], (ServerAddress{"10.0.0.2", 80}));
  EXPECT_EQ(servers[2], (ServerAddress{"::1", 9000}));
  EXPECT_EQ(servers[2].ToString(), "[::1]:9000");
}

TEST(ParseServerList, RejectsMalformedEntriesWithTheirText) {
  for (const char* bad : {"", "localhost", "host:", ":7777", "host:0", "host:65536", "host:7x",
                          "a:1,,b:2", "::1:7777", "[::1]7777"}) {
    const auto parsed = ParseServerList(bad);
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_NE(ParseServerList("host:7x").status().message().find("host:7x"), std::string::npos);
}

TEST(ParseServerList, RefusesMoreThanTheLimit) {
  std::string list;
  for (size_t i = 0; i <= kServersMax; ++i) list += (i ? "," : "") + fmt::format("h{}:1", i);
  EXPECT_EQ(ParseServerList(list).status().code(), StatusCode::kInvalidArgument);
}

TEST(ClientOptions, ValidateRejectsZeroBounds) {
  ClientOptions options;
  EXPECT_TRUE(options.Validate().ok());
  options.attempts_max = 0;
  EXPECT_FALSE(options.Validate().ok());
  options = ClientOptions{};
  options.servers.clear();
  EXPECT_FALSE(options.Validate().ok());
  options = ClientOptions{};
  options.request_timeout = std::chrono::milliseconds(0);
  EXPECT_FALSE(options.Validate().ok());
}

}  // namespace
}  // namespace nds::client
