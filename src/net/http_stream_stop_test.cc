// Goal: streamed answers, Responder lifetimes and graceful Stop keep their contract (http.h):
// a 50 MB stream arrives whole while the server pulls only a bounded amount ahead of what the
// client has read; a stream error cuts the answer off; a Responder called after the client left
// or after the server is gone does nothing; Stop lets in-flight requests finish within its grace
// and closes the rest. Method: a real server on 127.0.0.1 port 0, raw TCP clients, and handlers
// that hold Responders so the test decides when each answer completes.
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "net/http.h"
#include "net/http_test_client.h"

namespace nds::net {
namespace {

using std::chrono::milliseconds;
using testing::RawClient;
using testing::Reply;
using testing::TestHandler;

std::unique_ptr<HttpServer> StartOrDie(TestHandler* handler, HttpServerOptions options = {}) {
  auto started = testing::StartLoopbackServer(handler, std::move(options));
  NDS_CHECK(started.ok(), "{}", started.status().ToString());
  return std::move(started).value();
}

// Makes `handler` answer every request with a streamed body: `pull(n, out)` appends the n-th chunk
// of that answer (n from 1) and says whether more follows, or fails the stream.
void AnswerWithStream(TestHandler* handler,
                      const std::function<Result<bool>(int n, std::string* out)>& pull,
                      uint64_t head_content_length = 0) {
  handler->set_behaviour([pull, head_content_length](const HttpRequest&, const Responder& respond) {
    auto calls = std::make_shared<int>(0);
    HttpResponse response;
    if (head_content_length != 0) response.head_content_length = head_content_length;
    response.stream = [pull, calls](std::string* out) { return pull(++*calls, out); };
    respond(std::move(response));
  });
}

// Byte `i` of the generated stream.
char StreamByte(uint64_t i) { return static_cast<char>('a' + i % 23); }

TEST(HttpStream, FiftyMegabytesArriveWholeWithBoundedReadAhead) {
  constexpr uint64_t kTotalBytes = 50ull << 20;
  constexpr size_t kChunkBytes = 64 << 10;
  // The server may be ahead of the client by what the kernel buffers on both sides (the
  // client's receive buffer is set small; the server's send buffer autotunes up to
  // net.ipv4.tcp_wmem's 4 MiB maximum) plus a few chunks. Buffering the stream would put it
  // tens of megabytes ahead.
  constexpr int64_t kAheadBytesMax = 8 << 20;
  std::atomic<uint64_t> received{0};
  std::atomic<int64_t> ahead_max{0};
  std::atomic<int> pulls_after_end{0};

  TestHandler handler;
  handler.set_behaviour([&](const HttpRequest&, const Responder& respond) {
    auto pulled = std::make_shared<uint64_t>(0);
    HttpResponse response;
    response.SetHeader("Content-Type", "application/octet-stream");
    response.stream = [&, pulled](std::string* out) -> Result<bool> {
      if (*pulled >= kTotalBytes) ++pulls_after_end;
      const uint64_t n = std::min<uint64_t>(kChunkBytes, kTotalBytes - *pulled);
      out->reserve(out->size() + n);
      for (uint64_t i = 0; i < n; ++i) out->push_back(StreamByte(*pulled + i));
      *pulled += n;
      const int64_t ahead = static_cast<int64_t>(*pulled) - static_cast<int64_t>(received.load());
      int64_t seen = ahead_max.load();
      while (ahead > seen && !ahead_max.compare_exchange_weak(seen, ahead)) {
      }
      return *pulled < kTotalBytes;
    };
    respond(std::move(response));
  });
  auto server = StartOrDie(&handler);
  RawClient client(server->port(), /*receive_buffer_bytes=*/64 << 10);
  ASSERT_FALSE(client.Send("GET /stream HTTP/1.1\r\n\r\n"));
  Reply head;
  uint64_t mismatches = 0;
  auto ec = client.ReadStreamed(&head, [&](std::string_view data) {
    const uint64_t at = received.load();
    for (size_t i = 0; i < data.size(); ++i) {
      if (data[i] != StreamByte(at + i)) ++mismatches;
    }
    received += data.size();
  });
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("Transfer-Encoding"), "chunked");
  EXPECT_EQ(received.load(), kTotalBytes);
  EXPECT_EQ(mismatches, 0u);
  EXPECT_LE(ahead_max.load(), kAheadBytesMax);
  EXPECT_EQ(pulls_after_end.load(), 0);

  // The connection is still usable after the stream's terminating chunk.
  handler.set_behaviour(nullptr);
  ASSERT_FALSE(client.Send("GET /after HTTP/1.1\r\n\r\n"));
  Reply after = client.Read();
  ASSERT_TRUE(after.ok()) << after.error.message();
  EXPECT_EQ(after.Header("X-Target"), "/after");
  server->Stop(milliseconds(1000));
}

TEST(HttpStream, StreamErrorCutsTheAnswerOffWithoutTheLastChunk) {
  TestHandler handler;
  AnswerWithStream(&handler, [](int n, std::string* out) -> Result<bool> {
    if (n > 2) return IoError("disk read failed at offset 2048");
    out->append(1024, 'z');
    return true;
  });
  auto server = StartOrDie(&handler);
  RawClient client(server->port());
  ASSERT_FALSE(client.Send("GET /s HTTP/1.1\r\n\r\n"));
  Reply head;
  uint64_t bytes = 0;
  auto ec = client.ReadStreamed(&head, [&](std::string_view data) { bytes += data.size(); });
  EXPECT_TRUE(ec) << "a complete answer arrived despite the stream's error";
  EXPECT_EQ(bytes, 2048u);
  server->Stop(milliseconds(1000));
}

TEST(HttpStream, HeadOfAStreamedAnswerSendsNoBody) {
  TestHandler handler;
  std::atomic<int> pulls{0};
  AnswerWithStream(
      &handler,
      [&pulls](int, std::string* out) -> Result<bool> {
        ++pulls;
        out->append("x");
        return false;
      },
      /*head_content_length=*/777);
  auto server = StartOrDie(&handler);
  RawClient client(server->port());
  ASSERT_FALSE(client.Send("HEAD /s HTTP/1.1\r\n\r\nHEAD /s HTTP/1.1\r\n\r\n"));
  for (int i = 0; i < 2; ++i) {
    Reply reply = client.Read(/*head_request=*/true);
    ASSERT_TRUE(reply.ok());
    EXPECT_EQ(reply.Header("Content-Length"), "777");
  }
  EXPECT_EQ(pulls.load(), 0);
  server->Stop(milliseconds(1000));
}

TEST(HttpStream, Http10ClientGetsTheStreamUntilClose) {
  TestHandler handler;
  AnswerWithStream(&handler, [](int n, std::string* out) -> Result<bool> {
    out->append("part");
    return n < 3;
  });
  auto server = StartOrDie(&handler);
  RawClient client(server->port());
  ASSERT_FALSE(client.Send("GET /s HTTP/1.0\r\n\r\n"));
  Reply reply = client.Read();
  ASSERT_TRUE(reply.ok()) << reply.error.message();
  EXPECT_EQ(reply.body, "partpartpart");
  EXPECT_EQ(reply.Header("Transfer-Encoding"), "");
  server->Stop(milliseconds(1000));
}

// Holds every Responder it is given, so the test completes requests when it chooses.
class HoldingHandler {
 public:
  explicit HoldingHandler(TestHandler* handler) {
    handler->set_behaviour([this](const HttpRequest&, Responder respond) {
      std::lock_guard<std::mutex> lock(mu_);
      held_.push_back(std::move(respond));
    });
  }
  Responder Take(size_t i) {
    std::lock_guard<std::mutex> lock(mu_);
    return held_.at(i);
  }

 private:
  std::mutex mu_;
  std::vector<Responder> held_;
};

TEST(HttpResponder, CalledAfterTheClientLeftDoesNothingHarmful) {
  TestHandler handler;
  HoldingHandler holding(&handler);
  auto server = StartOrDie(&handler);
  {
    RawClient client(server->port());
    ASSERT_FALSE(client.Send("GET /gone HTTP/1.1\r\n\r\n"));
    ASSERT_TRUE(handler.WaitCalls(1));
    client.Close();
  }
  Responder respond = holding.Take(0);
  HttpResponse response;
  response.body = std::string(1 << 20, 'r');
  respond(response);
  respond(response);  // a second call is ignored too
  // The server still serves.
  handler.set_behaviour(nullptr);
  RawClient next(server->port());
  ASSERT_FALSE(next.Send("GET /next HTTP/1.1\r\n\r\n"));
  EXPECT_TRUE(next.Read().ok());
  server->Stop(milliseconds(1000));
}

TEST(HttpResponder, CalledAfterTheServerIsDestroyedDoesNothing) {
  TestHandler handler;
  HoldingHandler holding(&handler);
  auto server = StartOrDie(&handler);
  RawClient client(server->port());
  ASSERT_FALSE(client.Send("GET /late HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(handler.WaitCalls(1));
  Responder respond = holding.Take(0);
  server->Stop(milliseconds(0));
  server.reset();
  respond(HttpResponse{});
  EXPECT_TRUE(client.WaitClosed());
}

// True once a connect to `port` is refused (the acceptor is closed). Bounded.
bool WaitUntilRefused(uint16_t port) {
  for (int i = 0; i < 2000; ++i) {
    RawClient probe(port);
    if (probe.connect_error()) return true;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return false;
}

TEST(HttpStop, LetsAnInFlightRequestFinishWithinTheGrace) {
  TestHandler handler;
  HoldingHandler holding(&handler);
  auto server = StartOrDie(&handler);
  RawClient client(server->port());
  RawClient idle(server->port());
  ASSERT_FALSE(client.Send("PUT /inflight HTTP/1.1\r\nContent-Length: 1\r\n\r\nx"));
  ASSERT_TRUE(handler.WaitCalls(1));
  const uint16_t port = server->port();
  std::thread stopper([&] { server->Stop(milliseconds(20'000)); });
  ASSERT_TRUE(WaitUntilRefused(port));
  EXPECT_TRUE(idle.WaitClosed());  // an idle connection closes at once
  HttpResponse response;
  response.status = 201;
  holding.Take(0)(std::move(response));
  Reply reply = client.Read();
  ASSERT_TRUE(reply.ok()) << reply.error.message();
  EXPECT_EQ(reply.status, 201);
  EXPECT_TRUE(client.WaitClosed());
  stopper.join();
  server->Stop(milliseconds(0));  // idempotent
}

TEST(HttpStop, ClosesConnectionsStillBusyWhenTheGraceEnds) {
  TestHandler handler;
  HoldingHandler holding(&handler);
  auto server = StartOrDie(&handler);
  RawClient client(server->port());
  ASSERT_FALSE(client.Send("GET /never HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(handler.WaitCalls(1));
  server->Stop(milliseconds(100));
  EXPECT_TRUE(client.WaitClosed());
  holding.Take(0)(HttpResponse{});  // after Stop: nothing happens
}

TEST(HttpStop, FromAnotherThreadWhileClientsHammerTheServer) {
  TestHandler handler;
  auto server = StartOrDie(&handler);
  const uint16_t port = server->port();
  std::atomic<bool> stop_clients{false};
  std::vector<std::thread> clients;
  clients.reserve(4);
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, port] {
      for (int round = 0; round < 50 && !stop_clients; ++round) {
        RawClient client(port);
        if (client.connect_error()) return;
        for (int i = 0; i < 20; ++i) {
          if (client.Send("GET /h HTTP/1.1\r\n\r\n")) break;
          if (!client.Read().ok()) break;
        }
      }
    });
  }
  ASSERT_TRUE(handler.WaitCalls(50));
  std::thread stopper([&] { server->Stop(milliseconds(500)); });
  stopper.join();
  stop_clients = true;
  for (auto& t : clients) t.join();
  server->Stop(milliseconds(0));
}

}  // namespace
}  // namespace nds::net
