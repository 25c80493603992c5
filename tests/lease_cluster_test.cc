// Goal: leases on a real 3-node cluster. A lease's keys never vanish before the leader could have
// watched a whole TTL without a keepalive, not even across a leader failover (with keepalives
// through a follower, in the log, or through the leader, in its memory), and are gone after;
// leases and their keys survive a restart of every node (and the snapshots taken before it); two
// `nds lock` processes on different nodes never hold the lock at once: a counter in a file that
// each increments while holding it never loses an increment, and fencing revisions only grow;
// many leases are kept alive in one request through the client library and `nds lease keepalive`.
// Method: FastClusterTest (launcher::LocalCluster) of 3 `nds start` processes on 127.0.0.1 with
// fast Raft timing; every loop is bounded in count and time.
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "client/lease.h"
#include "harness/fast_cluster.h"
#include "harness/nds_process.h"
#include "harness/run_bounded.h"
#include "launcher/local_cluster.h"

namespace nds::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

class LeaseClusterTest : public FastClusterTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(
        StartCluster(3, {"--min-lease-ttl-ms", "100", "--snapshot-entries", "16"}));
  }
};

TEST_F(LeaseClusterTest, ExpiryAcrossALeaderFailoverIsNeverEarlyAndRemovesTheKeys) {
  auto leader = cluster_->WaitForGoose(seconds(10));
  ASSERT_TRUE(leader.ok());
  const size_t follower = (*leader + 1) % 3;
  auto c = ClientFor(cluster_->node(follower).api_address());
  constexpr auto kTtl = milliseconds(8000);
  auto id = client::GrantLease(c.get(), kTtl);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(client::PutWithLease(c.get(), "svc/a", "1", *id).ok());
  ASSERT_TRUE(client::PutWithLease(c.get(), "svc/b", "2", *id).ok());
  ASSERT_TRUE(c->Put("plain", "stays").ok());
  ASSERT_TRUE(client::KeepAliveLease(c.get(), *id).ok());
  // Once the leader is gone, no node can have seen a keepalive later than this one's answer.
  const auto kill_at = Clock::now();
  ASSERT_TRUE(cluster_->Kill(*leader).ok());
  // Until a whole TTL after the kill, the keys are there whenever a read answers.
  bool gone = false;
  int reads_before_ttl = 0;
  const auto deadline = kill_at + seconds(40);
  while (!gone && Clock::now() < deadline) {
    auto blob = c->Get("svc/a");
    const auto answered = Clock::now();
    if (blob.ok()) {
      if (answered < kill_at + kTtl) ++reads_before_ttl;
    } else if (blob.status().code() == StatusCode::kNotFound) {
      ASSERT_GE(answered - kill_at, kTtl) << "the lease expired early, after the failover";
      gone = true;
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_TRUE(gone) << "the lease never expired";
  EXPECT_GT(reads_before_ttl, 0);
  EXPECT_EQ(c->Get("svc/b").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(c->Get("plain")->value, "stays");
  EXPECT_EQ(client::ShowLease(c.get(), *id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(client::KeepAliveLease(c.get(), *id).status().code(), StatusCode::kNotFound);
}

TEST_F(LeaseClusterTest, KeepalivesTheLeaderKeepsInMemoryHoldTheLeaseAlsoAcrossAFailover) {
  auto leader = cluster_->WaitForGoose(seconds(10));
  ASSERT_TRUE(leader.ok());
  const size_t follower = (*leader + 1) % 3;
  auto on_leader = ClientFor(cluster_->node(*leader).api_address());
  auto on_follower = ClientFor(cluster_->node(follower).api_address());
  constexpr auto kTtl = milliseconds(1500);
  auto id = client::GrantLease(on_leader.get(), kTtl);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(client::PutWithLease(on_leader.get(), "mem/a", "1", *id).ok());
  // Three TTLs of keepalives to the leader only (kept in its memory): the lease stays.
  const auto kept_until = Clock::now() + 3 * kTtl;
  while (Clock::now() < kept_until) {
    ASSERT_TRUE(client::KeepAliveLease(on_leader.get(), *id).ok());
    std::this_thread::sleep_for(milliseconds(250));
  }
  ASSERT_TRUE(on_follower->Get("mem/a").ok()) << "the lease expired while kept alive";
  ASSERT_TRUE(client::KeepAliveLease(on_leader.get(), *id).ok());
  const auto kill_at = Clock::now();
  ASSERT_TRUE(cluster_->Kill(*leader).ok());
  bool gone = false;
  const auto deadline = kill_at + seconds(40);
  while (!gone && Clock::now() < deadline) {
    auto blob = on_follower->Get("mem/a");
    const auto answered = Clock::now();
    if (!blob.ok() && blob.status().code() == StatusCode::kNotFound) {
      ASSERT_GE(answered - kill_at, kTtl) << "the lease expired early, after the failover";
      gone = true;
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_TRUE(gone) << "the lease never expired";
}

TEST_F(LeaseClusterTest, LeasesAndTheirKeysSurviveARestartOfEveryNode) {
  auto c = ClientFor(cluster_->ServerList());
  auto id = client::GrantLease(c.get(), seconds(600));
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(client::PutWithLease(c.get(), "kept", "v", *id).ok());
  // Enough writes that every node snapshots (--snapshot-entries 16) and drops the log.
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(c->Put("filler" + std::to_string(i), "x").ok());
  cluster_->StopAll();
  ASSERT_TRUE(cluster_->Start().ok());
  auto again = ClientFor(cluster_->ServerList());
  auto info = client::ShowLease(again.get(), *id);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->ttl_ms, 600'000u);
  EXPECT_EQ(info->keys, std::vector<std::string>{"kept"});
  ASSERT_TRUE(client::RevokeLease(again.get(), *id).ok());
  EXPECT_EQ(again->Get("kept").status().code(), StatusCode::kNotFound);
}

TEST_F(LeaseClusterTest, TwoLockProcessesOnDifferentNodesNeverOverlap) {
  const std::string counter = dir_ + "/counter";
  const std::string fences = dir_ + "/fences";
  { std::ofstream(counter) << 0; }
  constexpr int kRoundsEach = 8;
  // Read, pause, write: two holders at once would lose an increment.
  const std::string body = "v=$(cat " + counter + "); sleep 0.05; echo $((v+1)) > " + counter +
                           "; echo $NDS_LOCK_REVISION >> " + fences;
  std::string script;
  for (size_t n : {0, 1}) {
    script += "(for i in $(seq " + std::to_string(kRoundsEach) + "); do " NDS_BINARY " --server " +
              cluster_->node(n).api_address() + " lock counter --ttl-ms 5000 -- sh -c '" + body +
              "' || exit 1; done) & p" + std::to_string(n) + "=$!; ";
  }
  script += "wait $p0 && wait $p1\n";
  const std::string script_file = dir_ + "/two_lockers.sh";
  { std::ofstream(script_file) << script; }
  Output out = RunBounded("sh " + script_file, 120);
  ASSERT_EQ(out.exit_code, 0) << out.text;
  std::ifstream in(counter);
  int value = -1;
  in >> value;
  EXPECT_EQ(value, 2 * kRoundsEach);
  std::ifstream f(fences);
  uint64_t previous = 0;
  int holders = 0;
  for (uint64_t revision = 0; f >> revision; ++holders) {
    EXPECT_GT(revision, previous) << "fencing revisions must grow with every holder";
    previous = revision;
  }
  EXPECT_EQ(holders, 2 * kRoundsEach);
  // Every holder's key went with its lease.
  auto c = ClientFor(cluster_->ServerList());
  auto left = c->List("locks/counter/");
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->keys.empty());
}

TEST_F(LeaseClusterTest, ManyLeasesAreKeptAliveInOneRequestFromTheClientAndTheCli) {
  auto c = ClientFor(cluster_->node(1).api_address());
  auto a = client::GrantLease(c.get(), seconds(60));
  auto b = client::GrantLease(c.get(), seconds(60));
  ASSERT_TRUE(a.ok() && b.ok());
  auto many = client::KeepAliveMany(c.get(), {*a, 424242, *b, *a});
  ASSERT_TRUE(many.ok()) << many.status().ToString();
  ASSERT_EQ(many->size(), 4u);
  auto ttl = [&](size_t i) { return (*many)[i].ok() ? *(*many)[i] : uint64_t{0}; };
  EXPECT_EQ(ttl(0), 60000u);
  EXPECT_EQ((*many)[1].status().code(), StatusCode::kNotFound);
  EXPECT_EQ((*many)[1].status().message(), "not_found");
  EXPECT_EQ(ttl(2), 60000u);
  EXPECT_EQ(ttl(3), 60000u);
  EXPECT_EQ(client::KeepAliveMany(c.get(), {}).status().code(), StatusCode::kInvalidArgument);

  const std::string nds =
      std::string(NDS_BINARY) + " --server " + cluster_->node(2).api_address() + " ";
  const std::string ids = std::to_string(*a) + " " + std::to_string(*b);
  Output one = RunBounded(nds + "lease keepalive " + std::to_string(*a));
  EXPECT_EQ(one.exit_code, 0) << one.text;
  EXPECT_EQ(one.text, "60000\n");  // one id: printed as it always was
  Output two = RunBounded(nds + "lease keepalive " + ids);
  EXPECT_EQ(two.exit_code, 0) << two.text;
  EXPECT_EQ(two.text, ids.substr(0, ids.find(' ')) + " 60000\n" + std::to_string(*b) + " 60000\n");
  Output json = RunBounded(nds + "-o json lease keepalive " + ids + " 424242");
  EXPECT_EQ(json.exit_code, 3) << json.text;  // a lease is gone
  EXPECT_EQ(json.text, "{\"id\":" + std::to_string(*a) +
                           ",\"ttl_ms\":60000}\n{\"id\":" + std::to_string(*b) +
                           ",\"ttl_ms\":60000}\n{\"id\":424242,\"error\":\"not_found\"}\n");
}

TEST_F(LeaseClusterTest, LockExitCodeIsTheCommandsAndTheRevisionIsInItsEnvironment) {
  Output out = RunBounded(std::string(NDS_BINARY) + " --server " + cluster_->node(2).api_address() +
                          " lock job -- sh -c 'test -n \"$NDS_LOCK_REVISION\" && exit 7'");
  EXPECT_EQ(out.exit_code, 7) << out.text;
  Output usage = RunBounded(std::string(NDS_BINARY) + " --server " +
                            cluster_->node(2).api_address() + " lease grant 0");
  EXPECT_EQ(usage.exit_code, 2) << usage.text;
  Output unknown = RunBounded(std::string(NDS_BINARY) + " --server " +
                              cluster_->node(2).api_address() + " lease show 424242");
  EXPECT_EQ(unknown.exit_code, 3) << unknown.text;
}

}  // namespace
}  // namespace nds::test
