// Goal: elections beyond the paper: pre-vote (thesis §9.6), check-quorum (§6.2), leader
// stickiness (§4.2.3) and the leader lease built on it. Each test has a twin showing the failure
// when the feature is off, so the test can fail if the feature broke.
// Method: RawNodes on the in-test Network; partitions and dropped messages; ticks drive time.
#include <gtest/gtest.h>

#include "raft/test_network.h"

namespace nds::raft {
namespace {

using testing::MakeMessage;
using testing::Network;

TEST(PreVote, IsolatedNodeDoesNotInflateItsTermNorDisruptOnReturn) {
  Network net(3);
  net.Elect(1);
  const Term term = net.node(1).GetStatus().term;
  net.Isolate(3);
  net.TickAllAndStabilize(50);  // node 3 times out many times
  EXPECT_EQ(net.node(3).GetStatus().term, term);
  EXPECT_EQ(net.node(3).GetStatus().role, Role::kPreCandidate);
  net.Heal();
  net.TickAllAndStabilize(5);
  EXPECT_EQ(net.node(1).GetStatus().role, Role::kLeader);
  EXPECT_EQ(net.node(1).GetStatus().term, term);
  EXPECT_EQ(net.node(3).GetStatus().leader, NodeId(1));
}

TEST(PreVote, WithoutPreVoteAReturningNodeDisruptsTheLeader) {
  Network net(3, 0, [](Config* c) {
    c->pre_vote = false;
    c->check_quorum = false;
  });
  net.Elect(1);
  const Term term = net.node(1).GetStatus().term;
  net.Isolate(3);
  net.TickAllAndStabilize(50);
  EXPECT_GT(net.node(3).GetStatus().term, term);
  net.Heal();
  net.TickAllAndStabilize(20);                    // node 3's next campaign reaches the leader
  EXPECT_GT(net.node(1).GetStatus().term, term);  // the leader was deposed by the higher term
}

TEST(PreVote, PreCandidateBecomesCandidateOnlyWithMajorityOfPreVotes) {
  Network net(3);
  net.Isolate(1);
  net.node(1).Campaign();
  net.Stabilize();
  EXPECT_EQ(net.node(1).GetStatus().role, Role::kPreCandidate);
  EXPECT_EQ(net.node(1).GetStatus().term, Term(0));
  net.Heal();
  net.Elect(1);
  EXPECT_EQ(net.node(1).GetStatus().role, Role::kLeader);
  EXPECT_EQ(net.node(1).GetStatus().term, Term(1));
}

TEST(CheckQuorum, IsolatedLeaderStepsDownAfterAnElectionTimeout) {
  Network net(3);
  net.Elect(1);
  net.Isolate(1);
  // The first check (tick 10) still sees the activity from before the cut; the second fails.
  net.Tick(1, 10);
  EXPECT_EQ(net.node(1).GetStatus().role, Role::kLeader);
  net.Tick(1, 10);
  EXPECT_EQ(net.node(1).GetStatus().role, Role::kFollower);
}

TEST(CheckQuorum, LeaderWithMajorityStays) {
  Network net(3);
  net.Elect(1);
  net.Isolate(3);
  net.TickAllAndStabilize(40);
  EXPECT_EQ(net.node(1).GetStatus().role, Role::kLeader);
}

TEST(CheckQuorum, WithoutCheckQuorumAnIsolatedLeaderStaysLeader) {
  Network net(3, 0, [](Config* c) { c->check_quorum = false; });
  net.Elect(1);
  net.Isolate(1);
  net.Tick(1, 40);
  EXPECT_EQ(net.node(1).GetStatus().role, Role::kLeader);
}

Message VoteRequest(uint64_t from, uint64_t to, uint64_t term, uint64_t last_index) {
  Message m = MakeMessage(MessageType::kVote, from, to, Term(term));
  m.index = LogIndex(last_index);
  m.log_term = Term(term - 1);
  return m;
}

TEST(LeaderStickiness, FollowerWithLiveLeaderIgnoresHigherTermVotes) {
  Network net(3);
  net.Elect(1);
  net.test_node(2).sent.clear();
  ASSERT_TRUE(net.node(2).Step(VoteRequest(3, 2, 5, 100)).ok());
  net.Process(NodeId(2));
  EXPECT_EQ(net.node(2).GetStatus().term, Term(1));
  EXPECT_EQ(net.node(2).GetStatus().leader, NodeId(1));
  EXPECT_TRUE(net.test_node(2).sent.empty());
}

TEST(LeaderStickiness, FollowerVotesOnceTheLeaderIsSilentForAnElectionTimeout) {
  Network net(3, 0, [](Config* c) { c->pre_vote = false; });
  net.Elect(1);
  net.Isolate(1);
  net.Isolate(2);  // keep node 2 from campaigning on its own traffic
  net.Tick(2, 10);
  ASSERT_TRUE(net.node(2).Step(VoteRequest(3, 2, 5, 100)).ok());
  EXPECT_EQ(net.node(2).GetStatus().term, Term(5));
  EXPECT_EQ(net.node(2).GetStatus().vote, NodeId(3));
}

TEST(Lease, LeaderHoldsLeaseOnlyAfterAMajorityAcksAHeartbeatRound) {
  Network net(3);
  net.Elect(1);
  EXPECT_FALSE(net.node(1).HasLeaderLease());  // no round acknowledged yet this term
  net.TickAllAndStabilize(1);
  EXPECT_TRUE(net.node(1).HasLeaderLease());
  EXPECT_FALSE(net.node(2).HasLeaderLease());
}

TEST(Lease, LeaseIsMeasuredFromWhenTheRoundWasSentNotWhenAcked) {
  Network net(3, 0, [](Config* c) { c->lease_ticks = 5; });
  net.Elect(1);
  net.Tick(1);  // round R sent at tick T
  net.Process(NodeId(1));
  std::deque<Message> round_r = net.queue();
  net.ClearQueue();
  for (int i = 0; i < 3; ++i) {  // three more rounds, all lost
    net.Tick(1);
    net.Process(NodeId(1));
    net.ClearQueue();
  }
  // Round R's heartbeats arrive late (T+3) and are acknowledged.
  net.queue() = round_r;
  net.DeliverAll();
  net.Process(NodeId(2));
  net.Process(NodeId(3));
  net.DeliverAll();
  EXPECT_TRUE(net.node(1).HasLeaderLease());    // T+3 < T+5
  EXPECT_EQ(net.node(1).LeaseTicksLeft(), 2u);  // the driver maps these ticks to wall time
  net.Tick(1);
  EXPECT_TRUE(net.node(1).HasLeaderLease());  // T+4
  EXPECT_EQ(net.node(1).LeaseTicksLeft(), 1u);
  net.Tick(1);
  EXPECT_EQ(net.node(1).LeaseTicksLeft(), 0u);
  // T+5: expired, although the acks arrived only 2 ticks ago.
  EXPECT_FALSE(net.node(1).HasLeaderLease());
}

TEST(Lease, IsolatedLeaderLosesLeaseBeforeOthersCanElect) {
  Network net(3);
  net.Elect(1);
  net.TickAllAndStabilize(1);
  ASSERT_TRUE(net.node(1).HasLeaderLease());
  net.Isolate(1);
  int ticks = 0;
  while (net.node(1).HasLeaderLease()) {
    net.TickAllAndStabilize(1);
    ++ticks;
    ASSERT_LT(ticks, 100);
  }
  // Lease lost strictly before the followers' election timeout (10 ticks) can fire.
  EXPECT_LT(ticks, 10);
  EXPECT_NE(net.node(2).GetStatus().role, Role::kLeader);
  EXPECT_NE(net.node(3).GetStatus().role, Role::kLeader);
}

TEST(Lease, NoLeaseOnceALeadershipTransferStarted) {
  Network net(3);
  net.Elect(1);
  net.TickAllAndStabilize(1);
  ASSERT_TRUE(net.node(1).HasLeaderLease());
  net.Isolate(2);
  ASSERT_TRUE(net.node(1).TransferLeadership(NodeId(2)).ok());
  EXPECT_FALSE(net.node(1).HasLeaderLease());
  net.TickAllAndStabilize(15);  // the transfer is aborted, the term goes on
  ASSERT_EQ(net.node(1).GetStatus().role, Role::kLeader);
  EXPECT_FALSE(net.node(1).HasLeaderLease());
}

TEST(Lease, RestartedVoterGrantsNoVoteForAnElectionTimeout) {
  // The restarted node may have acknowledged a heartbeat round that a leader's lease relies on.
  Network net(3, 0, [](Config* c) { c->pre_vote = false; });
  net.Elect(1);
  net.Restart(NodeId(2));
  const Term term = net.node(2).GetStatus().term;
  ASSERT_TRUE(net.node(2).Step(VoteRequest(3, 2, term.value + 1, 100)).ok());
  EXPECT_EQ(net.node(2).GetStatus().vote, NodeId(1));  // ignored: still quiet
  EXPECT_EQ(net.node(2).GetStatus().term, term);
  net.Isolate(2);
  net.Tick(2, 10);
  ASSERT_TRUE(net.node(2).Step(VoteRequest(3, 2, term.value + 1, 100)).ok());
  EXPECT_EQ(net.node(2).GetStatus().vote, NodeId(3));
}

TEST(Election, RandomizedTimeoutsElectASingleLeaderWithoutHelp) {
  Network net(5);
  net.TickAllAndStabilize(40);
  int leaders = 0;
  for (uint64_t id = 1; id <= 5; ++id) {
    leaders += net.node(id).GetStatus().role == Role::kLeader ? 1 : 0;
  }
  EXPECT_EQ(leaders, 1);
}

TEST(Election, LearnerNeverCampaigns) {
  Network net(2, 1);
  net.Isolate(3);
  net.Tick(3, 100);
  EXPECT_EQ(net.node(3).GetStatus().role, Role::kFollower);
  EXPECT_TRUE(net.queue().empty());
}

}  // namespace
}  // namespace nds::raft

namespace nds::raft {
namespace {

// A follower that answers every heartbeat is "heard lately" at every tick, also right after a
// check-quorum window closed (when recent_active was just reset); a silent one stops being so
// within two windows (what /cluster/members shows as reachable).
PeerProgress ProgressOf(RawNode& leader, uint64_t id) {
  for (const PeerProgress& p : leader.GetStatus().progress) {
    if (p.id == NodeId(id)) return p;
  }
  ADD_FAILURE() << "no progress for " << id;
  return {};
}

TEST(Reachability, AnAnsweringPeerIsAlwaysHeardLatelyAndASilentOneSoonIsNot) {
  Network net(3);
  net.Elect(1);
  net.TickAllAndStabilize(1);
  bool saw_reset = false;
  for (int i = 0; i < 30; ++i) {
    net.TickAll();  // a window may close here, before the heartbeat answers arrive
    const PeerProgress p = ProgressOf(net.node(1), 2);
    EXPECT_TRUE(p.heard_lately) << "tick " << i;
    saw_reset = saw_reset || !p.recent_active;
    net.Stabilize();
  }
  EXPECT_TRUE(saw_reset);  // a window closed while we watched
  net.Isolate(2);
  int ticks = 0;
  while (ProgressOf(net.node(1), 2).heard_lately) {
    net.TickAllAndStabilize(1);
    ASSERT_LE(++ticks, 2 * 10 + 1);  // two election timeouts of 10 ticks
  }
  EXPECT_EQ(net.node(1).GetStatus().role, Role::kLeader);
}

}  // namespace
}  // namespace nds::raft
