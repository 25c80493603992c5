// Goal: RaftNode, as a one-node cluster, orders writes through the Raft log, applies them to the
// engine, gives read points, and keeps everything across a restart from the same data directory.
// Method: a real Wal in a fresh temporary directory and a memory engine checkpointed in it; each
// call's completion is awaited through a std::future (no sleeping).
#include "node/raft_node.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <future>
#include <poll.h>
#include <thread>
#include <unistd.h>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "net/loopback_port.h"
#include "net/peer_frame.h"
#include "net/raw_peer_client.h"
#include "node/engine_dir.h"
#include "node/raft_codec.h"
#include "node/raft_node_for_test.h"
#include "store/keyspace.h"
#include "store/membership.h"
#include "util/file_system.h"
#include "wal/wal.h"

namespace nds::node {
namespace {

TEST_F(RaftNodeTest, WritesGetIncreasingRevisionsAndAreVisibleAtTheReadPoint) {
  auto node = OpenNode("rocksdb");
  ASSERT_NE(node, nullptr);
  auto r1 = SubmitAndWait(node.get(), store::PutCommand("a", "1"));
  ASSERT_TRUE(r1.status.ok()) << r1.status.ToString();
  EXPECT_TRUE(r1.created);
  auto r2 = SubmitAndWait(node.get(), store::PutCommand("a", "2"));
  ASSERT_TRUE(r2.status.ok());
  EXPECT_GT(r2.revision, r1.revision);
  EXPECT_FALSE(r2.created);
  ASSERT_TRUE(ReadPoint(node.get()).ok());
  auto got = node->engine().Get(store::DataKey("a"));
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->has_value());
  EXPECT_GE(node->engine().AppliedIndex().value, r2.revision);
}

TEST_F(RaftNodeTest, FailedPreconditionConsumesAnIndexAndChangesNothing) {
  auto node = OpenNode("rocksdb");
  ASSERT_NE(node, nullptr);
  ASSERT_TRUE(SubmitAndWait(node.get(), store::PutCommand("k", "v")).status.ok());
  auto r = SubmitAndWait(node.get(),
                         store::PutCommand("k", "w", {}, store::Precondition::kMustNotExist));
  EXPECT_EQ(r.status.code(), StatusCode::kAlreadyExists);
}

TEST_F(RaftNodeTest, StatusReportsALeaderWithLeaseOnceAWriteCommitted) {
  auto node = OpenNode("rocksdb");
  ASSERT_NE(node, nullptr);
  auto r = SubmitAndWait(node.get(), store::PutCommand("x", "y"));
  ASSERT_TRUE(r.status.ok());
  NodeStatus st = node->GetStatus();
  EXPECT_EQ(st.role, Role::kLeader);
  EXPECT_EQ(st.leader_id, 1u);
  EXPECT_GE(st.commit_index, r.revision);
  EXPECT_TRUE(st.ready);
}

// Restarts of a one-node cluster from its directory.
class RaftNodeRestartTest : public RaftNodeTest {
 protected:
  // Writes key0..key<count-1> on a node opened in the fixture's directory, then closes it; the
  // last revision.
  uint64_t WriteKeysAndClose(int count);
  // Opens the node again: key0..key<count-1> are there, and a new write comes after
  // `last_revision`.
  void ExpectKeysAndAWriteAfter(int count, uint64_t last_revision);
};

uint64_t RaftNodeRestartTest::WriteKeysAndClose(int count) {
  uint64_t last_revision = 0;
  auto node = OpenNode("rocksdb");
  EXPECT_NE(node, nullptr);
  if (node == nullptr) return 0;
  for (int i = 0; i < count; ++i) {
    auto r = SubmitAndWait(node.get(), store::PutCommand("key" + std::to_string(i), "v"));
    EXPECT_TRUE(r.status.ok());
    last_revision = r.revision;
  }
  return last_revision;
}

void RaftNodeRestartTest::ExpectKeysAndAWriteAfter(int count, uint64_t last_revision) {
  auto node = OpenNode("rocksdb");
  ASSERT_NE(node, nullptr);
  ASSERT_TRUE(ReadPoint(node.get()).ok());
  for (int i = 0; i < count; ++i) {
    auto got = node->engine().Get(store::DataKey("key" + std::to_string(i)));
    ASSERT_TRUE(got.ok());
    EXPECT_TRUE(got->has_value()) << i;
  }
  auto r = SubmitAndWait(node.get(), store::PutCommand("after", "restart"));
  ASSERT_TRUE(r.status.ok());
  EXPECT_GT(r.revision, last_revision);
}

TEST_F(RaftNodeRestartTest, FromTheDataDirectoryKeepsEveryAcknowledgedWrite) {
  const uint64_t last_revision = WriteKeysAndClose(20);
  ExpectKeysAndAWriteAfter(20, last_revision);
}

// The loop applies entries its log already holds before it syncs the hard state that commits
// them (RaftNode::ApplyDurableBeforeSave): a crash in between leaves an engine ahead of the saved
// commit index. The node opens all the same, taking what the engine applied as committed.
TEST_F(RaftNodeRestartTest, WithTheEngineAheadOfTheSavedCommitIndexOpens) {
  const uint64_t last_revision = WriteKeysAndClose(5);
  {
    auto wal = wal::Wal::Open(DefaultFileSystem(), dir_, wal::WalOptions{});
    ASSERT_TRUE(wal.ok()) << wal.status().ToString();
    auto hs = (*wal)->InitialHardState();
    ASSERT_TRUE(hs.ok());
    ASSERT_GE(hs->commit.value, last_revision);
    hs->commit = LogIndex(last_revision - 3);
    ASSERT_TRUE((*wal)->SaveHardState(*hs).ok());
  }
  ExpectKeysAndAWriteAfter(5, last_revision);
}

TEST_F(RaftNodeTest, StopAnswersLaterWritesUnavailable) {
  auto node = OpenNode("rocksdb");
  ASSERT_NE(node, nullptr);
  node->Stop();
  auto r = SubmitAndWait(node.get(), store::PutCommand("late", "v"));
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable);
}

TEST_F(RaftClusterTest, JoinedNodesReplicateForwardAndReadLinearizably) {
  RaftNodeOptions o1 = FoundingOptions();
  auto n1 = Open(o1);
  ASSERT_NE(n1, nullptr);
  ASSERT_TRUE(SubmitAndWait(n1.get(), store::PutCommand("before-join", "v")).status.ok());
  auto n2 = JoinAsVoter(n1.get(), "n2", 2);
  ASSERT_NE(n2, nullptr);
  auto n3 = JoinAsVoter(n1.get(), "n3", 3);
  ASSERT_NE(n3, nullptr);
  // Data written before the joins reached the joiners.
  ASSERT_TRUE(ReadPoint(n3.get()).ok());
  EXPECT_TRUE(Has(n3.get(), "before-join"));
  // A write on a follower is forwarded; a read point on another follower sees it. Big values
  // travel by reference in the peer frames and are proposed as forwarded, not re-encoded: each
  // reads back whole.
  RaftNode* nodes[] = {n1.get(), n2.get(), n3.get()};
  for (int i = 0; i < 6; ++i) {
    const std::string key = "k" + std::to_string(i);
    const std::string value = i < 3 ? "v" : std::string(300'000 + i, static_cast<char>('a' + i));
    auto r = SubmitAndWait(nodes[i % 3], store::PutCommand(key, value));
    ASSERT_TRUE(r.status.ok()) << i << ": " << r.status.ToString();
    RaftNode* reader = nodes[(i + 1) % 3];
    ASSERT_TRUE(ReadPoint(reader).ok());
    EXPECT_TRUE(ValueOf(reader, key) == value) << "written on " << i % 3;
  }
  // Exactly one leader; the others know it.
  int leaders = 0;
  for (RaftNode* n : nodes) leaders += n->GetStatus().role == Role::kLeader ? 1 : 0;
  EXPECT_EQ(leaders, 1);
  // Remove n3: the configuration follows and n3 stops receiving writes.
  auto rm = SubmitAndWait(n2.get(), store::RemoveMemberCommand(n3->GetStatus().id));
  ASSERT_TRUE(rm.status.ok()) << rm.status.ToString();
  EXPECT_TRUE(WaitFor([&] { return Voters(n1.get()) == 2; }));
  ASSERT_TRUE(SubmitAndWait(n1.get(), store::PutCommand("after-removal", "v")).status.ok());
  ASSERT_TRUE(ReadPoint(n2.get()).ok());
  EXPECT_TRUE(Has(n2.get(), "after-removal"));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(Has(n3.get(), "after-removal"));
}

// A peer that sends an intact frame node/ cannot decode loses its connection (it would dial
// again); a well-formed peer on the same port is unaffected.
TEST_F(RaftClusterTest, AnUndecodablePeerFrameClosesItsConnection) {
  RaftNodeOptions o1 = FoundingOptions();
  auto n1 = Open(o1);
  ASSERT_NE(n1, nullptr);
  auto n2 = JoinAsVoter(n1.get(), "n2", 2);
  ASSERT_NE(n2, nullptr);
  const uint64_t id2 = n2->GetStatus().id;
  n2.reset();  // this test speaks for n2 now (a member, with the secret)
  auto peer = SendAsPeer(o1.peer_listen_port, Hello{"test-cluster", id2, "", ""},
                         std::string("\x09 not a frame kind"));
  ASSERT_NE(peer, nullptr);
  EXPECT_TRUE(ClosedByNode(*peer)) << "the node kept the connection of a peer that sent garbage";
}

// A hello is checked like a join: addresses that are not HOST:PORT are never recorded.
TEST_F(RaftClusterTest, AHelloClaimingAnUnusableAddressIsNotRecorded) {
  RaftNodeOptions o1 = FoundingOptions();
  std::unique_ptr<RaftNode> n1, n2, n3;
  ASSERT_NO_FATAL_FAILURE(OpenThree(o1, &n1, &n2, &n3));
  // n3 goes down, so that only this test's connections speak for it; n1 and n2 keep a quorum.
  const uint64_t id3 = n3->GetStatus().id;
  n3.reset();
  auto peer_of_n3 = [&] {
    for (const MemberInfo& m : n1->Members()) {
      if (m.id == id3) return m.peer_address;
    }
    return std::string();
  };
  // A usable claim is recorded (so the path works) ...
  auto good = SendAsPeer(o1.peer_listen_port, Hello{"test-cluster", id3, "127.0.0.1:3", ""}, "");
  ASSERT_NE(good, nullptr);
  EXPECT_TRUE(WaitFor([&] { return peer_of_n3() == "127.0.0.1:3"; }));
  good.reset();
  // ... an unusable one is not, however long the leader has had to act on it.
  auto bad = SendAsPeer(o1.peer_listen_port, Hello{"test-cluster", id3, "no port here", ""}, "");
  ASSERT_NE(bad, nullptr);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // 30 ticks
  EXPECT_EQ(peer_of_n3(), "127.0.0.1:3");
}

TEST_F(RaftClusterTest, LeaderTransferMovesLeadership) {
  RaftNodeOptions o1 = FoundingOptions();
  auto n1 = Open(o1);
  ASSERT_NE(n1, nullptr);
  auto n2 = JoinAsVoter(n1.get(), "n2", 2);
  ASSERT_NE(n2, nullptr);
  uint64_t to = n2->GetStatus().id;
  std::promise<Status> p;
  auto f = p.get_future();
  n2->TransferLeadership(to, [&p](const Status& s) { p.set_value(s); });
  Status s = f.get();
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(WaitFor([&] { return n2->GetStatus().role == Role::kLeader; }));
  std::promise<Status> p2;
  auto f2 = p2.get_future();
  n1->TransferLeadership(999, [&p2](const Status& s) { p2.set_value(s); });
  EXPECT_EQ(f2.get().code(), StatusCode::kNotFound);
}

// A forwarded write the leader refuses (here: it is handing leadership to a member that is down,
// and takes no proposal meanwhile) comes back to its origin, which answers at once instead of at
// the request deadline.
TEST_F(RaftClusterTest, AForwardedWriteTheLeaderRefusesIsAnsweredAtOnce) {
  election_timeout_ = std::chrono::milliseconds(2000);  // the transfer blocks proposals this long
  RaftNodeOptions o1 = FoundingOptions();
  o1.limits.request_timeout = std::chrono::seconds(30);
  std::unique_ptr<RaftNode> n1, n2, n3;
  ASSERT_NO_FATAL_FAILURE(OpenThree(o1, &n1, &n2, &n3));
  ASSERT_TRUE(SubmitAndWait(n2.get(), store::PutCommand("before", "v")).status.ok());
  const uint64_t down = n3->GetStatus().id;
  n3.reset();
  std::promise<Status> transferred;
  n1->TransferLeadership(down, [&](const Status& s) { transferred.set_value(s); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto r = SubmitAndWait(n2.get(), store::PutCommand("during", "v"));
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable) << r.status.ToString();
  EXPECT_NE(r.status.message().find("could not take the write"), std::string::npos)
      << r.status.ToString();
  EXPECT_EQ(transferred.get_future().get().code(), StatusCode::kUnavailable);
  // Once the transfer is given up, the same write from the follower goes through.
  EXPECT_TRUE(SubmitAndWait(n2.get(), store::PutCommand("after", "v")).status.ok());
}

// A member restarted on other addresses says so in its hellos; the leader records them, and the
// others reach it there.
TEST_F(RaftClusterTest, AMemberRestartedOnAnotherPortIsRecordedThereAndReachedThere) {
  RaftNodeOptions o1 = FoundingOptions();
  std::unique_ptr<RaftNode> n1, n2, n3;
  ASSERT_NO_FATAL_FAILURE(OpenThree(o1, &n1, &n2, &n3));
  const uint64_t id3 = n3->GetStatus().id;
  n3.reset();
  RaftNodeOptions moved = Options(id3, net::FreePort());
  moved.name = "n3";
  moved.api_address = "127.0.0.1:2";
  const std::string new_peer = moved.peer_address;
  n3 = Open(moved);
  ASSERT_NE(n3, nullptr);
  auto recorded = [&](RaftNode* n) {
    for (const MemberInfo& m : n->Members()) {
      if (m.id == id3) return m.peer_address == new_peer && m.api_address == "127.0.0.1:2";
    }
    return false;
  };
  ASSERT_TRUE(WaitFor([&] { return recorded(n1.get()) && recorded(n2.get()); }))
      << "the new addresses of member " << id3 << " were not recorded";
  // The leader's appends and read confirmations reach n3 at its new port.
  ASSERT_TRUE(SubmitAndWait(n1.get(), store::PutCommand("after-move", "v")).status.ok());
  ASSERT_TRUE(ReadPoint(n3.get()).ok());
  EXPECT_TRUE(Has(n3.get(), "after-move"));
  EXPECT_EQ(Voters(n1.get()), 3u);
}

TEST_F(RaftClusterTest, AJoinerBehindTheCompactedLogCatchesUpFromASnapshot) {
  RaftNodeOptions o1 = FoundingOptions();
  o1.limits.snapshot_entries = 20;
  auto n1 = Open(o1);
  ASSERT_NE(n1, nullptr);
  ASSERT_TRUE(PutNumbered(n1.get(), "old", 0, 60));
  // n1 has compacted its log: it holds a snapshot and the joiner must get it.
  ASSERT_TRUE(WaitFor([&] { return HasSnapshot(o1.data_dir); }));
  auto n2 = JoinAsVoter(n1.get(), "n2", 2);
  ASSERT_NE(n2, nullptr);
  ASSERT_TRUE(ReadPoint(n2.get()).ok());
  for (int i = 0; i < 60; ++i) EXPECT_TRUE(Has(n2.get(), "old" + std::to_string(i))) << i;
  std::string n2_dir = dir_ + "/n" + std::to_string(n2->GetStatus().id);
  EXPECT_TRUE(std::filesystem::exists(n2_dir + "/ENGINE")) << "n2 did not install a snapshot";
  // Writes after the snapshot replicate as usual, from either node.
  ASSERT_TRUE(SubmitAndWait(n2.get(), store::PutCommand("new", "v")).status.ok());
  ASSERT_TRUE(ReadPoint(n1.get()).ok());
  EXPECT_TRUE(Has(n1.get(), "new"));
}

// A few large values trigger a snapshot long before the entry count would.
TEST_F(RaftClusterTest, EnoughAppliedBytesTriggerASnapshot) {
  RaftNodeOptions o = FoundingOptions();
  o.limits.snapshot_entries = 1'000'000;
  o.limits.snapshot_bytes = 256 << 10;
  auto n = Open(o);
  ASSERT_NE(n, nullptr);
  const std::string big(64 << 10, 'b');
  ASSERT_TRUE(PutNumbered(n.get(), "big", 0, 3, big));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(HasSnapshot(o.data_dir)) << "192 KiB applied: no snapshot yet";
  ASSERT_TRUE(PutNumbered(n.get(), "big", 3, 6, big));
  EXPECT_TRUE(WaitFor([&] { return HasSnapshot(o.data_dir); }))
      << "384 KiB applied and no snapshot";
}

TEST_F(RaftClusterTest, AMemoryEngineNodeRestartsFromItsSnapshotAndLog) {
  RaftNodeOptions o = FoundingOptions();
  o.limits.snapshot_entries = 10;
  {
    auto n = Open(o);
    ASSERT_NE(n, nullptr);
    ASSERT_TRUE(PutNumbered(n.get(), "k", 0, 35));
  }
  // The memory engine starts empty: the node restores the snapshot, then replays the log.
  auto n = Open(o);
  ASSERT_NE(n, nullptr);
  ASSERT_TRUE(ReadPoint(n.get()).ok());
  for (int i = 0; i < 35; ++i) EXPECT_TRUE(Has(n.get(), "k" + std::to_string(i))) << i;
}

TEST_F(RaftClusterTest, LeaseReadsOnTheLeaderSeeEveryAcknowledgedWrite) {
  RaftNodeOptions o1 = FoundingOptions();
  o1.lease_reads = true;
  auto n1 = Open(o1);
  ASSERT_NE(n1, nullptr);
  auto n2 = JoinAsVoter(n1.get(), "n2", 2);
  ASSERT_NE(n2, nullptr);
  ASSERT_TRUE(WaitFor([&] { return n1->GetStatus().has_lease; }));
  for (int i = 0; i < 50; ++i) {
    std::string key = "lease" + std::to_string(i);
    RaftNode* writer = i % 2 == 0 ? n1.get() : n2.get();
    ASSERT_TRUE(SubmitAndWait(writer, store::PutCommand(key, "v")).status.ok());
    ASSERT_TRUE(ReadPoint(n1.get()).ok());
    EXPECT_TRUE(Has(n1.get(), key)) << key;
  }
  // The leader served (some of) them from its lease, without a heartbeat round.
  EXPECT_GT(n1->GetStatus().lease_read_batches, 0u);
}

}  // namespace
}  // namespace nds::node
