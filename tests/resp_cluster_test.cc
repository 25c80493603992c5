// Goal: the RESP front of real `nds start --resp` processes works with the clients people use:
// redis-cli, redis-benchmark (a short, bounded run) and redis-py, on a 3-node cluster, through
// the leader and through a follower (writes forwarded as HTTP's are), and a key written over
// RESP reads back over /store/ and the other way round.
// Method: FastClusterTest (launcher::LocalCluster) on 127.0.0.1 with a --resp port per node; the
// Redis tools run under `timeout` with their output captured; nds::Client for the HTTP side. A tool
// that is not installed skips its test (scripts/install-deps installs them). Every wait is bounded.
#include <array>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <sys/wait.h>

#include "client/client.h"
#include "harness/fast_cluster.h"
#include "harness/nds_process.h"
#include "harness/run_bounded.h"
#include "launcher/local_cluster.h"
#include "net/loopback_port.h"

namespace nds::test {
namespace {

using std::chrono::seconds;

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

class RespClusterTest : public FastClusterTest {
 protected:
  void SetUp() override {
    std::vector<std::vector<std::string>> node_args;
    for (size_t i = 0; i < 3; ++i) {
      resp_ports_.push_back(net::FreePort());
      node_args.push_back({"--resp", "127.0.0.1:" + std::to_string(resp_ports_[i])});
    }
    ASSERT_NO_FATAL_FAILURE(
        StartCluster(3, {"--resp-max-command-bytes", "2097152"}, std::move(node_args)));
    auto goose = cluster_->WaitForGoose(kElectionBound);
    ASSERT_TRUE(goose.ok()) << goose.status().ToString();
    leader_ = *goose;
    follower_ = (leader_ + 1) % 3;
  }

  std::string Cli(size_t node, const std::string& args) {
    return Trim(
        RunBounded("redis-cli -h 127.0.0.1 -p " + std::to_string(resp_ports_[node]) + " " + args)
            .text);
  }
  std::vector<uint16_t> resp_ports_;
  size_t leader_ = 0;
  size_t follower_ = 1;
};

TEST_F(RespClusterTest, RedisCliWorksThroughLeaderAndFollowerAndAcrossProtocols) {
  if (!HaveTool("redis-cli")) GTEST_SKIP() << "redis-cli is not installed (redis-tools)";
  EXPECT_EQ(Cli(follower_, "PING"), "PONG");
  EXPECT_EQ(Cli(follower_, "SET greeting hello"), "OK");  // forwarded to the leader
  EXPECT_EQ(Cli(leader_, "GET greeting"), "hello");
  EXPECT_EQ(Cli(follower_, "INCRBY counter 5"), "5");
  EXPECT_EQ(Cli(leader_, "INCR counter"), "6");
  EXPECT_EQ(Cli(follower_, "MSET a 1 b 2"), "OK");
  EXPECT_EQ(Cli(leader_, "MGET a b"), "1\n2");
  EXPECT_EQ(Cli(follower_, "APPEND greeting !"), "6");
  EXPECT_EQ(Cli(leader_, "DBSIZE"), "4");
  EXPECT_EQ(Cli(follower_, "SET a x NX"), "");  // nil prints as an empty line when piped
  EXPECT_EQ(Cli(follower_, "EXISTS a b nope"), "2");
  EXPECT_NE(Cli(follower_, "LPUSH l x").find("unknown command"), std::string::npos);

  // RESP -> HTTP, on the third node.
  size_t third = 3 - leader_ - follower_;
  Client* http = &On(third);
  auto blob = http->Get("greeting");
  ASSERT_TRUE(blob.ok()) << blob.status().ToString();
  EXPECT_EQ(blob->value, "hello!");
  // HTTP -> RESP.
  ASSERT_TRUE(http->Put("from-http", "blob bytes").ok());
  EXPECT_EQ(Cli(follower_, "GET from-http"), "blob bytes");
  EXPECT_EQ(Cli(follower_, "DEL from-http a"), "2");
  EXPECT_EQ(http->Get("from-http").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Cli(leader_, "--scan --pattern 'b*'"), "b");
  EXPECT_EQ(Cli(follower_, "FLUSHALL"), "OK");
  EXPECT_EQ(http->Get("greeting").status().code(), StatusCode::kNotFound);
}

TEST_F(RespClusterTest, ExpiringKeysGoOnEveryNodeAlsoAfterALeaderChange) {
  if (!HaveTool("redis-cli")) GTEST_SKIP() << "redis-cli is not installed (redis-tools)";
  using Clock = std::chrono::steady_clock;
  const size_t third = 3 - leader_ - follower_;
  EXPECT_EQ(Cli(follower_, "SET short v PX 1500"), "OK");
  EXPECT_EQ(Cli(follower_, "SET kept v EX 2"), "OK");
  EXPECT_EQ(Cli(leader_, "PERSIST kept"), "1");
  EXPECT_EQ(Cli(third, "TTL kept"), "-1");
  const long pttl = std::stol(Cli(third, "PTTL short"));
  EXPECT_GT(pttl, 0);
  EXPECT_LE(pttl, 1500);
  // Gone on every node, by a log entry: once one node reads it absent, all do after it.
  const auto deadline = Clock::now() + seconds(30);
  while (Cli(follower_, "EXISTS short") != "0" && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (size_t n = 0; n < 3; ++n) EXPECT_EQ(Cli(n, "EXISTS short"), "0") << "node " << n;
  EXPECT_EQ(Cli(leader_, "TTL short"), "-2");

  // A leader change restarts the clocks: the key lives at least its TTL, then goes.
  EXPECT_EQ(Cli(follower_, "SET failover v EX 3"), "OK");
  const auto set_at = Clock::now();
  ASSERT_TRUE(cluster_->Kill(leader_).ok());
  const auto gone_by = Clock::now() + seconds(40);
  bool gone = false;
  while (!gone && Clock::now() < gone_by) {
    std::string exists = Cli(follower_, "EXISTS failover");
    if (exists == "0") {
      EXPECT_GE(Clock::now() - set_at, seconds(3)) << "the key expired early";
      gone = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(gone) << "the key never expired after the leader change";
  EXPECT_EQ(Cli(third, "EXISTS failover"), "0");
  EXPECT_EQ(Cli(third, "GET kept"), "v");
}

TEST_F(RespClusterTest, RedisBenchmarkRunsToTheEndAgainstAFollower) {
  if (!HaveTool("redis-benchmark")) GTEST_SKIP() << "redis-benchmark is not installed";
  Output out =
      RunBounded("redis-benchmark -h 127.0.0.1 -p " + std::to_string(resp_ports_[follower_]) +
                     " -t set,get,incr,mset -n 2000 -c 8 -d 100 -P 4 -q",
                 120);
  ASSERT_EQ(out.exit_code, 0) << out.text;
  for (const char* test : {"SET: ", "GET: ", "INCR: ", "MSET (10 keys): "}) {
    EXPECT_NE(out.text.find(test), std::string::npos) << test << " missing in\n" << out.text;
  }
  EXPECT_EQ(out.text.find("ERR"), std::string::npos) << out.text;
  // Every INCR of the run was applied once: the counter is the request count.
  EXPECT_EQ(Cli(leader_, "GET counter:__rand_int__"), "2000");
}

TEST_F(RespClusterTest, PythonRedisClientWorksThroughAFollower) {
  // Debian's interpreter, which python3-redis installs into (a python3 earlier on PATH, such as
  // pyenv's, may not have it).
  const std::string python = "/usr/bin/python3";
  if (RunBounded(python + " -c 'import redis'", 20).exit_code != 0) {
    GTEST_SKIP() << "python3-redis is not installed";
  }
  Output out = RunBounded(python + " " + NDS_SOURCE_DIR + "/tests/resp/client_check.py " +
                              std::to_string(resp_ports_[leader_]) + " " +
                              std::to_string(resp_ports_[follower_]),
                          120);
  EXPECT_EQ(out.exit_code, 0) << out.text;
  EXPECT_NE(out.text.find("redis-py: ok"), std::string::npos) << out.text;
}

}  // namespace
}  // namespace nds::test
