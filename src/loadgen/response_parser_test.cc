// Goal: the response parser reads every framing nds and etcd use, whatever the split of the bytes
// across reads, and turns every malformation into an error instead of a crash or a hang.
// Method: feed canned responses split at every byte position (and byte by byte), compare what was
// parsed; feed malformed and oversized input and check the error codes.
#include "loadgen/response_parser.h"

#include <algorithm>
#include <random>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace nds::loadgen {
namespace {

// Feeds `wire` in two pieces split at `split`; returns bytes consumed in total.
size_t FeedSplit(ResponseParser* p, std::string_view wire, size_t split) {
  size_t used = 0;
  for (std::string_view piece : {wire.substr(0, split), wire.substr(split)}) {
    if (p->done() || piece.empty()) continue;
    Result<size_t> n = p->Feed(piece);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    if (!n.ok()) return used;
    used += *n;
    if (*n != piece.size()) break;
  }
  return used;
}

ResponseLimits KeepBody() {
  ResponseLimits l;
  l.keep_body = true;
  return l;
}

TEST(ResponseParser, ContentLengthBodyParsesAtEverySplit) {
  const std::string wire =
      "HTTP/1.1 200 OK\r\nETag: \"42\"\r\nContent-Length: 11\r\n\r\nhello world";
  for (size_t split = 0; split <= wire.size(); ++split) {
    ResponseParser p(KeepBody());
    EXPECT_EQ(FeedSplit(&p, wire, split), wire.size()) << split;
    ASSERT_TRUE(p.done()) << split;
    EXPECT_EQ(p.response().status_code, 200);
    EXPECT_EQ(p.response().body, "hello world");
    EXPECT_EQ(p.response().revision, 42u);
    EXPECT_FALSE(p.response().connection_close);
  }
}

TEST(ResponseParser, ChunkedBodyWithExtensionsAndTrailersParsesAtEverySplit) {
  const std::string wire =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Revision: 9\r\n\r\n"
      "5;name=x\r\nhello\r\n1\r\n \r\n0005\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\n";
  for (size_t split = 0; split <= wire.size(); ++split) {
    ResponseParser p(KeepBody());
    EXPECT_EQ(FeedSplit(&p, wire, split), wire.size()) << split;
    ASSERT_TRUE(p.done()) << split;
    EXPECT_EQ(p.response().body, "hello world");
    EXPECT_EQ(p.response().body_bytes, 11u);
    EXPECT_EQ(p.response().revision, 9u);
  }
  ResponseParser p(KeepBody());  // byte by byte
  for (const char c : wire) ASSERT_TRUE(p.Feed(std::string_view(&c, 1)).ok());
  EXPECT_TRUE(p.done());
  EXPECT_EQ(p.response().body, "hello world");
}

TEST(ResponseParser, StopsAtTheEndOfOneResponseAndReadsTheNextAfterReset) {
  const std::string first = "HTTP/1.1 204 No Content\r\nX-Revision: 3\r\n\r\n";
  const std::string second = "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}";
  ResponseParser p;
  Result<size_t> n = p.Feed(first + second);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, first.size());
  EXPECT_TRUE(p.done());
  EXPECT_EQ(p.response().status_code, 204);
  p.Reset();
  n = p.Feed(second);
  ASSERT_TRUE(n.ok());
  EXPECT_TRUE(p.done());
  EXPECT_EQ(p.response().status_code, 404);
  EXPECT_EQ(p.response().body_bytes, 2u);
  EXPECT_TRUE(p.response().body.empty());  // not kept unless asked
}

TEST(ResponseParser, InterimResponsesAreSkipped) {
  ResponseParser p;
  const std::string wire =
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
  Result<size_t> n = p.Feed(wire);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, wire.size());
  EXPECT_TRUE(p.done());
  EXPECT_EQ(p.response().status_code, 201);
}

TEST(ResponseParser, BodyWithoutLengthEndsAtConnectionClose) {
  ResponseParser p(KeepBody());
  ASSERT_TRUE(p.Feed("HTTP/1.0 200 OK\r\n\r\nsome").ok());
  ASSERT_TRUE(p.Feed(" bytes").ok());
  EXPECT_FALSE(p.done());
  ASSERT_TRUE(p.FeedEof().ok());
  EXPECT_TRUE(p.done());
  EXPECT_EQ(p.response().body, "some bytes");
  EXPECT_TRUE(p.response().connection_close);
}

TEST(ResponseParser, ConnectionCloseHeaderIsReported) {
  ResponseParser p;
  ASSERT_TRUE(p.Feed("HTTP/1.1 503 Busy\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").ok());
  EXPECT_TRUE(p.done());
  EXPECT_TRUE(p.response().connection_close);
}

TEST(ResponseParser, CutOffResponseIsUnavailableAtEof) {
  ResponseParser p;
  ASSERT_TRUE(p.Feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc").ok());
  EXPECT_EQ(p.FeedEof().code(), StatusCode::kUnavailable);
  p.Reset();
  ASSERT_TRUE(p.Feed("HTTP/1.1 200 O").ok());
  EXPECT_EQ(p.FeedEof().code(), StatusCode::kUnavailable);
}

TEST(ResponseParser, MalformedResponsesAreErrors) {
  for (const std::string& wire : {
           std::string("HTTP/2 200 OK\r\n\r\n"),
           std::string("HTTP/1.1 2x0 OK\r\n\r\n"),
           std::string("HTTP/1.1 999 OK\r\n\r\n"),
           std::string("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"),
           std::string("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"),
           std::string("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
           std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"),
           std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
           std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n"),
       }) {
    ResponseParser p;
    Result<size_t> n = p.Feed(wire);
    EXPECT_FALSE(n.ok()) << wire;
    if (!n.ok()) {
      EXPECT_EQ(n.status().code(), StatusCode::kIoError) << wire;
    }
  }
}

TEST(ResponseParser, LimitsAreEnforced) {
  ResponseLimits small;
  small.header_bytes_max = 64;
  small.body_bytes_max = 8;
  ResponseParser p(small);
  Result<size_t> n = p.Feed("HTTP/1.1 200 OK\r\nX-Pad: " + std::string(100, 'a') + "\r\n\r\n");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), StatusCode::kResourceExhausted);

  p.Reset();  // header never ends: bounded, not buffered forever
  n = p.Feed(std::string(1000, 'x'));
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), StatusCode::kResourceExhausted);

  p.Reset();
  n = p.Feed("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), StatusCode::kResourceExhausted);

  p.Reset();
  n = p.Feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n5\r\n");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), StatusCode::kResourceExhausted);

  p.Reset();
  n = p.Feed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + std::string(2000, '0'));
  ASSERT_FALSE(n.ok());
}

TEST(ResponseParser, RandomChunkingsOfRandomBodiesRoundTrip) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 200; ++round) {
    std::string body(rng() % 3000, '\0');
    for (char& c : body) c = static_cast<char>(rng());
    std::string wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (size_t at = 0; at < body.size();) {
      const size_t n = std::min<size_t>(body.size() - at, 1 + rng() % 700);
      wire += fmt::format("{:x}\r\n", n) + body.substr(at, n) + "\r\n";
      at += n;
    }
    wire += "0\r\n\r\n";
    ResponseParser p(KeepBody());
    for (size_t at = 0; at < wire.size();) {  // random read sizes
      const size_t n = std::min<size_t>(wire.size() - at, 1 + rng() % 100);
      Result<size_t> used = p.Feed(std::string_view(wire).substr(at, n));
      ASSERT_TRUE(used.ok()) << used.status().ToString();
      ASSERT_EQ(*used, n);
      at += n;
    }
    ASSERT_TRUE(p.done());
    EXPECT_EQ(p.response().body, body);
  }
}

TEST(ResponseParser, RandomBytesNeverCrashAndStayBounded) {
  std::mt19937_64 rng(8);
  ResponseLimits limits;
  limits.header_bytes_max = 512;
  limits.body_bytes_max = 4096;
  const std::string prefixes[] = {"", "HTTP/1.1 200 OK\r\n",
                                  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                                  "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"};
  for (int round = 0; round < 2000; ++round) {
    std::string wire = prefixes[rng() % 4];
    const size_t extra = rng() % 2000;
    for (size_t i = 0; i < extra; ++i) {
      wire.push_back("0123456789abcdef\r\n: ;HTTP/1."[rng() % 29]);
    }
    ResponseParser p(limits);
    size_t at = 0;
    while (at < wire.size() && !p.done()) {
      Result<size_t> used = p.Feed(std::string_view(wire).substr(at, 1 + rng() % 64));
      if (!used.ok()) break;
      ASSERT_LE(*used, 64u);
      at += *used;
    }
    if (!p.done()) IgnoreError(p.FeedEof(), "either outcome is fine: only a crash would fail");
    EXPECT_LE(p.response().body_bytes, limits.body_bytes_max);
  }
}

}  // namespace
}  // namespace nds::loadgen
