// Goal: Client::Download streams a reply body to its sink piece by piece, whole and in order,
// whether it comes with a Content-Length or chunked; maps an error reply to its Status without
// calling the sink; stops on the sink's error; and reports a body cut short.
// Method: the scripted FakeHttpServer (fake_http_server.h) on a free loopback port.
#include <gtest/gtest.h>

#include "client/client.h"
#include "client/fake_http_server.h"

namespace nds::client {
namespace {

using testing::FakeHttpServer;
using testing::FakeReply;
using testing::RecordedRequest;

std::unique_ptr<Client> ClientFor(const FakeHttpServer& server) {
  ClientOptions options;
  options.servers = {server.address()};
  options.auth_token = "admin.secret";
  return Client::Create(options).value();
}

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 131 % 251);
  return s;
}

TEST(ClientDownload, AContentLengthBodyArrivesWholeInPiecesWithTheToken) {
  const std::string body = Pattern(3 << 20);
  FakeHttpServer server([&](const RecordedRequest& r) {
    EXPECT_EQ(r.target, "/snapshot");
    EXPECT_EQ(r.Header("authorization"), "Bearer admin.secret");
    return FakeReply::Status(200, body).With("X-Revision", "42");
  });
  std::string got;
  size_t pieces = 0;
  auto reply = ClientFor(server)->Download("/snapshot", [&](std::string_view piece) {
    got.append(piece);
    ++pieces;
    return Status::Ok();
  });
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->Header("x-revision"), "42");
  EXPECT_TRUE(reply->body.empty());
  EXPECT_EQ(got, body);
  EXPECT_GT(pieces, 1u);
}

TEST(ClientDownload, AChunkedBodyArrivesWhole) {
  FakeHttpServer server([](const RecordedRequest&) {
    FakeReply reply = FakeReply::Of(FakeReply::Action::kRawBytes);
    reply.raw =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    return reply;
  });
  std::string got;
  auto reply = ClientFor(server)->Download("/snapshot", [&](std::string_view piece) {
    got.append(piece);
    return Status::Ok();
  });
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(got, "hello world");
}

TEST(ClientDownload, AnErrorReplyIsItsStatusAndNeverReachesTheSink) {
  FakeHttpServer server([](const RecordedRequest&) {
    return FakeReply::Status(403, R"({"error":"forbidden","message":"needs the admin role"})")
        .With("Content-Type", "application/json");
  });
  bool called = false;
  auto reply = ClientFor(server)->Download("/snapshot", [&](std::string_view) {
    called = true;
    return Status::Ok();
  });
  EXPECT_EQ(reply.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(reply.status().message().find("admin role"), std::string::npos);
  EXPECT_FALSE(called);
}

TEST(ClientDownload, TheSinksErrorStopsTheDownloadAndACutBodyIsReported) {
  FakeHttpServer server([](const RecordedRequest& r) {
    if (r.connection == 1) return FakeReply::Status(200, Pattern(1 << 20));
    FakeReply reply = FakeReply::Of(FakeReply::Action::kRawBytes);
    reply.raw = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this";
    return reply;
  });
  auto client = ClientFor(server);
  auto stopped =
      client->Download("/snapshot", [](std::string_view) { return NoSpace("disk full"); });
  EXPECT_EQ(stopped.status().code(), StatusCode::kNoSpace);
  std::string got;
  auto cut = client->Download("/snapshot", [&](std::string_view piece) {
    got.append(piece);
    return Status::Ok();
  });
  EXPECT_EQ(cut.status().code(), StatusCode::kUnavailable) << cut.status().ToString();
}

}  // namespace
}  // namespace nds::client
