// Goal: asynchronous log writes (Config::async_storage_writes, RawNode::AdvanceAsync and
// OnAppendDurable): a Ready's entries handed to a writer are not handed out again, the leader
// counts its own copy only once it is durable, committed entries are applied only once this
// node's log holds them durably, and an in-flight entry that a new leader replaces is written
// again while the old write's report is ignored.
// Method: RawNodes on the in-test Network; the test plays the writer of node 1 by hand (persists
// its entries into its MemoryStorage when it chooses), the other nodes are driven synchronously.
#include <gtest/gtest.h>

#include "raft/raft.h"
#include "raft/test_network.h"

namespace nds::raft {
namespace {

using testing::Network;

Network AsyncNetwork() {
  return Network(3, 0, [](Config* c) { c->async_storage_writes = true; });
}

std::vector<LogIndex> Indexes(const std::vector<Entry>& entries) {
  std::vector<LogIndex> out;
  out.reserve(entries.size());
  for (const Entry& e : entries) out.push_back(e.index);
  return out;
}

// Node 1 proposes `data`, hands the Ready to "its writer" (AdvanceAsync) and sends the messages.
Ready ProposeAndHandOff(Network& net, const std::string& data) {
  EXPECT_TRUE(net.node(1).Propose(SharedBytes(data)).ok());
  Ready rd = net.node(1).GetReady();
  EXPECT_FALSE(rd.entries.empty());
  for (const Message& m : rd.messages) {
    EXPECT_TRUE(net.node(m.to).Step(m).ok());
  }
  net.node(1).AdvanceAsync(rd);
  EXPECT_TRUE(CheckInvariants(net.node(1)).ok());
  return rd;
}

TEST(AsyncWrites, CommittedByTheFollowersIsAppliedOnlyOnceTheLeadersOwnLogHoldsIt) {
  Network net = AsyncNetwork();
  net.Elect(1);
  net.Stabilize();
  Ready rd = ProposeAndHandOff(net, "x");
  const LogIndex index = rd.entries.back().index;

  // The entries in flight are not handed out again.
  Ready again = net.node(1).GetReady();
  EXPECT_TRUE(again.entries.empty());
  net.node(1).AdvanceAsync(again);

  // Both followers persist and answer: a majority without the leader's own copy commits it...
  net.Process(NodeId(2));
  net.Process(NodeId(3));
  net.DeliverAll();
  EXPECT_EQ(net.node(1).GetStatus().commit, index);
  // ... but the leader's log does not hold it yet: nothing to apply.
  Ready waiting = net.node(1).GetReady();
  EXPECT_TRUE(waiting.committed_entries.empty());
  net.node(1).AdvanceAsync(waiting);
  EXPECT_TRUE(CheckInvariants(net.node(1)).ok());

  // The writer is done: now it is applied.
  ASSERT_TRUE(net.storage(1).Append(rd.entries).ok());
  net.node(1).OnAppendDurable(index, rd.entries.back().term);
  Ready applied = net.node(1).GetReady();
  EXPECT_EQ(Indexes(applied.committed_entries), std::vector<LogIndex>{index});
  net.node(1).AdvanceAsync(applied);
  EXPECT_TRUE(CheckInvariants(net.node(1)).ok());
}

TEST(AsyncWrites, TheLeaderCountsItsOwnCopyOnlyOnceDurable) {
  Network net = AsyncNetwork();
  net.Elect(1);
  net.Stabilize();
  net.Isolate(3);
  Ready rd = ProposeAndHandOff(net, "x");
  const LogIndex index = rd.entries.back().index;
  // Only node 2 answers (3 is cut off, its append was delivered by hand but its answer is
  // dropped): the leader's copy is in flight, so it is not a majority yet.
  net.Process(NodeId(2));
  net.Process(NodeId(3));
  net.DeliverAll();
  EXPECT_LT(net.node(1).GetStatus().commit, index);
  ASSERT_TRUE(net.storage(1).Append(rd.entries).ok());
  net.node(1).OnAppendDurable(index, rd.entries.back().term);
  EXPECT_EQ(net.node(1).GetStatus().commit, index);
  EXPECT_TRUE(CheckInvariants(net.node(1)).ok());
}

TEST(AsyncWrites, AnInFlightEntryReplacedByANewLeaderIsWrittenAgainAndTheOldReportIgnored) {
  Network net = AsyncNetwork();
  net.Elect(1);
  net.Stabilize();
  net.Isolate(1);
  // Node 1 takes a proposal the others never see; its write is still in flight.
  ASSERT_TRUE(net.node(1).Propose(SharedBytes(std::string("lost"))).ok());
  Ready old = net.node(1).GetReady();
  ASSERT_EQ(old.entries.size(), 1u);
  net.node(1).AdvanceAsync(old);
  const Entry lost = old.entries.back();

  // Node 2 wins an election among 2 and 3 (once they stopped hearing from 1) and commits an
  // entry at the same index.
  net.TickAllAndStabilize(30);
  if (net.node(2).GetStatus().role != Role::kLeader) net.Elect(2);
  ASSERT_EQ(net.node(2).GetStatus().role, Role::kLeader);
  ASSERT_TRUE(net.node(2).Propose(SharedBytes(std::string("kept"))).ok());
  net.Stabilize();
  ASSERT_GE(net.node(2).GetStatus().commit, lost.index);

  // The partition heals; node 2's append replaces node 1's entry in flight.
  net.Heal();
  net.TickAllAndStabilize(3);
  // The old write completes after the replacement: its report is ignored...
  net.node(1).OnAppendDurable(lost.index, lost.term);
  EXPECT_TRUE(CheckInvariants(net.node(1)).ok());
  EXPECT_EQ(net.node(1).raft().log().TermOrZero(lost.index), net.node(2).CurrentTerm());
  // ... and node 1 applies the entry node 2 committed there (Stabilize wrote it synchronously).
  net.TickAllAndStabilize(2);
  bool found = false;
  for (const Entry& e : net.test_node(1).applied) {
    if (e.index == lost.index) {
      found = true;
      EXPECT_NE(e.term, lost.term);
      EXPECT_NE(e.data.view(), "lost");
    }
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace nds::raft
