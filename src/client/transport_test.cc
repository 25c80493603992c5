// Goal: the transport's failover, retry and connection rules (transport.h) hold: a refused
// server is skipped, only idempotent calls are retried after they may have arrived, 503 retries
// are bounded, one keep-alive connection is reused, and a silent server gives kTimeout.
// Method: scripted fake servers on 127.0.0.1 that count connections and requests; closed ports
// for refused connections; short timeouts against a server that never answers (the assertions
// are on outcomes and counts, never on elapsed time).
#include "client/transport.h"

#include <atomic>

#include <gtest/gtest.h>

#include "client/client.h"
#include "client/fake_http_server.h"

namespace nds::client {
namespace {

using testing::ClosedPort;
using testing::FakeHttpServer;
using testing::FakeReply;
using testing::RecordedRequest;

ClientOptions OptionsFor(std::vector<ServerAddress> servers) {
  ClientOptions options;
  options.servers = std::move(servers);
  options.retry_delay_max = std::chrono::milliseconds(0);
  options.request_timeout = std::chrono::milliseconds(300);
  return options;
}

FakeReply Ok(std::string body = "ok") { return FakeReply::Status(200, std::move(body)); }

FakeReply Unavailable503() {
  return FakeReply::Status(503, R"({"error":"unavailable","message":"no quorum"})")
      .With("Retry-After", "1");
}

TEST(TransportFailover, SkipsAServerThatRefusesConnectionsForAnyMethod) {
  FakeHttpServer second(
      [](const RecordedRequest&) { return FakeReply::Status(201).With("X-Revision", "4"); });
  const ServerAddress dead{"127.0.0.1", ClosedPort()};
  auto client = Client::Create(OptionsFor({dead, second.address()})).value();
  // A POST may go to the next server: nothing was sent to the refusing one.
  EXPECT_EQ(client->Create("k", "v").value(), 4u);
  EXPECT_EQ(second.requests().size(), 1u);
  EXPECT_EQ(client->current_server(), second.address());
}

TEST(TransportFailover, NoReachableServerIsUnavailableNamingIt) {
  const ServerAddress dead{"127.0.0.1", ClosedPort()};
  auto client = Client::Create(OptionsFor({dead})).value();
  const Status s = client->Get("k").status();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), fmt::format("cannot reach {} (connection refused)", dead.ToString()));
}

TEST(TransportFailover, EveryServerDownListsThemAll) {
  const ServerAddress a{"127.0.0.1", ClosedPort()};
  const ServerAddress b{"127.0.0.1", ClosedPort()};
  auto client = Client::Create(OptionsFor({a, b})).value();
  const Status s = client->Create("k", "v").status();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_TRUE(
      s.message().starts_with(fmt::format("cannot reach any of {},{}", a.ToString(), b.ToString())))
      << s.message();
}

TEST(TransportFailover, UnresolvableHostIsUnavailable) {
  auto client = Client::Create(OptionsFor({{"no-such-host.invalid", 7777}})).value();
  const Status s = client->Get("k").status();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_TRUE(s.message().starts_with("cannot reach no-such-host.invalid:7777 (")) << s.message();
}

TEST(TransportRetry, GetOn503IsRetriedOnTheNextServer) {
  FakeHttpServer first([](const RecordedRequest&) { return Unavailable503(); });
  FakeHttpServer second([](const RecordedRequest&) { return Ok("value"); });
  auto client = Client::Create(OptionsFor({first.address(), second.address()})).value();
  EXPECT_EQ(client->Get("k").value().value, "value");
  EXPECT_EQ(first.requests().size(), 1u);
  EXPECT_EQ(second.requests().size(), 1u);
}

TEST(TransportRetry, GetOn503IsRetriedAtMostAttemptsMaxTimes) {
  FakeHttpServer server([](const RecordedRequest&) { return Unavailable503(); });
  ClientOptions options = OptionsFor({server.address()});
  options.attempts_max = 3;
  auto client = Client::Create(options).value();
  EXPECT_EQ(client->Get("k").status(), Unavailable("no quorum"));
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(TransportRetry, RetriesStopAtTheRetryDeadline) {
  FakeHttpServer server([](const RecordedRequest&) { return Unavailable503(); });
  ClientOptions options = OptionsFor({server.address()});
  options.attempts_max = 100;
  options.retry_deadline = std::chrono::milliseconds(0);
  auto client = Client::Create(options).value();
  EXPECT_EQ(client->Get("k").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(TransportRetry, PostAndConditionalWritesAreNeverRetriedOn503) {
  FakeHttpServer first([](const RecordedRequest&) { return Unavailable503(); });
  FakeHttpServer second([](const RecordedRequest&) { return FakeReply::Status(201); });
  auto client = Client::Create(OptionsFor({first.address(), second.address()})).value();
  EXPECT_EQ(client->Create("k", "v").status(), Unavailable("no quorum"));
  PutOptions cas;
  cas.if_match_revision = 3;
  EXPECT_EQ(client->Put("k", "v", cas).status(), Unavailable("no quorum"));
  EXPECT_EQ(client->Delete("k", 3).status(), Unavailable("no quorum"));
  EXPECT_EQ(client->StoreSecret("s", "p").status(), Unavailable("no quorum"));
  EXPECT_EQ(first.requests().size(), 4u);
  EXPECT_EQ(second.requests().size(), 0u);
}

TEST(TransportRetry, PostIsNotRetriedWhenTheConnectionDropsAfterSending) {
  FakeHttpServer first(
      [](const RecordedRequest&) { return FakeReply::Of(FakeReply::Action::kCloseWithoutReply); });
  FakeHttpServer second([](const RecordedRequest&) { return FakeReply::Status(201); });
  auto client = Client::Create(OptionsFor({first.address(), second.address()})).value();
  const Status s = client->Create("k", "v").status();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("may or may not have taken effect"), std::string::npos);
  EXPECT_EQ(first.requests().size(), 1u);
  EXPECT_EQ(second.requests().size(), 0u);
}

TEST(TransportRetry, GetIsRetriedElsewhereWhenTheConnectionDrops) {
  FakeHttpServer first(
      [](const RecordedRequest&) { return FakeReply::Of(FakeReply::Action::kCloseWithoutReply); });
  FakeHttpServer second([](const RecordedRequest&) { return Ok("v"); });
  auto client = Client::Create(OptionsFor({first.address(), second.address()})).value();
  EXPECT_EQ(client->Get("k").value().value, "v");
  EXPECT_EQ(first.requests().size(), 1u);
  EXPECT_EQ(second.requests().size(), 1u);
}

TEST(TransportKeepAlive, OneConnectionServesManyCalls) {
  FakeHttpServer server([](const RecordedRequest&) { return Ok(); });
  auto client = Client::Create(OptionsFor({server.address()})).value();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client->KvGet("k").ok());
  ASSERT_TRUE(client->Put("k", "v").ok());
  EXPECT_EQ(server.requests().size(), 6u);
  EXPECT_EQ(server.connections_accepted(), 1u);
}

TEST(TransportKeepAlive, ConnectionCloseHeaderMakesTheNextCallReconnect) {
  FakeHttpServer server([](const RecordedRequest&) { return Ok().With("Connection", "close"); });
  auto client = Client::Create(OptionsFor({server.address()})).value();
  ASSERT_TRUE(client->KvGet("a").ok());
  ASSERT_TRUE(client->KvGet("b").ok());
  EXPECT_EQ(server.connections_accepted(), 2u);
}

TEST(TransportKeepAlive, AnIdleConnectionTheServerClosedIsReplacedBeforeAPost) {
  std::atomic<int> calls{0};
  FakeHttpServer server([&calls](const RecordedRequest&) {
    FakeReply reply = FakeReply::Status(201);
    reply.close_after = calls.fetch_add(1) == 0;  // the first reply's connection is then closed
    return reply;
  });
  auto client = Client::Create(OptionsFor({server.address()})).value();
  ASSERT_TRUE(client->Create("a", "1").ok());
  server.WaitForServerClosed(1);
  // A POST on the dead connection could not be retried safely; it must go on a fresh one.
  ASSERT_TRUE(client->Create("b", "2").ok());
  EXPECT_EQ(server.connections_accepted(), 2u);
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST(TransportTimeout, ASilentServerGivesTimeoutAndPostIsNotRetried) {
  FakeHttpServer silent(
      [](const RecordedRequest&) { return FakeReply::Of(FakeReply::Action::kNeverReply); });
  ClientOptions options = OptionsFor({silent.address()});
  options.request_timeout = std::chrono::milliseconds(100);
  auto client = Client::Create(options).value();
  const Status s = client->Create("k", "v").status();
  EXPECT_EQ(s.code(), StatusCode::kTimeout);
  EXPECT_NE(s.message().find("may or may not have taken effect"), std::string::npos);
  EXPECT_EQ(silent.requests().size(), 1u);
}

TEST(TransportTimeout, AGetThatTimesOutFailsOverToTheNextServer) {
  FakeHttpServer silent(
      [](const RecordedRequest&) { return FakeReply::Of(FakeReply::Action::kNeverReply); });
  FakeHttpServer live([](const RecordedRequest&) { return Ok("v"); });
  ClientOptions options = OptionsFor({silent.address(), live.address()});
  options.request_timeout = std::chrono::milliseconds(100);
  auto client = Client::Create(options).value();
  EXPECT_EQ(client->Get("k").value().value, "v");
  EXPECT_EQ(silent.requests().size(), 1u);
  // The client now stays with the server that answered.
  EXPECT_EQ(client->Get("k").value().value, "v");
  EXPECT_EQ(silent.requests().size(), 1u);
  EXPECT_EQ(live.connections_accepted(), 1u);
}

TEST(TransportTimeout, ATimedOutGetOnTheOnlyServerIsBoundedByAttempts) {
  FakeHttpServer silent(
      [](const RecordedRequest&) { return FakeReply::Of(FakeReply::Action::kNeverReply); });
  ClientOptions options = OptionsFor({silent.address()});
  options.request_timeout = std::chrono::milliseconds(50);
  options.attempts_max = 2;
  auto client = Client::Create(options).value();
  EXPECT_EQ(client->Get("k").status().code(), StatusCode::kTimeout);
  EXPECT_EQ(silent.requests().size(), 2u);
  EXPECT_EQ(silent.connections_accepted(), 2u);
}

}  // namespace
}  // namespace nds::client
