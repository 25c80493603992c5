// Goal: ReadIndex (thesis §6.4: batched behind one heartbeat round, refused before the leader
// committed an entry of its term, forwarded from followers) and leadership transfer (thesis
// §3.10: catch the target up, then kTimeoutNow; abort after an election timeout).
// Method: RawNodes on the in-test Network; heartbeat rounds counted from the messages sent.
#include <gtest/gtest.h>

#include "raft/test_network.h"

namespace nds::raft {
namespace {

using testing::Network;

size_t CountType(const std::vector<Message>& msgs, MessageType type) {
  size_t n = 0;
  for (const Message& m : msgs) n += m.type == type ? 1 : 0;
  return n;
}

TEST(ReadIndex, ManyReadsShareOneHeartbeatRound) {
  Network net(3);
  net.Elect(1);
  net.test_node(1).sent.clear();
  ASSERT_TRUE(net.node(1).ReadIndex("a").ok());
  ASSERT_TRUE(net.node(1).ReadIndex("b").ok());
  ASSERT_TRUE(net.node(1).ReadIndex("c").ok());
  net.Stabilize();
  EXPECT_EQ(CountType(net.test_node(1).sent, MessageType::kHeartbeat), 2u);  // one per follower
  const auto& rs = net.test_node(1).read_states;
  ASSERT_EQ(rs.size(), 3u);
  EXPECT_EQ(rs[0].context, "a");
  EXPECT_EQ(rs[2].context, "c");
  EXPECT_EQ(rs[0].index, net.node(1).GetStatus().commit);
}

TEST(ReadIndex, NotConfirmedWithoutAMajority) {
  Network net(3);
  net.Elect(1);
  net.Isolate(1);
  ASSERT_TRUE(net.node(1).ReadIndex("a").ok());
  net.Stabilize();
  EXPECT_TRUE(net.test_node(1).read_states.empty());
  net.Heal();
  net.TickAllAndStabilize(1);
  EXPECT_EQ(net.test_node(1).read_states.size(), 1u);
}

TEST(ReadIndex, RoundSentBeforeTheReadDoesNotConfirmIt) {
  Network net(3);
  net.Elect(1);
  net.Tick(1);  // a heartbeat round goes out...
  net.Process(NodeId(1));
  ASSERT_TRUE(net.node(1).ReadIndex("a").ok());
  net.DeliverAll();  // ...and its acks come back after the read arrived
  net.Process(NodeId(2));
  net.Process(NodeId(3));
  net.DeliverAll();
  EXPECT_TRUE(net.test_node(1).read_states.empty());
  net.Stabilize();  // the read's own round
  EXPECT_EQ(net.test_node(1).read_states.size(), 1u);
}

TEST(ReadIndex, RefusedBeforeLeaderCommitsAnEntryOfItsTerm) {
  Network net(3);
  net.node(1).Campaign();
  for (int i = 0; i < 4 && net.node(1).GetStatus().role != Role::kLeader; ++i) {
    net.ProcessAll();
    net.DeliverAll();
  }
  ASSERT_EQ(net.node(1).GetStatus().role, Role::kLeader);
  EXPECT_EQ(net.node(1).ReadIndex("a").code(), StatusCode::kUnavailable);
  net.Stabilize();
  EXPECT_TRUE(net.node(1).ReadIndex("a").ok());
}

TEST(ReadIndex, FollowerForwardsAndReceivesTheReadState) {
  Network net(3);
  net.Elect(1);
  ASSERT_TRUE(net.node(1).Propose("x").ok());
  net.Stabilize();
  ASSERT_TRUE(net.node(2).ReadIndex("f").ok());
  net.Stabilize();
  const auto& rs = net.test_node(2).read_states;
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].context, "f");
  EXPECT_EQ(rs[0].index, LogIndex(2));
}

TEST(ReadIndex, FollowerWithoutLeaderRefuses) {
  Network net(3);
  EXPECT_EQ(net.node(2).ReadIndex("f").code(), StatusCode::kUnavailable);
}

TEST(ReadIndex, PendingReadsAreBounded) {
  Network net(3, 0, [](Config* c) { c->max_pending_reads = 2; });
  net.Elect(1);
  net.Isolate(1);
  ASSERT_TRUE(net.node(1).ReadIndex("a").ok());
  ASSERT_TRUE(net.node(1).ReadIndex("b").ok());
  EXPECT_EQ(net.node(1).ReadIndex("c").code(), StatusCode::kResourceExhausted);
}

TEST(ReadIndex, SingleVoterConfirmsAtOnce) {
  Network net(1);
  net.Elect(1);
  ASSERT_TRUE(net.node(1).ReadIndex("a").ok());
  net.Stabilize();
  EXPECT_EQ(net.test_node(1).read_states.size(), 1u);
}

TEST(Transfer, UpToDateTargetBecomesLeaderOfTheNextTerm) {
  Network net(3);
  net.Elect(1);
  const Term term = net.node(1).GetStatus().term;
  ASSERT_TRUE(net.node(1).TransferLeadership(NodeId(2)).ok());
  net.Stabilize();
  EXPECT_EQ(net.node(2).GetStatus().role, Role::kLeader);
  EXPECT_EQ(net.node(2).GetStatus().term, term.Next());
  EXPECT_EQ(net.node(1).GetStatus().leader, NodeId(2));
}

TEST(Transfer, LaggingTargetIsCaughtUpFirst) {
  Network net(3);
  net.Elect(1);
  net.Isolate(3);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(net.node(1).Propose("v").ok());
  net.Stabilize();
  net.Heal();
  ASSERT_TRUE(net.node(1).TransferLeadership(NodeId(3)).ok());
  EXPECT_EQ(net.node(1).Propose("during").code(), StatusCode::kUnavailable);
  net.Stabilize();
  EXPECT_EQ(net.node(3).GetStatus().role, Role::kLeader);
  EXPECT_GE(net.node(3).GetStatus().commit, LogIndex(6));
}

TEST(Transfer, AbortedAfterAnElectionTimeoutIfTargetIsUnreachable) {
  Network net(3);
  net.Elect(1);
  net.Isolate(3);
  ASSERT_TRUE(net.node(1).TransferLeadership(NodeId(3)).ok());
  EXPECT_EQ(net.node(1).GetStatus().lead_transferee, NodeId(3));
  net.TickAllAndStabilize(10);
  EXPECT_EQ(net.node(1).GetStatus().lead_transferee, kNoNode);
  EXPECT_EQ(net.node(1).GetStatus().role, Role::kLeader);
  EXPECT_TRUE(net.node(1).Propose("x").ok());
}

TEST(Transfer, FollowerForwardsTheRequestToTheLeader) {
  Network net(3);
  net.Elect(1);
  ASSERT_TRUE(net.node(2).TransferLeadership(NodeId(3)).ok());
  net.Stabilize();
  EXPECT_EQ(net.node(3).GetStatus().role, Role::kLeader);
}

TEST(Transfer, RefusedToALearnerOrUnknownNode) {
  Network net(2, 1);
  net.Elect(1);
  EXPECT_EQ(net.node(1).TransferLeadership(NodeId(3)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(net.node(1).TransferLeadership(NodeId(9)).code(), StatusCode::kInvalidArgument);
}

TEST(Transfer, TimeoutNowMakesTargetIgnoreStickinessButOnlyThen) {
  Network net(3);
  net.Elect(1);
  // Without a transfer, node 2 campaigning is ignored by node 3 (it hears leader 1).
  net.node(2).Campaign();
  net.Stabilize();
  EXPECT_EQ(net.node(1).GetStatus().role, Role::kLeader);
  ASSERT_TRUE(net.node(1).TransferLeadership(NodeId(2)).ok());
  net.Stabilize();
  EXPECT_EQ(net.node(2).GetStatus().role, Role::kLeader);
}

}  // namespace
}  // namespace nds::raft
