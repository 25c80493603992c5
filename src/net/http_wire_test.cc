// Goal: the server's byte-level helpers write exactly the HTTP the contract promises: framing
// headers owned by the server, no header injection, chunk-size lines in hex, and the JSON error
// body. Method: direct calls on fixed inputs, comparing whole strings.
#include "net/http_wire.h"

#include <optional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace nds::net {
namespace {

TEST(HttpWire, HeadCarriesStatusHeadersServerAndLength) {
  HttpResponse response;
  response.status = 201;
  response.SetHeader("X-Revision", "7");
  std::string out;
  ResponseHeadOptions options;
  options.content_length = 12;
  AppendResponseHead(response, options, &out);
  EXPECT_EQ(out,
            "HTTP/1.1 201 Created\r\nX-Revision: 7\r\nServer: nds\r\nContent-Length: 12\r\n\r\n");
}

TEST(HttpWire, FramingAndInjectedHeadersFromTheHandlerAreDropped) {
  HttpResponse response;
  response.SetHeader("content-length", "999");
  response.SetHeader("Transfer-Encoding", "gzip");
  response.SetHeader("Connection", "keep-alive");
  response.SetHeader("X-Bad", "a\r\nb");
  response.SetHeader("X\nBad", "v");
  response.SetHeader("X-Nul", std::string("a\0b", 3));
  std::string out;
  ResponseHeadOptions options;
  options.framing = BodyFraming::kChunked;
  options.connection_close = true;
  AppendResponseHead(response, options, &out);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nServer: nds\r\nTransfer-Encoding: chunked\r\nConnection: "
            "close\r\n\r\n");
}

TEST(HttpWire, OutOfRangeStatusIsWrittenAs500AndUnknownOnesKeepTheirCode) {
  HttpResponse response;
  response.status = 42;
  std::string out;
  ResponseHeadOptions options;
  options.framing = BodyFraming::kNone;
  AppendResponseHead(response, options, &out);
  EXPECT_TRUE(out.starts_with("HTTP/1.1 500 Internal Server Error\r\n")) << out;
  response.status = 555;
  out.clear();
  AppendResponseHead(response, options, &out);
  EXPECT_TRUE(out.starts_with("HTTP/1.1 555 Unknown\r\n")) << out;
}

TEST(HttpWire, ChunkSizeLineIsLowerCaseHex) {
  std::string out;
  AppendChunkSizeLine(65536, &out);
  EXPECT_EQ(out, "10000\r\n");
  out.clear();
  AppendChunkSizeLine(255, &out);
  EXPECT_EQ(out, "ff\r\n");
}

TEST(HttpWire, ErrorResponseIsTheContractsJson) {
  HttpResponse response = MakeErrorResponse(413, "body_too_large", "over \"16\" MiB\n");
  EXPECT_EQ(response.status, 413);
  ASSERT_EQ(response.headers.size(), 1u);
  EXPECT_EQ(response.headers[0].first, "Content-Type");
  EXPECT_EQ(response.headers[0].second, "application/json");
  EXPECT_EQ(response.body,
            "{\"error\": \"body_too_large\", \"message\": \"over \\\"16\\\" MiB\\u000a\"}");
}

TEST(HttpWire, NoBodyStatusesAndConnectionClose) {
  EXPECT_TRUE(StatusHasNoBody(100));
  EXPECT_TRUE(StatusHasNoBody(204));
  EXPECT_TRUE(StatusHasNoBody(304));
  EXPECT_FALSE(StatusHasNoBody(200));
  EXPECT_FALSE(StatusHasNoBody(404));
  HttpResponse response;
  EXPECT_FALSE(ResponseAsksClose(response));
  response.SetHeader("CONNECTION", "Close");
  EXPECT_TRUE(ResponseAsksClose(response));
}

TEST(HttpRequest, HeaderFindsTheFirstValueByLowerCaseName) {
  HttpRequest request;
  request.headers = {{"a", "1"}, {"b", "2"}, {"a", "3"}};
  EXPECT_EQ(request.Header("a"), "1");
  EXPECT_TRUE(request.HasHeader("b"));
  EXPECT_FALSE(request.HasHeader("c"));
  EXPECT_EQ(request.Header("c"), "");
}

// ---- CheckRequestHead: what Beast lets through but RFC 9112 forbids ----

std::optional<int> HeadStatus(std::string_view head) {
  std::optional<HeadRejection> rejected = CheckRequestHead(head);
  if (!rejected) return std::nullopt;
  EXPECT_FALSE(rejected->message.empty());
  return rejected->status;
}

TEST(CheckRequestHead, OrdinaryHeadsPass) {
  EXPECT_EQ(HeadStatus("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), std::nullopt);
  EXPECT_EQ(HeadStatus("PUT /k HTTP/1.1\r\nContent-Length: 5\r\n\r\n"), std::nullopt);
  EXPECT_EQ(HeadStatus("PUT /k HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"), std::nullopt);
  EXPECT_EQ(HeadStatus("PUT /k HTTP/1.1\r\nTransfer-Encoding:  Chunked \r\n\r\n"), std::nullopt);
  // Identical Content-Length values, in one field or several, are one length (RFC 9110 §8.6).
  EXPECT_EQ(HeadStatus("PUT /k HTTP/1.1\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\n"),
            std::nullopt);
  EXPECT_EQ(HeadStatus("\r\nGET / HTTP/1.1\r\n\r\n"), std::nullopt);
}

TEST(CheckRequestHead, TransferEncodingNotEndingInChunkedIs400) {
  // The smuggling request of issue 11: the bytes after the header were read as a second request.
  EXPECT_EQ(HeadStatus("PUT /k HTTP/1.1\r\nTransfer-Encoding: chunked, identity\r\n\r\n"), 400);
  EXPECT_EQ(HeadStatus("PUT /k HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"), 400);
  EXPECT_EQ(HeadStatus("PUT /k HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                       "Transfer-Encoding: identity\r\n\r\n"),
            400);
  EXPECT_EQ(HeadStatus("PUT /k HTTP/1.1\r\nTransfer-Encoding: \r\n\r\n"), 400);
  EXPECT_EQ(HeadStatus("PUT /k HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"), 400);
}

TEST(CheckRequestHead, UnsupportedCodingBeforeChunkedIs501) {
  EXPECT_EQ(HeadStatus("PUT /k HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), 501);
  EXPECT_EQ(HeadStatus("PUT /k HTTP/1.1\r\nTransfer-Encoding: deflate\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n"),
            501);
  std::optional<HeadRejection> r =
      CheckRequestHead("PUT /k HTTP/1.1\r\nTransfer-Encoding: x\x01y, chunked\r\n\r\n");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->message.find('\x01'), std::string::npos) << "outside bytes are not echoed raw";
}

TEST(CheckRequestHead, TransferEncodingWithContentLengthOrInHttp10Is400) {
  EXPECT_EQ(HeadStatus("PUT /k HTTP/1.1\r\nContent-Length: 3\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n"),
            400);
  EXPECT_EQ(HeadStatus("PUT /k HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                       "Content-Length: 3\r\n\r\n"),
            400);
  EXPECT_EQ(HeadStatus("PUT /k HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
}

TEST(CheckRequestHead, ContentLengthsThatDifferOrAreNotDecimalAre400) {
  EXPECT_EQ(HeadStatus("PUT /k HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"), 400);
  EXPECT_EQ(HeadStatus("PUT /k HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n"), 400);
  EXPECT_EQ(HeadStatus("PUT /k HTTP/1.1\r\nContent-Length: +5\r\n\r\n"), 400);
  EXPECT_EQ(HeadStatus("PUT /k HTTP/1.1\r\nContent-Length: 5,\r\n\r\n"), 400);
  EXPECT_EQ(HeadStatus("PUT /k HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n"), 400);
}

TEST(CheckRequestHead, ObsFoldWhitespaceBeforeColonAndBareLineEndsAre400) {
  EXPECT_EQ(HeadStatus("GET / HTTP/1.1\r\nX-A: 1\r\n  folded\r\n\r\n"), 400);
  EXPECT_EQ(HeadStatus("GET / HTTP/1.1\r\nX-A: 1\r\n\tfolded\r\n\r\n"), 400);
  EXPECT_EQ(HeadStatus("GET / HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n"), 400);
  EXPECT_EQ(HeadStatus("GET / HTTP/1.1\r\nX-A\t: 1\r\n\r\n"), 400);
  EXPECT_EQ(HeadStatus("GET / HTTP/1.1\r\nX-A: 1\nX-B: 2\r\n\r\n"), 400);
  EXPECT_EQ(HeadStatus("GET / HTTP/1.1\r\nX-A: 1\rX-B: 2\r\n\r\n"), 400);
  EXPECT_EQ(HeadStatus(std::string_view("GET / HTTP/1.1\r\nX-A: \0\r\n\r\n", 25)), 400);
  EXPECT_EQ(HeadStatus("GET / HTTP/1.1\r\n: empty name\r\n\r\n"), 400);
  EXPECT_EQ(HeadStatus("GET / HTTP/1.1\r\nX(A): 1\r\n\r\n"), 400);
}

}  // namespace
}  // namespace nds::net
