// Goal: the util/ building blocks behave exactly as their contracts say, including on hostile
// input. Method: direct unit tests; CRC32C against published check values and the portable path;
// varint decoding of truncated and overlong input; Limits::Validate on contradicting settings.
#include <cstdint>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "util/coding.h"
#include "util/crc32c.h"
#include "util/limits.h"
#include "util/log_text.h"
#include "util/shared_bytes.h"
#include "util/status.h"
#include "util/strong_id.h"

namespace nds {
namespace {

TEST(Status, OkHasNoMessageAndErrorsKeepTheirs) {
  EXPECT_TRUE(Status::Ok().ok());
  Status s = NotFound("key of 12 bytes");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.ToString(), "not_found: key of 12 bytes");
}

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgument("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  NDS_ASSIGN_OR_RETURN(int h, Half(x));
  NDS_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckEven(int x) {
  NDS_RETURN_IF_ERROR(Half(x).status());
  return Status::Ok();
}

TEST(Result, MacrosPropagateTheFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_FALSE(CheckEven(3).ok());
}

TEST(ResultDeathTest, ValueOfAnErrorCrashes) {
  EXPECT_DEATH({ (void)Half(3).value(); }, "check failed");
}

TEST(SharedBytes, SlicesShareTheBufferAndOutliveTheWhole) {
  SharedBytes whole(std::string("0123456789"));
  const char* buffer = whole.data();
  SharedBytes middle = SharedBytes::Slice(whole, 2, 5);
  SharedBytes of_slice = SharedBytes::Slice(middle, 1, 3);
  whole = SharedBytes();  // the slices keep the buffer
  EXPECT_EQ(middle.view(), "23456");
  EXPECT_EQ(middle.size(), 5u);
  EXPECT_EQ(middle.data(), buffer + 2);
  EXPECT_EQ(of_slice.view(), "345");
  EXPECT_EQ(of_slice.str(), "345");
  EXPECT_EQ(of_slice, SharedBytes(std::string("345")));
  EXPECT_TRUE(SharedBytes::Slice(middle, 5, 0).empty());
  EXPECT_EQ(SharedBytes::Slice(middle, 0, 5).view(), middle.view());
}

TEST(SharedBytesDeathTest, ASliceBeyondTheBytesIsAProgrammingError) {
  SharedBytes whole(std::string("abc"));
  EXPECT_DEATH(SharedBytes::Slice(whole, 2, 2), "slice");
  EXPECT_DEATH(SharedBytes::Slice(whole, 4, 0), "slice");
}

TEST(StrongId, OrdersAndSteps) {
  LogIndex a(5);
  EXPECT_LT(a, a.Next());
  EXPECT_EQ(a.Next().Prev(), a);
  EXPECT_EQ(fmt::format("{}", Term(7)), "7");
}

TEST(Coding, FixedRoundTrip) {
  std::string buf;
  PutFixed32(&buf, 0xdeadbeef);
  PutFixed64(&buf, 0x0123456789abcdefULL);
  ASSERT_EQ(buf.size(), 12u);
  EXPECT_EQ(static_cast<uint8_t>(buf[0]), 0xef);  // little-endian
  Decoder d(buf);
  EXPECT_EQ(*d.Fixed32(), 0xdeadbeefu);
  EXPECT_EQ(*d.Fixed64(), 0x0123456789abcdefULL);
  EXPECT_TRUE(d.done());
  EXPECT_EQ(d.Fixed32().status().code(), StatusCode::kCorruption);
}

TEST(Coding, VarintRoundTripAtEveryBoundary) {
  for (int shift = 0; shift < 64; ++shift) {
    for (uint64_t v : {(uint64_t{1} << shift) - 1, uint64_t{1} << shift}) {
      std::string buf;
      PutVarint64(&buf, v);
      Decoder d(buf);
      auto got = d.Varint64();
      ASSERT_TRUE(got.ok()) << v;
      EXPECT_EQ(*got, v);
      EXPECT_TRUE(d.done());
    }
  }
  std::string max;
  PutVarint64(&max, UINT64_MAX);
  EXPECT_EQ(max.size(), kVarint64BytesMax);
}

TEST(Coding, MalformedVarintsAreErrorsNotCrashes) {
  EXPECT_FALSE(Decoder(std::string("\x80\x80", 2)).Varint64().ok());  // truncated
  std::string overlong(11, '\x80');
  EXPECT_FALSE(Decoder(overlong).Varint64().ok());
  std::string overflow(9, '\xff');
  overflow.push_back('\x02');  // the tenth byte may only be 0 or 1
  EXPECT_FALSE(Decoder(overflow).Varint64().ok());
}

TEST(Coding, LengthPrefixedRejectsLengthsBeyondTheInput) {
  std::string buf;
  PutLengthPrefixed(&buf, "hello");
  Decoder d(buf);
  EXPECT_EQ(*d.LengthPrefixed(), "hello");
  std::string lying;
  PutVarint64(&lying, 1000);
  lying += "abc";
  EXPECT_EQ(Decoder(lying).LengthPrefixed().status().code(), StatusCode::kCorruption);
}

TEST(Crc32c, MatchesPublishedCheckValues) {
  // RFC 3720 B.4 test vectors and the standard "123456789" check value.
  EXPECT_EQ(crc32c::Value("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c::Value(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(crc32c::Value(std::string(32, '\xff')), 0x62A8AB43u);
  EXPECT_EQ(crc32c::Value(""), 0u);
}

TEST(Crc32c, ExtendEqualsOneShotAtEverySplit) {
  std::mt19937 rng(42);
  std::string data(300, '\0');
  for (auto& c : data) c = static_cast<char>(rng());
  uint32_t whole = crc32c::Value(data);
  for (size_t split = 0; split <= data.size(); ++split) {
    uint32_t part = crc32c::Extend(0, data.data(), split);
    EXPECT_EQ(crc32c::Extend(part, data.data() + split, data.size() - split), whole) << split;
  }
}

TEST(Limits, DefaultsAreValid) { EXPECT_TRUE(Limits{}.Validate().ok()); }

TEST(Limits, ContradictionsAreRejectedWithTheFlagName) {
  Limits l;
  l.lease_duration = l.election_timeout;
  EXPECT_NE(l.Validate().message().find("--lease-ms"), std::string::npos);
  l = Limits{};
  l.value_bytes_max = l.message_bytes_max;
  EXPECT_FALSE(l.Validate().ok());
  l = Limits{};
  l.connections_max = 0;
  EXPECT_NE(l.Validate().message().find("--max-connections"), std::string::npos);
  l = Limits{};
  l.token_cache_names_max = 0;
  EXPECT_NE(l.Validate().message().find("--max-token-cache-names"), std::string::npos);
  l = Limits{};
  l.provisional_peers_max = 0;
  EXPECT_NE(l.Validate().message().find("--max-provisional-peers"), std::string::npos);
  l = Limits{};
  l.heartbeat_interval = l.election_timeout;
  EXPECT_FALSE(l.Validate().ok());
  l = Limits{};
  l.append_bytes_in_flight_max = 1000;
  EXPECT_NE(l.Validate().message().find("--max-append-bytes-in-flight"), std::string::npos);
  l = Limits{};
  l.peer_inbox_frames_max = 0;
  EXPECT_NE(l.Validate().message().find("--max-peer-inbox-frames"), std::string::npos);
  l = Limits{};
  l.snapshot_send_timeout = std::chrono::milliseconds(0);
  EXPECT_NE(l.Validate().message().find("--snapshot-send-timeout-ms"), std::string::npos);
  l = Limits{};
  l.resp_command_bytes_max = l.value_bytes_max;  // no room for a SET's key and framing
  EXPECT_TRUE(l.Validate().ok());                // checked only when RESP is served: ValidateResp
  EXPECT_NE(l.ValidateResp().message().find("--resp-max-command-bytes"), std::string::npos);
  l = Limits{};
  EXPECT_TRUE(l.ValidateResp().ok());
  l = Limits{};
  l.resp_scan_cursors_max = 0;
  EXPECT_NE(l.Validate().message().find("--resp-max-scan-cursors"), std::string::npos);
}

TEST(Limits, DurationsAndSizesBeyondTheirBoundAreRejectedWithTheRange) {
  Limits l;
  // Issue 11: this overflowed int64 nanoseconds and cut every connection at once.
  l.header_read_timeout = std::chrono::milliseconds(9'300'000'000'000);
  EXPECT_EQ(l.Validate().message(),
            "--header-read-timeout-ms: 9300000000000 is out of range; give 1 to 86400000 (1 day)");
  l = Limits{};
  l.idle_timeout = std::chrono::milliseconds(kTimeoutMsMax);
  EXPECT_TRUE(l.Validate().ok());
  l.idle_timeout = std::chrono::milliseconds(kTimeoutMsMax + 1);
  EXPECT_NE(l.Validate().message().find("--idle-timeout-ms"), std::string::npos);
  l = Limits{};
  l.request_timeout = std::chrono::milliseconds(-5);
  EXPECT_NE(l.Validate().message().find("--request-timeout-ms: 0 is out of range"),
            std::string::npos);
  l = Limits{};
  l.election_timeout = std::chrono::milliseconds(kRaftTimingMsMax + 1);
  EXPECT_NE(l.Validate().message().find("(1 minute)"), std::string::npos);
  l = Limits{};
  // Near SIZE_MAX, value + overhead wrapped around and passed the message-size check.
  l.value_bytes_max = SIZE_MAX - 10;
  EXPECT_NE(l.Validate().message().find("--max-value-bytes"), std::string::npos);
}

TEST(FlagRange, ErrorsNameTheValueAndTheRangeInWords) {
  EXPECT_EQ(WholeNumberError("5", 1, 10, ""), "");
  EXPECT_EQ(WholeNumberError("0", 1, 86'400'000, "1 day"),
            "0 is out of range; give 1 to 86400000 (1 day)");
  EXPECT_EQ(WholeNumberError("-3", 1, 10, ""), "-3 is out of range; give 1 to 10");
  EXPECT_EQ(WholeNumberError("99999999999999999999", 1, 10, ""),
            "99999999999999999999 is out of range; give 1 to 10");
  EXPECT_EQ(WholeNumberError("1.5", 1, 10, ""), "'1.5' is not a whole number; give 1 to 10");
  EXPECT_EQ(WholeNumberError("", 1, 10, ""), "'' is not a whole number; give 1 to 10");
  EXPECT_EQ(WholeNumberError("-", 1, 10, ""), "'-' is not a whole number; give 1 to 10");
  EXPECT_EQ(WholeNumberError("1\n", 1, 10, ""), "'1\\x0a' is not a whole number; give 1 to 10");
  EXPECT_EQ(DecimalNumberError("0.5", 0.001, 3600, "1 hour"), "");
  EXPECT_EQ(DecimalNumberError("0", 0.001, 3600, "1 hour"),
            "0 is out of range; give 0.001 to 3600 (1 hour)");
  EXPECT_EQ(DecimalNumberError("nan", 0, 1, ""), "nan is out of range; give 0 to 1");
  EXPECT_EQ(DecimalNumberError("inf", 0, 1, ""), "inf is out of range; give 0 to 1");
  EXPECT_EQ(DecimalNumberError("soon", 0, 1, ""), "'soon' is not a number; give 0 to 1");
}

TEST(LogText, ControlCharactersAreFound) {
  EXPECT_TRUE(HasControlCharacter("a\nb"));
  EXPECT_TRUE(HasControlCharacter(std::string("\x7f")));
  EXPECT_FALSE(HasControlCharacter("caf\xc3\xa9 10.0.0.1:7778"));
}

TEST(LogText, RateLimiterLetsAFewLinesThroughAndCountsTheRest) {
  LogRateLimiter limiter(2, std::chrono::hours(1));
  uint64_t suppressed = 99;
  EXPECT_TRUE(limiter.Allow(&suppressed));
  EXPECT_EQ(suppressed, 0u);
  EXPECT_TRUE(limiter.Allow(&suppressed));
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(limiter.Allow(&suppressed));
  LogRateLimiter next_window(1, std::chrono::milliseconds(0));
  EXPECT_TRUE(next_window.Allow(&suppressed));
  EXPECT_TRUE(next_window.Allow(&suppressed));  // a window of 0 ms: every call starts a new one
}

}  // namespace
}  // namespace nds
