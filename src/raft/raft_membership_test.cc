// Goal: single-server membership changes (thesis §4.1): learners receive the log but neither
// vote nor count; promotion; one change at a time; removing a follower and the leader itself;
// bootstrapping a new cluster.
// Method: RawNodes on the in-test Network; a node joining later is added with an empty config
// and learns the configuration from the log or a snapshot.
#include <gtest/gtest.h>

#include "raft/test_network.h"

namespace nds::raft {
namespace {

using testing::Network;

// Adds node `id` as a learner through the leader and lets it catch up. The leader compacts its
// log first, as a real one would have, so the newcomer learns the configuration from a snapshot.
void AddLearner(Network& net, uint64_t leader, uint64_t id) {
  net.AddNode(NodeId(id), ConfState{});
  net.Isolate(id);
  ASSERT_TRUE(net.node(leader).ProposeConfChange({ConfChangeType::kAddLearner, NodeId(id)}).ok());
  net.Stabilize();
  BasicStatus st = net.node(leader).GetStatus();
  ASSERT_TRUE(net.storage(leader).CreateSnapshotAndCompact(st.applied, st.conf_state).ok());
  net.Heal();
  net.TickAllAndStabilize(3);
}

TEST(Learner, ReceivesTheLogButIsNotInTheQuorum) {
  Network net(3);
  net.Elect(1);
  AddLearner(net, 1, 4);
  EXPECT_EQ(net.node(1).GetConfState().learners, std::vector<NodeId>{NodeId(4)});
  EXPECT_EQ(net.node(4).GetStatus().commit, net.node(1).GetStatus().commit);
  // With voters 2 and 3 cut off, the learner's ack cannot commit anything.
  net.Partition({1, 4});
  const LogIndex commit = net.node(1).GetStatus().commit;
  ASSERT_TRUE(net.node(1).Propose("x").ok());
  net.Stabilize();
  EXPECT_EQ(net.node(4).GetStatus().last_index, commit.Next());
  EXPECT_EQ(net.node(1).GetStatus().commit, commit);
}

TEST(Learner, VoteOfALearnerDoesNotCount) {
  Network net(2, 1, [](Config* c) { c->check_quorum = false; });
  net.Elect(1);
  net.Isolate(1);
  // Node 2 campaigns; only the learner can answer, and voters {1, 2} need two grants.
  net.node(2).Campaign();
  net.Stabilize();
  EXPECT_NE(net.node(2).GetStatus().role, Role::kLeader);
  net.Heal();
  net.node(2).Campaign();
  net.Stabilize();
  EXPECT_EQ(net.node(2).GetStatus().role, Role::kLeader);
}

TEST(Membership, PromotedLearnerCountsTowardTheQuorum) {
  Network net(1);
  net.Elect(1);
  AddLearner(net, 1, 2);
  ASSERT_TRUE(net.node(1).ProposeConfChange({ConfChangeType::kAddVoter, NodeId(2)}).ok());
  net.Stabilize();
  EXPECT_EQ(net.node(1).GetConfState().voters, (std::vector<NodeId>{NodeId(1), NodeId(2)}));
  EXPECT_EQ(net.node(2).GetConfState().voters, (std::vector<NodeId>{NodeId(1), NodeId(2)}));
  // Two voters: node 1 alone can no longer commit.
  net.Isolate(2);
  const LogIndex commit = net.node(1).GetStatus().commit;
  ASSERT_TRUE(net.node(1).Propose("x").ok());
  net.Stabilize();
  EXPECT_EQ(net.node(1).GetStatus().commit, commit);
}

TEST(Membership, SecondChangeIsRefusedWhileOneIsPending) {
  Network net(3);
  net.Elect(1);
  net.Isolate(1);  // keep the first change from committing
  ASSERT_TRUE(net.node(1).ProposeConfChange({ConfChangeType::kAddLearner, NodeId(4)}).ok());
  Status s = net.node(1).ProposeConfChange({ConfChangeType::kAddLearner, NodeId(5)});
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  net.Heal();
  net.Stabilize();
  net.TickAllAndStabilize(1);
  EXPECT_TRUE(net.node(1).ProposeConfChange({ConfChangeType::kAddLearner, NodeId(5)}).ok());
}

TEST(Membership, NewLeaderRefusesChangesUntilItsFirstEntryIsApplied) {
  Network net(3);
  net.node(1).Campaign();
  for (int i = 0; i < 4; ++i) {  // up to leadership, before the empty entry is acked
    net.ProcessAll();
    net.DeliverAll();
  }
  ASSERT_EQ(net.node(1).GetStatus().role, Role::kLeader);
  ASSERT_LT(net.node(1).GetStatus().applied, net.node(1).GetStatus().last_index);
  EXPECT_EQ(net.node(1).ProposeConfChange({ConfChangeType::kAddLearner, NodeId(4)}).code(),
            StatusCode::kFailedPrecondition);
}

TEST(Membership, InvalidChangesAreRefusedUpFront) {
  Network net(3);
  net.Elect(1);
  EXPECT_EQ(net.node(1).ProposeConfChange({ConfChangeType::kAddVoter, NodeId(2)}).code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(net.node(1).ProposeConfChange({ConfChangeType::kRemoveNode, NodeId(9)}).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(net.node(2).ProposeConfChange({ConfChangeType::kRemoveNode, NodeId(3)}).code(),
            StatusCode::kNotLeader);
}

TEST(Membership, RemovedFollowerNoLongerCountsNorReceives) {
  Network net(3);
  net.Elect(1);
  ASSERT_TRUE(net.node(1).ProposeConfChange({ConfChangeType::kRemoveNode, NodeId(3)}).ok());
  net.Stabilize();
  EXPECT_EQ(net.node(1).GetConfState().voters, (std::vector<NodeId>{NodeId(1), NodeId(2)}));
  net.test_node(1).sent.clear();
  ASSERT_TRUE(net.node(1).Propose("x").ok());
  net.TickAllAndStabilize(2);
  for (const Message& m : net.test_node(1).sent) EXPECT_NE(m.to, NodeId(3));
  EXPECT_EQ(net.test_node(2).applied.back().data, "x");
  // The removed node does not campaign (not promotable any more).
  net.Tick(3, 100);
  EXPECT_EQ(net.node(3).GetStatus().role, Role::kFollower);
}

TEST(Membership, LeaderRemovingItselfStepsDownAfterCommitAndOthersGoOn) {
  Network net(3);
  net.Elect(1);
  ASSERT_TRUE(net.node(1).ProposeConfChange({ConfChangeType::kRemoveNode, NodeId(1)}).ok());
  net.Stabilize();
  EXPECT_EQ(net.node(1).GetStatus().role, Role::kFollower);
  // The others learned the commit before it stepped down and apply the removal too.
  EXPECT_EQ(net.node(2).GetConfState().voters, (std::vector<NodeId>{NodeId(2), NodeId(3)}));
  net.TickAllAndStabilize(100);
  const uint64_t leader = net.Leader();
  ASSERT_TRUE(leader == 2 || leader == 3);
  ASSERT_TRUE(net.node(leader).Propose("after").ok());
  net.Stabilize();
  EXPECT_EQ(net.test_node(5 - leader).applied.back().data, "after");
}

TEST(Bootstrap, FoundingMembersStartFromTheSameCommittedConfiguration) {
  Network net(0);
  for (uint64_t id = 1; id <= 3; ++id) {
    net.AddNode(NodeId(id), ConfState{});
    ASSERT_TRUE(net.node(id).Bootstrap({NodeId(1), NodeId(2), NodeId(3)}).ok());
  }
  net.Stabilize();
  EXPECT_EQ(net.node(2).GetConfState().voters.size(), 3u);
  EXPECT_EQ(net.node(2).GetStatus().commit, LogIndex(3));
  net.Elect(2);
  EXPECT_EQ(net.node(2).GetStatus().role, Role::kLeader);
  ASSERT_TRUE(net.node(2).Propose("x").ok());
  net.Stabilize();
  EXPECT_EQ(net.test_node(3).applied.back().data, "x");
  // Restart keeps the configuration (replayed from the log up to applied).
  net.Restart(NodeId(3));
  EXPECT_EQ(net.node(3).GetConfState().voters.size(), 3u);
}

TEST(Bootstrap, RefusedOnANodeWithStateOrBadVoters) {
  Network net(3);
  EXPECT_EQ(net.node(1).Bootstrap({NodeId(1)}).code(), StatusCode::kFailedPrecondition);
  Network fresh(0);
  fresh.AddNode(NodeId(1), ConfState{});
  EXPECT_EQ(fresh.node(1).Bootstrap({}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fresh.node(1).Bootstrap({NodeId(2)}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fresh.node(1).Bootstrap({NodeId(1), NodeId(1)}).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace nds::raft
