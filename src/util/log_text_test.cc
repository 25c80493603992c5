// Goal: EscapeForLog leaves ordinary text alone and makes every other byte visible and harmless:
// no raw control character or invalid UTF-8 reaches a log line, a long text is cut with a marker,
// and the output is bounded. Method: fixed inputs compared whole, plus every single byte value and
// a property check on pseudo-random byte strings.
#include "util/log_text.h"

#include <random>
#include <string>

#include <gtest/gtest.h>

namespace nds {
namespace {

TEST(EscapeForLog, PrintableAsciiAndUtf8PassUnchanged) {
  EXPECT_EQ(EscapeForLog("GET /kv/a?b=1 HTTP/1.1"), "GET /kv/a?b=1 HTTP/1.1");
  EXPECT_EQ(EscapeForLog("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  EXPECT_EQ(EscapeForLog(""), "");
}

TEST(EscapeForLog, NewlinesAndControlCharactersAreEscaped) {
  // The forged log line of issue 11: a cluster id holding a newline.
  EXPECT_EQ(EscapeForLog("abc\n[info] forged"), "abc\\x0a[info] forged");
  EXPECT_EQ(EscapeForLog("a\rb\tc\x1b[31md\x7f"), "a\\x0db\\x09c\\x1b[31md\\x7f");
  EXPECT_EQ(EscapeForLog(std::string_view("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(EscapeForLog("back\\slash"), "back\\\\slash");
}

TEST(EscapeForLog, InvalidUtf8AndC1ControlsAreEscaped) {
  EXPECT_EQ(EscapeForLog("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(EscapeForLog("\xc3"), "\\xc3");                             // cut sequence
  EXPECT_EQ(EscapeForLog("\xc0\xaf"), "\\xc0\\xaf");                    // overlong '/'
  EXPECT_EQ(EscapeForLog("\xed\xa0\x80"), "\\xed\\xa0\\x80");           // surrogate
  EXPECT_EQ(EscapeForLog("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // above U+10FFFF
  EXPECT_EQ(EscapeForLog("\xc2\x85"), "\\xc2\\x85");                    // NEL, a C1 control
}

TEST(EscapeForLog, LongTextIsCutWithItsLength) {
  EXPECT_EQ(EscapeForLog(std::string(10, 'a'), 4), "aaaa...(10 bytes)");
  EXPECT_EQ(EscapeForLog("abcd", 4), "abcd");
  // A UTF-8 sequence is never split by the cut.
  EXPECT_EQ(EscapeForLog("ab\xe2\x82\xac", 4), "ab...(5 bytes)");
  const std::string big(1 << 20, '\n');
  EXPECT_EQ(EscapeForLog(big).size(),
            kLogTextBytesMax * 4 + std::string("...(1048576 bytes)").size());
}

TEST(EscapeForLog, NoRawControlByteOrInvalidUtf8EverComesOut) {
  for (int b = 0; b < 256; ++b) {
    const std::string out = EscapeForLog(std::string(1, static_cast<char>(b)));
    if (b >= 0x20 && b < 0x7f) {
      EXPECT_EQ(out, b == '\\' ? "\\\\" : std::string(1, static_cast<char>(b)));
    } else {
      EXPECT_EQ(out.size(), 4u) << b;
      EXPECT_TRUE(out.starts_with("\\x")) << b;
    }
  }
  std::mt19937 rng(11);
  for (int round = 0; round < 2000; ++round) {
    std::string in(rng() % 40, '\0');
    for (char& c : in) c = static_cast<char>(rng() & 0xff);
    const std::string out = EscapeForLog(in, 32);
    EXPECT_LE(out.size(), 32u * 4 + 24);
    for (char c : out) {
      const auto u = static_cast<unsigned char>(c);
      EXPECT_FALSE(u < 0x20 || u == 0x7f) << "raw control byte in output";
    }
    // The output is printable ASCII and valid UTF-8 only: escaping it again changes nothing
    // but the backslashes.
    std::string doubled;
    for (char c : out) doubled += c == '\\' ? std::string("\\\\") : std::string(1, c);
    EXPECT_EQ(EscapeForLog(out, out.size()), doubled);
  }
}

}  // namespace
}  // namespace nds
