// Goal: replication flow control and snapshots: the in-flight window per follower (count and
// bytes), batching many entries per message (max_msg_bytes), the uncommitted-bytes limit, snapshot
// catch-up when a follower needs compacted entries, ReportSnapshot, restart from storage.
// Method: RawNodes on the in-test Network; followers cut off or messages dropped to hold
// replication, storage compacted by hand as the node layer would.
#include <algorithm>
#include <functional>

#include <gtest/gtest.h>

#include "raft/raft.h"
#include "raft/test_network.h"

namespace nds::raft {
namespace {

using testing::MakeMessage;
using testing::Network;

size_t CountSent(Network& net, uint64_t from, uint64_t to, MessageType type) {
  size_t n = 0;
  for (const Message& m : net.test_node(from).sent) {
    if (m.to == NodeId(to) && m.type == type) ++n;
  }
  return n;
}

// Appends that carry entries (empty ones only carry the commit index and are not windowed).
size_t CountEntryAppends(Network& net, uint64_t from, uint64_t to) {
  size_t n = 0;
  for (const Message& m : net.test_node(from).sent) {
    if (m.to == NodeId(to) && m.type == MessageType::kAppend && !m.entries.empty()) ++n;
  }
  return n;
}

TEST(FlowControl, InflightCountBoundsAppendsToASilentFollower) {
  Network net(3, 0, [](Config* c) { c->max_inflight_msgs = 2; });
  net.Elect(1);
  ASSERT_EQ(net.node(1).GetStatus().progress[1].state, "replicate");
  net.SetDrop([](const Message& m) { return m.to == NodeId(2); });
  net.test_node(1).sent.clear();
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(net.node(1).Propose("p").ok());
    net.Stabilize();
  }
  EXPECT_EQ(CountEntryAppends(net, 1, 2), 2u);
  EXPECT_EQ(CountEntryAppends(net, 1, 3), 10u);
  EXPECT_EQ(net.node(1).GetStatus().progress[1].inflight_msgs, 2u);
}

TEST(FlowControl, InflightBytesBoundAppendsToASilentFollower) {
  Network net(3, 0, [](Config* c) {
    c->max_msg_bytes = 10;
    c->max_inflight_bytes = 10;
  });
  net.Elect(1);
  net.SetDrop([](const Message& m) { return m.to == NodeId(2); });
  net.test_node(1).sent.clear();
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(net.node(1).Propose("123456").ok());
    net.Stabilize();
  }
  EXPECT_EQ(CountEntryAppends(net, 1, 2), 2u);  // 12 bytes >= 10
}

TEST(FlowControl, WindowReopensWhenTheFollowerAcks) {
  Network net(3, 0, [](Config* c) { c->max_inflight_msgs = 2; });
  net.Elect(1);
  net.SetDrop([](const Message& m) { return m.to == NodeId(2); });
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(net.node(1).Propose("p").ok());
  net.Stabilize();
  net.SetDrop(nullptr);
  net.TickAllAndStabilize(3);  // heartbeat responses make the leader probe and catch 2 up
  EXPECT_EQ(net.node(2).GetStatus().last_index, net.node(1).GetStatus().last_index);
  EXPECT_EQ(net.node(2).GetStatus().commit, net.node(1).GetStatus().commit);
}

TEST(FlowControl, UnreachableFollowerDropsBackToProbing) {
  Network net(3);
  net.Elect(1);
  ASSERT_EQ(net.node(1).GetStatus().progress[1].state, "replicate");
  net.node(1).ReportUnreachable(NodeId(2));
  EXPECT_EQ(net.node(1).GetStatus().progress[1].state, "probe");
  ASSERT_TRUE(net.node(1).Propose("x").ok());
  net.Stabilize();
  EXPECT_EQ(net.node(1).GetStatus().progress[1].state, "replicate");
  EXPECT_EQ(net.node(2).GetStatus().commit, net.node(1).GetStatus().commit);
}

// Node 3 misses `count` proposals of `size` bytes, then catches up: the appends node 1 sent it.
// Asserts that it caught up.
std::vector<Message> CatchUpAppends(const std::function<void(Config*)>& tune, int count,
                                    size_t size) {
  Network net(3, 0, tune);
  net.Elect(1);
  net.Isolate(3);
  for (int i = 0; i < count; ++i) {
    EXPECT_TRUE(net.node(1).Propose(std::string(size, 'x')).ok());
    net.Stabilize();
  }
  net.Heal();
  net.test_node(1).sent.clear();
  net.TickAllAndStabilize(3);
  EXPECT_EQ(net.node(3).GetStatus().last_index, net.node(1).GetStatus().last_index);
  std::vector<Message> out;
  for (const Message& m : net.test_node(1).sent) {
    if (m.to == NodeId(3) && m.type == MessageType::kAppend) out.push_back(m);
  }
  return out;
}

TEST(FlowControl, CatchUpBatchesManyEntriesPerMessageUpToMaxMsgBytes) {
  size_t max_entries = 0;
  for (const Message& m : CatchUpAppends([](Config* c) { c->max_msg_bytes = 300; }, 12, 100)) {
    uint64_t bytes = 0;
    for (const Entry& e : m.entries) bytes += e.data.size();
    EXPECT_LE(bytes, 300u);
    max_entries = std::max(max_entries, m.entries.size());
  }
  EXPECT_EQ(max_entries, 3u);
}

TEST(FlowControl, CatchUpSendsAtMostMaxMsgEntriesPerMessage) {
  size_t max_entries = 0;
  for (const Message& m : CatchUpAppends([](Config* c) { c->max_msg_entries = 4; }, 10, 1)) {
    max_entries = std::max(max_entries, m.entries.size());
  }
  EXPECT_EQ(max_entries, 4u);
}

TEST(FlowControl, ProposalsBetweenTwoReadiesTravelInOneAppendPerFollower) {
  Network net(3);
  net.Elect(1);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(net.node(1).Propose("p" + std::to_string(i)).ok());
  EXPECT_TRUE(net.node(1).HasReady());
  Ready rd = net.node(1).GetReady();
  ASSERT_EQ(rd.messages.size(), 2u);
  for (const Message& m : rd.messages) {
    EXPECT_EQ(m.type, MessageType::kAppend);
    EXPECT_EQ(m.entries.size(), 5u);
  }
  ASSERT_TRUE(net.storage(1).Append(rd.entries).ok());
  net.node(1).Advance(rd);
}

// A Ready hands out committed entries up to max_committed_bytes_per_ready (at least one), while
// the persisted tail keeps up to persisted_tail_bytes in memory: the two bounds are separate.
TEST(FlowControl, CommittedEntriesPerReadyAndThePersistedTailHaveTheirOwnBounds) {
  Network net(1, 0, [](Config* c) {
    c->max_committed_bytes_per_ready = 150;
    c->persisted_tail_bytes = 1 << 20;
  });
  net.Elect(1);
  RawNode& node = net.node(1);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(node.Propose(std::string(100, 'a' + i)).ok());
  std::vector<Entry> applied;
  uint64_t tail_max = 0;
  for (int guard = 0; guard < 100 && node.HasReady(); ++guard) {
    Ready rd = node.GetReady();
    ASSERT_TRUE(net.storage(1).Append(rd.entries).ok());
    if (rd.hard_state) net.storage(1).SetHardState(*rd.hard_state);
    uint64_t bytes = 0;
    for (const Entry& e : rd.committed_entries) bytes += e.data.size();
    EXPECT_LE(rd.committed_entries.size(), 1u) << "two 100-byte entries exceed 150 bytes";
    EXPECT_LE(bytes, 150u);
    for (const Entry& e : rd.committed_entries) {
      if (!e.data.empty()) applied.push_back(e);
    }
    node.Advance(rd);
    tail_max = std::max(tail_max, node.raft().log().PersistedTailBytes());
  }
  ASSERT_EQ(applied.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(applied[i].data.view(), std::string(100, 'a' + i));
  EXPECT_GT(tail_max, 150u) << "the persisted tail was bounded by the per-Ready bound";
}

TEST(FlowControl, ProposalsOverUncommittedBytesAreRefused) {
  Network net(3, 0, [](Config* c) { c->max_uncommitted_bytes = 100; });
  net.Elect(1);
  net.Isolate(1);
  ASSERT_TRUE(net.node(1).Propose(std::string(60, 'a')).ok());
  Status s = net.node(1).Propose(std::string(60, 'b'));
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  net.Heal();
  net.TickAllAndStabilize(2);  // commits and applies the first
  EXPECT_TRUE(net.node(1).Propose(std::string(60, 'b')).ok());
}

TEST(Proposals, EmptyProposalIsRefusedAsItWouldLookLikeANoOp) {
  Network net(1);
  net.Elect(1);
  EXPECT_EQ(net.node(1).Propose("").code(), StatusCode::kInvalidArgument);
}

TEST(BadInput, MalformedMessagesAreErrorsNotCrashes) {
  Network net(3);
  net.Elect(1);
  const Term term = net.node(1).GetStatus().term;
  Message m = MakeMessage(MessageType::kAppend, 1, 3, term);  // misaddressed
  EXPECT_EQ(net.node(2).Step(m).code(), StatusCode::kInvalidArgument);
  m.to = NodeId(2);
  m.from = kNoNode;
  EXPECT_EQ(net.node(2).Step(m).code(), StatusCode::kInvalidArgument);
  m.from = NodeId(1);
  m.index = LogIndex(1);
  m.log_term = term;
  m.entries = {Entry{term, LogIndex(5), EntryType::kNormal, "gap"}};
  EXPECT_EQ(net.node(2).Step(m).code(), StatusCode::kCorruption);
  m.entries = {Entry{Term(term.value + 7), LogIndex(2), EntryType::kNormal, "future"}};
  EXPECT_EQ(net.node(2).Step(m).code(), StatusCode::kCorruption);
  Message hb;
  hb.type = MessageType::kHeartbeat;
  hb.from = NodeId(1);
  hb.to = NodeId(2);
  hb.term = term;
  hb.commit = LogIndex(1000);
  EXPECT_EQ(net.node(2).Step(hb).code(), StatusCode::kCorruption);
  EXPECT_TRUE(CheckInvariants(net.node(2)).ok());
  EXPECT_EQ(net.node(2).GetStatus().last_index, LogIndex(1));
}

TEST(Proposals, LastIndexAndTermNameTheNewEntry) {
  Network net(3);
  net.Elect(1);
  ASSERT_TRUE(net.node(1).Propose("mine").ok());
  const LogIndex index = net.node(1).LastIndex();
  const Term term = net.node(1).CurrentTerm();
  net.Stabilize();
  const Entry& e = net.test_node(1).applied.back();
  EXPECT_EQ(e.index, index);
  EXPECT_EQ(e.term, term);
  EXPECT_EQ(e.data, "mine");
}

TEST(Proposals, FollowerRefusesWithNotLeaderNamingTheLeader) {
  Network net(3);
  net.Elect(1);
  Status s = net.node(2).Propose("x");
  EXPECT_EQ(s.code(), StatusCode::kNotLeader);
  EXPECT_EQ(s.message(), "leader=1");
}

// Compacts node `id`'s storage up to its applied index, as the node layer does after taking an
// engine checkpoint.
void CompactToApplied(Network& net, uint64_t id) {
  BasicStatus st = net.node(id).GetStatus();
  ASSERT_TRUE(net.storage(id).CreateSnapshotAndCompact(st.applied, st.conf_state).ok());
}

TEST(Snapshot, FollowerBehindCompactionCatchesUpBySnapshot) {
  Network net(3);
  net.Elect(1);
  net.Isolate(3);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(net.node(1).Propose("v" + std::to_string(i)).ok());
  net.Stabilize();
  CompactToApplied(net, 1);
  const LogIndex snap = net.storage(1).SnapshotMeta().index;
  ASSERT_EQ(snap, LogIndex(6));
  ASSERT_TRUE(net.node(1).Propose("after").ok());
  net.Stabilize();
  net.Heal();
  net.TickAllAndStabilize(3);
  EXPECT_EQ(CountSent(net, 1, 3, MessageType::kSnapshot), 1u);
  EXPECT_EQ(net.storage(3).SnapshotMeta().index, snap);
  EXPECT_EQ(net.node(3).GetStatus().last_index, LogIndex(7));
  EXPECT_EQ(net.node(3).GetStatus().commit, LogIndex(7));
  ASSERT_FALSE(net.test_node(3).applied.empty());
  EXPECT_EQ(net.test_node(3).applied.back().data, "after");  // applied only what followed
  EXPECT_EQ(net.node(1).GetStatus().progress[2].state, "replicate");
}

TEST(Snapshot, FailedSnapshotReportGoesBackToProbingAndRetries) {
  Network net(3);
  net.Elect(1);
  net.Isolate(3);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(net.node(1).Propose("v").ok());
  net.Stabilize();
  CompactToApplied(net, 1);
  net.Heal();
  net.SetDrop([](const Message& m) { return m.type == MessageType::kSnapshot; });
  net.TickAllAndStabilize(2);
  ASSERT_EQ(net.node(1).GetStatus().progress[2].state, "snapshot");
  net.node(1).ReportSnapshot(NodeId(3), false);
  EXPECT_EQ(net.node(1).GetStatus().progress[2].state, "probe");
  net.SetDrop(nullptr);
  net.TickAllAndStabilize(3);
  EXPECT_EQ(CountSent(net, 1, 3, MessageType::kSnapshot), 2u);
  EXPECT_EQ(net.node(3).GetStatus().commit, net.node(1).GetStatus().commit);
}

TEST(Snapshot, SnapshotArrivingBetweenGetReadyAndAdvanceSupersedesHandedOutEntries) {
  Network net(3);
  net.Elect(1);
  ASSERT_TRUE(net.node(1).Propose("a").ok());
  net.Process(NodeId(1));
  net.DeliverAll();  // appends reach 2 and 3
  net.ProcessAll();
  net.DeliverAll();  // acks reach 1, which commits
  net.Process(NodeId(1));
  net.SetDrop([](const Message& m) { return m.to != NodeId(3); });
  net.DeliverAll();  // the commit reaches 3
  RawNode& n3 = net.node(3);
  Ready rd = n3.GetReady();
  ASSERT_FALSE(rd.committed_entries.empty());
  Message snap;
  snap.type = MessageType::kSnapshot;
  snap.from = NodeId(1);
  snap.to = NodeId(3);
  snap.term = n3.GetStatus().term;
  snap.snapshot = SnapshotMetadata{LogIndex(10), snap.term, n3.GetConfState()};
  ASSERT_TRUE(n3.Step(snap).ok());
  ASSERT_TRUE(net.storage(3).Append(rd.entries).ok());
  n3.Advance(rd);  // must not apply entries the snapshot already covers
  EXPECT_EQ(n3.GetStatus().applied, LogIndex(10));
  Ready rd2 = n3.GetReady();
  ASSERT_TRUE(rd2.snapshot.has_value());
  EXPECT_EQ(rd2.snapshot->index, LogIndex(10));
  EXPECT_TRUE(rd2.committed_entries.empty());
  ASSERT_TRUE(net.storage(3).ApplySnapshot(*rd2.snapshot).ok());
  n3.Advance(rd2);
  EXPECT_TRUE(CheckInvariants(n3).ok());
}

TEST(Snapshot, StaleSnapshotIsNotRestored) {
  Network net(3);
  net.Elect(1);
  ASSERT_TRUE(net.node(1).Propose("v").ok());
  net.Stabilize();
  Message m = MakeMessage(MessageType::kSnapshot, 1, 2, net.node(1).GetStatus().term);
  m.snapshot = SnapshotMetadata{LogIndex(1), Term(1), net.node(2).GetConfState()};
  ASSERT_TRUE(net.node(2).Step(m).ok());
  Ready rd = net.node(2).GetReady();
  EXPECT_FALSE(rd.snapshot.has_value());  // the driver discards the staged data
  net.node(2).Advance(rd);
}

TEST(Restart, NodeRestoresStateAndDoesNotReapplyApplied) {
  Network net(3);
  net.Elect(1);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(net.node(1).Propose("v").ok());
  net.Stabilize();
  net.TickAllAndStabilize(1);
  const size_t applied_before = net.test_node(2).applied.size();
  net.Restart(NodeId(2));
  BasicStatus s = net.node(2).GetStatus();
  EXPECT_EQ(s.term, net.node(1).GetStatus().term);
  EXPECT_EQ(s.last_index, LogIndex(4));
  EXPECT_EQ(s.applied, LogIndex(4));
  EXPECT_FALSE(net.node(2).HasReady());
  net.TickAllAndStabilize(2);
  EXPECT_EQ(net.test_node(2).applied.size(), applied_before);
}

TEST(Restart, EntriesNewerThanTheSavedTermRaiseTheTermWithoutAVote) {
  Network net(3);
  ASSERT_TRUE(net.storage(2)
                  .Append({Entry{Term(1), LogIndex(1), EntryType::kNormal, {}},
                           Entry{Term(4), LogIndex(2), EntryType::kNormal, "x"}})
                  .ok());
  net.storage(2).SetHardState(HardState{Term(2), NodeId(3), LogIndex(0)});
  net.Restart(NodeId(2));
  EXPECT_EQ(net.node(2).GetStatus().term, Term(4));
  EXPECT_EQ(net.node(2).GetStatus().vote, kNoNode);
  EXPECT_TRUE(CheckInvariants(net.node(2)).ok());
}

TEST(Restart, CommitBeyondTheLogIsCorruption) {
  MemoryStorage s;
  s.SetHardState(HardState{Term(1), kNoNode, LogIndex(5)});
  Config c;
  c.id = NodeId(1);
  c.storage = &s;
  EXPECT_EQ(RawNode::Create(c).status().code(), StatusCode::kCorruption);
  c.election_ticks = 1;
  EXPECT_EQ(RawNode::Create(c).status().code(), StatusCode::kInvalidArgument);
}

TEST(Restart, RestartFromSnapshotTakesItsConfiguration) {
  Network net(3);
  net.Elect(1);
  ASSERT_TRUE(net.node(1).ProposeConfChange({ConfChangeType::kAddLearner, NodeId(4)}).ok());
  net.Stabilize();
  CompactToApplied(net, 1);
  net.Restart(NodeId(1));
  EXPECT_EQ(net.node(1).GetConfState().learners, std::vector<NodeId>{NodeId(4)});
  EXPECT_EQ(net.node(1).GetStatus().first_index, LogIndex(3));
}

TEST(Restart, ConfChangesAfterTheSnapshotAreReplayedUpToApplied) {
  Network net(3);
  net.Elect(1);
  ASSERT_TRUE(net.node(1).ProposeConfChange({ConfChangeType::kAddLearner, NodeId(4)}).ok());
  net.Stabilize();
  net.Restart(NodeId(2));  // storage's snapshot conf has no learner; the log does
  EXPECT_EQ(net.node(2).GetConfState().learners, std::vector<NodeId>{NodeId(4)});
}

}  // namespace
}  // namespace nds::raft
