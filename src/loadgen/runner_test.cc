// Goal: a bench run sends exactly the operations it reports, in the right protocol, and counts
// failures by kind with every loop bounded (timeouts, refused connects, servers that close).
// Method: run RunBench against the in-test HTTP server (test_http_server.h) with handlers that
// answer as nds or etcd would, or fail in one specific way; compare the run's counts with the
// number of requests the server received. Runs are bounded by an op count, except one ~1 s
// duration run; no assertion depends on timing.
#include "loadgen/runner.h"

#include <atomic>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "loadgen/test_http_server.h"

namespace nds::loadgen {
namespace {

std::string Reply(int code, std::string_view extra_headers = "", std::string_view body = "") {
  return fmt::format("HTTP/1.1 {} X\r\n{}Content-Length: {}\r\n\r\n{}", code, extra_headers,
                     body.size(), body);
}

// Answers like nds: PUT 204, GET 200 with a chunked body and an ETag.
std::optional<std::string> NdsLike(const TestRequest& r) {
  if (r.method == "PUT") return Reply(204, "X-Revision: 5\r\n");
  if (r.method == "GET") {
    return std::string(
        "HTTP/1.1 200 OK\r\nETag: \"5\"\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  }
  return Reply(405);
}

BenchOptions Options(const TestHttpServer& server) {
  BenchOptions o;
  o.servers = *client::ParseServerList(server.address());
  o.connections = 4;
  o.threads = 2;
  o.key_count = 20;
  o.value_bytes = 100;
  return o;
}

TEST(Runner, PutRunSendsExactlyTheCountedOperations) {
  TestHttpServer server(NdsLike);
  BenchOptions o = Options(server);
  o.op_count = 300;
  Result<BenchResult> r = RunBench(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  server.Stop();
  EXPECT_EQ(r->ops_ok, 300u);
  EXPECT_EQ(r->writes_ok, 300u);
  EXPECT_EQ(r->errors.Total(), 0u);
  EXPECT_EQ(r->latency_ns.count(), 300u);
  EXPECT_EQ(server.requests(), 300u);
  const TestRequest first = server.first_requests().at(0);
  EXPECT_EQ(first.method, "PUT");
  EXPECT_TRUE(first.target.starts_with("/store/bench/")) << first.target;
  EXPECT_EQ(first.body.size(), 100u);
}

TEST(Runner, DurationRunCountsMatchTheServerAndReadsSeeChunkedReplies) {
  TestHttpServer server(NdsLike);
  BenchOptions o = Options(server);
  o.workload = Workload::kMixed;
  o.duration = std::chrono::seconds(1);
  Result<BenchResult> r = RunBench(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  server.Stop();
  EXPECT_EQ(r->preload_ops, o.key_count);
  EXPECT_GT(r->reads_ok, 0u);
  EXPECT_GT(r->writes_ok, 0u);
  EXPECT_EQ(r->errors.Total(), 0u);
  EXPECT_EQ(server.requests(), r->preload_ops + r->ops_ok);
}

TEST(Runner, EtcdTargetSpeaksTheJsonGateway) {
  std::atomic<uint64_t> puts{0}, ranges{0}, others{0};
  TestHttpServer server([&](const TestRequest& r) -> std::optional<std::string> {
    if (r.method == "POST" && r.target == "/v3/kv/put" && r.body.starts_with("{\"key\":\"")) {
      ++puts;
    } else if (r.method == "POST" && r.target == "/v3/kv/range") {
      ++ranges;
    } else {
      ++others;
    }
    return Reply(200, "Content-Type: application/json\r\n", R"({"header":{}})");
  });
  BenchOptions o = Options(server);
  o.target = Target::kEtcd;
  o.workload = Workload::kMixed;
  o.op_count = 200;
  Result<BenchResult> r = RunBench(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  server.Stop();
  EXPECT_EQ(r->ops_ok, 200u);
  EXPECT_EQ(others.load(), 0u);
  EXPECT_EQ(puts.load(), o.key_count + r->writes_ok);
  EXPECT_EQ(ranges.load(), r->reads_ok);
}

TEST(Runner, CasReadsThenWritesWithIfMatchAndCountsConflicts) {
  std::atomic<uint64_t> conditional_puts{0};
  TestHttpServer server([&](const TestRequest& r) -> std::optional<std::string> {
    if (r.method == "GET") return Reply(200, "ETag: \"5\"\r\n", "v");
    if (r.headers.count("if-match") == 0) return Reply(204);  // the preload
    EXPECT_EQ(r.headers.at("if-match"), "\"5\"");
    return ++conditional_puts % 2 == 0 ? Reply(412) : Reply(204);
  });
  BenchOptions o = Options(server);
  o.workload = Workload::kCas;
  o.connections = 1;
  o.threads = 1;
  o.op_count = 100;
  Result<BenchResult> r = RunBench(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  server.Stop();
  EXPECT_EQ(r->ops_ok, 50u);
  EXPECT_EQ(r->cas_conflicts, 50u);
  EXPECT_EQ(r->errors.Total(), 0u);
  EXPECT_EQ(server.requests(), o.key_count + 200);
}

TEST(Runner, HttpErrorsAreCountedByStatusClass) {
  std::atomic<uint64_t> n{0};
  TestHttpServer server([&](const TestRequest&) -> std::optional<std::string> {
    return ++n % 3 == 0 ? Reply(503, "Retry-After: 1\r\n") : Reply(400);
  });
  BenchOptions o = Options(server);
  o.op_count = 90;
  Result<BenchResult> r = RunBench(o);
  ASSERT_TRUE(r.ok());
  server.Stop();
  EXPECT_EQ(r->ops_ok, 0u);
  EXPECT_EQ(r->errors.http_5xx, 30u);
  EXPECT_EQ(r->errors.http_4xx, 60u);
  EXPECT_EQ(r->errors.connect, 0u);
}

TEST(Runner, ServerThatClosesEachConnectionIsFollowedByReconnects) {
  TestHttpServer server([](const TestRequest&) -> std::optional<std::string> {
    return Reply(204, "Connection: close\r\n");
  });
  BenchOptions o = Options(server);
  o.op_count = 50;
  Result<BenchResult> r = RunBench(o);
  ASSERT_TRUE(r.ok());
  server.Stop();
  EXPECT_EQ(r->ops_ok, 50u);
  EXPECT_EQ(r->errors.Total(), 0u);
  EXPECT_EQ(server.requests(), 50u);
}

TEST(Runner, SilentServerGivesTimeoutsNotAHang) {
  TestHttpServer server(
      [](const TestRequest&) -> std::optional<std::string> { return std::nullopt; });
  BenchOptions o = Options(server);
  o.connections = 1;
  o.threads = 1;
  o.op_count = 3;
  o.request_timeout = std::chrono::milliseconds(50);
  Result<BenchResult> r = RunBench(o);
  ASSERT_TRUE(r.ok());
  server.Stop();
  EXPECT_EQ(r->errors.timeout, 3u);
  EXPECT_EQ(r->ops_ok, 0u);
}

TEST(Runner, RefusedConnectionsGiveUpAfterBoundedRetries) {
  uint16_t port = 0;
  {
    TestHttpServer closed(NdsLike);  // a port that was free a moment ago and is closed again
    port = closed.port();
  }
  BenchOptions o;
  o.servers = {client::ServerAddress{"127.0.0.1", port}};
  o.connections = 2;
  o.threads = 1;
  o.op_count = 10;
  o.reconnects_max = 2;
  Result<BenchResult> r = RunBench(o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->connections_given_up, 2u);
  EXPECT_EQ(r->errors.connect, 6u);  // each connection: 1 + 2 retries
  EXPECT_EQ(r->errors.FailedOps(), 0u);
  EXPECT_EQ(r->ops_ok, 0u);
}

TEST(Runner, OpenLoopRunsTheScheduledOperations) {
  TestHttpServer server(NdsLike);
  BenchOptions o = Options(server);
  o.workload = Workload::kGet;
  o.rate_per_second = 1000;
  o.op_count = 100;
  Result<BenchResult> r = RunBench(o);
  ASSERT_TRUE(r.ok());
  server.Stop();
  EXPECT_EQ(r->reads_ok, 100u);
  EXPECT_EQ(server.requests(), o.key_count + 100);
}

TEST(Runner, InvalidOptionsAreRefusedBeforeAnyConnection) {
  BenchOptions o;
  o.servers = {client::ServerAddress{"127.0.0.1", 1}};
  Result<BenchResult> r = RunBench(o);  // neither duration nor op count
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace nds::loadgen
