// Goal: Client::Watch ends when its callback returns an error, on a progress line as on an
// event, instead of taking the error for a broken stream and resuming (a loop that never ended
// while each resumed stream sent a line). Method: a scripted server whose first stream sends one
// line and whose later requests get 503; the watch must end with the callback's error after one
// request. And a resumed stream whose first line is a progress line below the revision in
// progress does not make the watch deliver that revision's events twice.
#include <gtest/gtest.h>

#include "client/client.h"
#include "client/client_for_test.h"
#include "client/fake_http_server.h"

namespace nds::client {
namespace {

using testing::ClientFor;
using testing::FakeHttpServer;
using testing::FakeReply;
using testing::RecordedRequest;

// A watch of prefix p/ from revision 4.
WatchRequest FromFour() {
  WatchRequest request;
  request.prefix = "p/";
  request.from = 4;
  return request;
}

Status WatchUntilFirstLine(const std::string& first_line, size_t* requests) {
  FakeHttpServer server([&](const RecordedRequest&) {
    if (server.requests().size() > 1) return FakeReply::Status(503);
    return FakeReply::Status(200, first_line + "\n").With("Content-Type", "application/x-ndjson");
  });
  auto client = ClientFor(server);
  WatchRequest request = FromFour();
  request.progress = true;
  request.reconnects_max = 3;
  Status status = client->Watch(request, [](const WatchEvent&) { return Cancelled("enough"); });
  *requests = server.requests().size();
  return status;
}

TEST(ClientWatch, AnErrorOfTheCallbackOnAProgressLineEndsTheWatch) {
  size_t requests = 0;
  Status s = WatchUntilFirstLine(R"({"type":"progress","revision":5})", &requests);
  EXPECT_EQ(s.code(), StatusCode::kCancelled) << s.ToString();
  EXPECT_EQ(requests, 1u);
}

TEST(ClientWatch, AnErrorOfTheCallbackOnAnEventEndsTheWatch) {
  size_t requests = 0;
  Status s =
      WatchUntilFirstLine(R"({"type":"put","revision":5,"key":"cC8x","value":"dg=="})", &requests);
  EXPECT_EQ(s.code(), StatusCode::kCancelled) << s.ToString();
  EXPECT_EQ(requests, 1u);
}

TEST(ClientWatch, AResumedStreamStartingWithAnOlderProgressLineRepeatsNoEvent) {
  // Stream 1 delivers revision 5 and breaks before anything completes it; stream 2 (from 4)
  // starts with progress 4, as a node does, then sends 5 again and 6.
  const std::string five = R"({"type":"put","revision":5,"key":"cC8x","value":"dg=="})";
  const std::string six = R"({"type":"put","revision":6,"key":"cC8x","value":"dw=="})";
  FakeHttpServer server([&](const RecordedRequest&) {
    size_t n = server.requests().size();
    if (n == 1) return FakeReply::Status(200, five + "\n");
    if (n == 2) {
      return FakeReply::Status(200, R"({"type":"progress","revision":4})"
                                    "\n" +
                                        five + "\n" + six + "\n");
    }
    return FakeReply::Status(503);
  });
  auto client = ClientFor(server);
  WatchRequest request = FromFour();
  request.reconnects_max = 3;
  std::vector<uint64_t> revisions;
  Status s = client->Watch(request, [&](const WatchEvent& e) {
    revisions.push_back(e.revision);
    return e.revision == 6 ? Cancelled("enough") : Status::Ok();
  });
  EXPECT_EQ(s.code(), StatusCode::kCancelled) << s.ToString();
  EXPECT_EQ(revisions, (std::vector<uint64_t>{5, 6}));
  ASSERT_EQ(server.requests().size(), 2u);
  EXPECT_NE(server.requests()[1].target.find("from=4"), std::string::npos);
}

}  // namespace
}  // namespace nds::client
