// Goal: the RESP2 parser takes every well-formed command whole or in any split, and turns every
// hostile input (bad headers, lying lengths, oversized anything, garbage, random bytes) into a
// protocol error or a wait for more bytes: never a crash, a hang or unbounded buffering. The
// writer emits exact RESP2, and the glob match behaves as Redis's.
// Method: table tests; every prefix of valid frames; a seeded random fuzz loop with a fixed count.
#include "resp/protocol.h"

#include <random>

#include <gtest/gtest.h>

namespace nds::resp {
namespace {

ParserLimits SmallLimits() {
  ParserLimits l;
  l.bulk_bytes_max = 16;
  l.array_elements_max = 4;
  l.inline_bytes_max = 32;
  l.command_bytes_max = 64;
  return l;
}

std::vector<std::string> Args(std::initializer_list<std::string> a) { return a; }

TEST(RespParser, ParsesMultibulkAndInlineCommands) {
  auto p = ParseCommand("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n", ParserLimits{});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->consumed_bytes, 20u);
  EXPECT_EQ(p->args, Args({"GET", "k"}));

  auto binary = ParseCommand(std::string("*1\r\n$3\r\na\0\n\r\n", 13), ParserLimits{});
  ASSERT_TRUE(binary.ok());
  EXPECT_EQ(binary->args, Args({std::string("a\0\n", 3)}));

  auto typed = ParseCommand("set  k \"a b\\x41\\n\" 'it\\'s'\r\nrest", ParserLimits{});
  ASSERT_TRUE(typed.ok());
  EXPECT_EQ(typed->args, Args({"set", "k", "a bA\n", "it's"}));
  EXPECT_EQ(typed->consumed_bytes, 28u);

  auto empty_line = ParseCommand("\r\nPING\r\n", ParserLimits{});
  ASSERT_TRUE(empty_line.ok());
  EXPECT_EQ(empty_line->consumed_bytes, 2u);
  EXPECT_TRUE(empty_line->args.empty());
  auto empty_array = ParseCommand("*0\r\n", ParserLimits{});
  EXPECT_EQ(empty_array->consumed_bytes, 4u);
  EXPECT_TRUE(empty_array->args.empty());
}

TEST(RespParser, EveryPrefixOfAValidFrameWaitsForMore) {
  const std::string frame = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";
  for (size_t n = 0; n < frame.size(); ++n) {
    auto p = ParseCommand(frame.substr(0, n), ParserLimits{});
    ASSERT_TRUE(p.ok()) << n << ": " << p.status().ToString();
    EXPECT_EQ(p->consumed_bytes, 0u) << n;
  }
  EXPECT_EQ(ParseCommand(frame, ParserLimits{})->consumed_bytes, frame.size());
}

TEST(RespParser, MalformedFramesAreProtocolErrorsInRedisWords) {
  const std::pair<std::string, std::string> cases[] = {
      {"*x\r\n", "Protocol error: invalid multibulk length"},
      {"*5\r\n", "Protocol error: invalid multibulk length"},  // above array_elements_max
      {"*99999999999999999999\r\n", "Protocol error: invalid multibulk length"},
      {"*1\r\n:1\r\n", "Protocol error: expected '$', got ':'"},
      {"*1\r\n$-1\r\n", "Protocol error: invalid bulk length"},
      {"*1\r\n$17\r\n", "Protocol error: invalid bulk length"},  // above bulk_bytes_max
      {"*1\r\n$1x\r\n", "Protocol error: invalid bulk length"},
      {"*1\r\n$1\r\nabc", "Protocol error: bulk string not terminated by CRLF"},
      {"*1" + std::string(40, '1'), "Protocol error: too big mbulk count string"},
      {"*1\r\n$" + std::string(40, '1'), "Protocol error: too big bulk length"},
      {std::string(33, 'a'), "Protocol error: too big inline request"},
      {"get \"k\n", "Protocol error: unbalanced quotes in request"},
      {"get \"k\"x\n", "Protocol error: unbalanced quotes in request"},
      {"a b c d e\n", "Protocol error: invalid multibulk length"},
      {"*4\r\n$16\r\n" + std::string(16, 'a') + "\r\n$16\r\n" + std::string(16, 'a') +
           "\r\n$16\r\n",
       "Protocol error: command longer than 64 bytes"},
  };
  for (const auto& [input, message] : cases) {
    auto p = ParseCommand(input, SmallLimits());
    ASSERT_FALSE(p.ok()) << input;
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(p.status().message(), message) << input;
  }
}

TEST(RespParser, RandomBytesNeverCrashAndNeverBufferBeyondTheLimits) {
  std::mt19937_64 rng(20261206);
  const std::string alphabet = "*$\r\n0123456789-abc \"'\\x";
  const ParserLimits limits = SmallLimits();
  for (int round = 0; round < 20000; ++round) {
    std::string input;
    size_t n = rng() % 96;
    for (size_t i = 0; i < n; ++i) {
      input.push_back(rng() % 4 == 0 ? static_cast<char>(rng())
                                     : alphabet[rng() % alphabet.size()]);
    }
    auto p = ParseCommand(input, limits);
    if (!p.ok()) {
      EXPECT_TRUE(p.status().message().starts_with("Protocol error: ")) << p.status().message();
      continue;
    }
    EXPECT_LE(p->consumed_bytes, input.size());
    EXPECT_LE(p->args.size(), limits.array_elements_max);
    if (p->consumed_bytes == 0) {
      // Waiting for more is only allowed while the command can still fit the limits.
      EXPECT_LE(input.size(), limits.command_bytes_max + limits.bulk_bytes_max + 64) << input;
    }
  }
}

TEST(RespWriter, EncodesEveryReplyTypeExactly) {
  std::string out;
  AppendSimpleString(&out, "OK");
  AppendError(&out, "ERR bad\r\nthing");
  AppendInteger(&out, -42);
  AppendBulk(&out, std::string("a\0b", 3));
  AppendNullBulk(&out);
  AppendArrayHeader(&out, 2);
  static constexpr char kWant[] = "+OK\r\n-ERR bad  thing\r\n:-42\r\n$3\r\na\0b\r\n$-1\r\n*2\r\n";
  EXPECT_EQ(out, std::string(kWant, sizeof kWant - 1));
}

TEST(GlobMatch, MatchesAsRedisDoes) {
  const std::tuple<std::string_view, std::string_view, bool> cases[] = {
      {"*", "", true},
      {"*", "abc", true},
      {"a*", "abc", true},
      {"a*", "bac", false},
      {"*c", "abc", true},
      {"a?c", "abc", true},
      {"a?c", "ac", false},
      {"h[ae]llo", "hallo", true},
      {"h[ae]llo", "hillo", false},
      {"h[^e]llo", "hallo", true},
      {"h[^e]llo", "hello", false},
      {"h[a-c]llo", "hbllo", true},
      {"h[c-a]llo", "hbllo", true},
      {"a\\*b", "a*b", true},
      {"a\\*b", "axb", false},
      {"*a*b*c*", "xaybzc", true},
      {"*a*b*c*", "xaybz", false},
      {"user:*", "user:1", true},
      {"[abc", "a", true},
      {"", "", true},
      {"", "a", false},
  };
  for (const auto& [pattern, s, want] : cases) {
    EXPECT_EQ(GlobMatch(pattern, s), want) << pattern << " ~ " << s;
  }
  // Many stars against a long miss stay fast (no exponential backtracking).
  EXPECT_FALSE(GlobMatch("*a*a*a*a*a*a*a*a*a*a*b", std::string(10000, 'a')));
}

}  // namespace
}  // namespace nds::resp
