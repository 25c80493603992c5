// Goal: one test per rule of the Raft paper (Ongaro & Ousterhout 2014), named after its section,
// plus the ordering rule of STYLE.md §7 (leader counts itself only once durable).
// Method: RawNodes on the in-test Network (raft/test_network.h); logs are prepared by writing
// each node's MemoryStorage and restarting it; messages are delivered, dropped or stepped by hand.
#include <set>

#include <gtest/gtest.h>

#include "raft/raft.h"
#include "raft/test_network.h"

namespace nds::raft {
namespace {

using testing::MakeMessage;
using testing::Network;

Entry E(uint64_t term, uint64_t index, std::string data = "") {
  return Entry{Term(term), LogIndex(index), EntryType::kNormal, std::move(data)};
}

// The paper's plain Raft: no pre-vote, no check-quorum (so no leader stickiness either).
void NoPreVote(Config* c) {
  c->pre_vote = false;
  c->check_quorum = false;
}

// Gives node `id` the log `entries` and term `term`, as if it had been running before.
void SetLog(Network& net, uint64_t id, const std::vector<Entry>& entries, uint64_t term) {
  ASSERT_TRUE(net.storage(id).Append(entries).ok());
  net.storage(id).SetHardState(HardState{Term(term), kNoNode, LogIndex(0)});
  net.Restart(NodeId(id));
}

std::vector<Message> Sent(Network& net, uint64_t id, MessageType type) {
  std::vector<Message> out;
  for (const Message& m : net.test_node(id).sent) {
    if (m.type == type) out.push_back(m);
  }
  return out;
}

TEST(RaftPaper, Sec5_1_HigherTermTurnsLeaderIntoFollower) {
  Network net(3, 0, NoPreVote);
  net.Elect(1);
  ASSERT_EQ(net.node(1).GetStatus().role, Role::kLeader);
  Message m = MakeMessage(MessageType::kAppendResponse, 2, 1, Term(5));
  ASSERT_TRUE(net.node(1).Step(m).ok());
  EXPECT_EQ(net.node(1).GetStatus().role, Role::kFollower);
  EXPECT_EQ(net.node(1).GetStatus().term, Term(5));
}

TEST(RaftPaper, Sec5_1_StaleTermMessageIsIgnored) {
  Network net(3, 0, NoPreVote);
  net.Elect(1);
  net.Elect(2);  // term 2
  Message m = MakeMessage(MessageType::kVote, 3, 2, Term(1));
  m.index = LogIndex(99);
  m.log_term = Term(99);
  ASSERT_TRUE(net.node(2).Step(m).ok());
  EXPECT_EQ(net.node(2).GetStatus().role, Role::kLeader);
  EXPECT_EQ(net.node(2).GetStatus().term, Term(2));
}

// The vote test above holds even without the stale-term drop (node 2 has voted for itself in
// term 2); this one does not: an append from a deposed leader, whose log matches the follower's,
// would be appended, committed and would make the follower take the old leader as its own.
TEST(RaftPaper, Sec5_1_StaleLeaderAppendIsIgnored) {
  Network net(3, 0, NoPreVote);
  net.Elect(1);
  net.Elect(2);  // term 2: node 3 follows node 2
  const BasicStatus before = net.node(3).GetStatus();
  ASSERT_EQ(before.leader, NodeId(2));
  ASSERT_EQ(before.term, Term(2));
  auto last_term = net.storage(3).TermAt(before.last_index);
  ASSERT_TRUE(last_term.ok());
  net.test_node(3).sent.clear();
  Message m = MakeMessage(MessageType::kAppend, 1, 3, Term(1));
  m.index = before.last_index;
  m.log_term = *last_term;
  m.entries = {E(1, before.last_index.value + 1, "stale")};
  m.commit = LogIndex(before.last_index.value + 1);
  ASSERT_TRUE(net.node(3).Step(m).ok());
  net.Process(NodeId(3));
  const BasicStatus after = net.node(3).GetStatus();
  EXPECT_EQ(after.term, Term(2));
  EXPECT_EQ(after.leader, NodeId(2));
  EXPECT_EQ(after.last_index, before.last_index);
  EXPECT_EQ(after.commit, before.commit);
  for (const Message& sent : Sent(net, 3, MessageType::kAppendResponse)) {
    EXPECT_TRUE(sent.reject || sent.term == Term(2)) << ToString(sent);
    EXPECT_NE(sent.index, LogIndex(before.last_index.value + 1)) << ToString(sent);
  }
}

TEST(RaftPaper, Sec5_2_FollowerStartsElectionAfterElectionTimeout) {
  Network net(3, 0, NoPreVote);
  net.Tick(1, 2 * 10);  // the randomised timeout is < 2 * election_ticks
  net.Process(NodeId(1));
  BasicStatus s = net.node(1).GetStatus();
  EXPECT_EQ(s.role, Role::kCandidate);
  EXPECT_EQ(s.term, Term(1));
  EXPECT_EQ(s.vote, NodeId(1));  // votes for itself
  EXPECT_EQ(Sent(net, 1, MessageType::kVote).size(), 2u);
}

TEST(RaftPaper, Sec5_2_NoElectionBeforeTheTimeout) {
  Network net(3, 0, NoPreVote);
  net.Tick(1, 10 - 1);
  EXPECT_EQ(net.node(1).GetStatus().role, Role::kFollower);
}

TEST(RaftPaper, Sec5_2_RandomizedTimeoutsStayInRangeAndDiffer) {
  std::set<int> seen;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    MemoryStorage s;
    Config c;
    c.id = NodeId(1);
    c.storage = &s;
    c.seed = seed;
    auto r = Raft::Create(c);
    ASSERT_TRUE(r.ok());
    int t = (*r)->randomized_election_ticks();
    EXPECT_GE(t, 10);
    EXPECT_LT(t, 20);
    seen.insert(t);
  }
  EXPECT_GT(seen.size(), 3u);
}

TEST(RaftPaper, Sec5_2_CandidateWithMajorityBecomesLeader) {
  Network net(5, 0, NoPreVote);
  net.Isolate(4);
  net.Isolate(5);
  net.Elect(1);
  EXPECT_EQ(net.node(1).GetStatus().role, Role::kLeader);
  EXPECT_EQ(net.node(2).GetStatus().leader, NodeId(1));
}

TEST(RaftPaper, Sec5_2_CandidateWithoutMajorityDoesNotWin) {
  Network net(5, 0, NoPreVote);
  net.Partition({1, 2});
  net.Elect(1);
  EXPECT_EQ(net.node(1).GetStatus().role, Role::kCandidate);
}

TEST(RaftPaper, Sec5_2_VoterGrantsAtMostOneVotePerTerm) {
  Network net(3, 0, NoPreVote);
  auto vote = [&](uint64_t from) {
    Message m = MakeMessage(MessageType::kVote, from, 1, Term(1));
    return net.node(1).Step(m);
  };
  ASSERT_TRUE(vote(2).ok());
  ASSERT_TRUE(vote(3).ok());
  ASSERT_TRUE(vote(2).ok());  // a retry from the same candidate is granted again
  net.Process(NodeId(1));
  auto resp = Sent(net, 1, MessageType::kVoteResponse);
  ASSERT_EQ(resp.size(), 3u);
  EXPECT_FALSE(resp[0].reject);
  EXPECT_TRUE(resp[1].reject);
  EXPECT_FALSE(resp[2].reject);
  // The vote is part of the hard state persisted before the response is released.
  EXPECT_EQ(net.storage(1).InitialHardState()->vote, NodeId(2));
}

TEST(RaftPaper, Sec5_2_CandidateReturnsToFollowerOnAppendFromLeaderOfSameTerm) {
  Network net(3, 0, NoPreVote);
  net.node(1).Campaign();
  ASSERT_EQ(net.node(1).GetStatus().role, Role::kCandidate);
  Message m = MakeMessage(MessageType::kAppend, 2, 1, Term(1));
  ASSERT_TRUE(net.node(1).Step(m).ok());
  EXPECT_EQ(net.node(1).GetStatus().role, Role::kFollower);
  EXPECT_EQ(net.node(1).GetStatus().leader, NodeId(2));
}

TEST(RaftPaper, Sec5_2_LeaderSendsHeartbeatsEveryHeartbeatTicks) {
  Network net(3, 0, NoPreVote);
  net.Elect(1);
  size_t before = Sent(net, 1, MessageType::kHeartbeat).size();
  net.Tick(1);
  net.Process(NodeId(1));
  EXPECT_EQ(Sent(net, 1, MessageType::kHeartbeat).size(), before + 2);
}

TEST(RaftPaper, Sec5_3_LeaderAppendsEmptyEntryOnElection) {
  Network net(3, 0, NoPreVote);
  net.Elect(1);
  ASSERT_EQ(net.test_node(1).applied.size(), 1u);
  EXPECT_EQ(net.test_node(1).applied[0].term, Term(1));
  EXPECT_TRUE(net.test_node(1).applied[0].data.empty());
}

TEST(RaftPaper, Sec5_3_LeaderReplicatesCommitsAndEveryNodeApplies) {
  Network net(3, 0, NoPreVote);
  net.Elect(1);
  ASSERT_TRUE(net.node(1).Propose("x").ok());
  net.Stabilize();
  for (uint64_t id = 1; id <= 3; ++id) {
    ASSERT_EQ(net.test_node(id).applied.size(), 2u) << id;
    EXPECT_EQ(net.test_node(id).applied[1].data, "x");
    EXPECT_EQ(net.node(id).GetStatus().commit, LogIndex(2));
  }
}

TEST(RaftPaper, Sec5_3_FollowerRejectsAppendWhosePreviousEntryDiffers) {
  Network net(3, 0, NoPreVote);
  SetLog(net, 2, {E(1, 1), E(1, 2)}, 1);
  Message m = MakeMessage(MessageType::kAppend, 1, 2, Term(3));
  m.index = LogIndex(2);
  m.log_term = Term(2);
  m.entries = {E(3, 3)};
  ASSERT_TRUE(net.node(2).Step(m).ok());
  net.Process(NodeId(2));
  auto resp = Sent(net, 2, MessageType::kAppendResponse);
  ASSERT_EQ(resp.size(), 1u);
  EXPECT_TRUE(resp[0].reject);
  EXPECT_EQ(resp[0].reject_hint, LogIndex(2));
  EXPECT_EQ(resp[0].reject_term_hint, Term(1));
  EXPECT_EQ(net.node(2).GetStatus().last_index, LogIndex(2));
}

TEST(RaftPaper, Sec5_3_LeaderRepairsDivergentFollowerLogs) {
  // Figure 7 in small: follower 2 lacks entries, follower 3 has extra uncommitted entries of a
  // term that never won. After the leader's round trips all logs are the leader's.
  Network net(3, 0, NoPreVote);
  SetLog(net, 1, {E(1, 1), E(1, 2), E(4, 3), E(4, 4)}, 4);
  SetLog(net, 2, {E(1, 1)}, 4);
  SetLog(net, 3, {E(1, 1), E(1, 2), E(2, 3), E(2, 4), E(2, 5), E(2, 6)}, 2);
  net.Elect(1);
  ASSERT_EQ(net.node(1).GetStatus().role, Role::kLeader);
  for (uint64_t id = 1; id <= 3; ++id) {
    auto ents = net.storage(id).Entries(LogIndex(1), LogIndex(6), 1 << 20);
    ASSERT_TRUE(ents.ok()) << id;
    ASSERT_EQ(ents->size(), 5u) << id;
    EXPECT_EQ((*ents)[2].term, Term(4)) << id;
    EXPECT_EQ((*ents)[4].term, Term(5)) << id;  // the new leader's empty entry
    EXPECT_EQ(net.node(id).GetStatus().commit, LogIndex(5)) << id;
  }
}

TEST(RaftPaper, Sec5_3_FastBackoffNeedsOneRejectionPerTerm) {
  Network net(2, 0, NoPreVote);
  std::vector<Entry> leader_log, follower_log;
  for (uint64_t i = 1; i <= 10; ++i) leader_log.push_back(E(1, i));
  for (uint64_t i = 11; i <= 50; ++i) leader_log.push_back(E(3, i));
  for (uint64_t i = 1; i <= 10; ++i) follower_log.push_back(E(1, i));
  for (uint64_t i = 11; i <= 60; ++i) follower_log.push_back(E(2, i));
  SetLog(net, 1, leader_log, 3);
  SetLog(net, 2, follower_log, 2);
  net.Elect(1);
  ASSERT_EQ(net.node(1).GetStatus().role, Role::kLeader);
  size_t rejects = 0;
  for (const Message& m : Sent(net, 2, MessageType::kAppendResponse)) rejects += m.reject ? 1 : 0;
  // Without hints this would take ~40 rejections (one per index).
  EXPECT_LE(rejects, 2u);
  EXPECT_EQ(net.node(2).GetStatus().last_index, LogIndex(51));
}

TEST(RaftPaper, Sec5_4_1_VoterRejectsCandidateWithLessUpToDateLog) {
  Network net(3, 0, NoPreVote);
  SetLog(net, 2, {E(1, 1), E(2, 2)}, 2);
  SetLog(net, 3, {E(1, 1), E(2, 2)}, 2);
  SetLog(net, 1, {E(1, 1), E(1, 2), E(1, 3)}, 2);  // longer but older last term
  net.Elect(1);
  EXPECT_NE(net.node(1).GetStatus().role, Role::kLeader);
  for (const Message& m : Sent(net, 2, MessageType::kVoteResponse)) EXPECT_TRUE(m.reject);
  net.Elect(2);
  EXPECT_EQ(net.node(2).GetStatus().role, Role::kLeader);
}

TEST(RaftPaper, Sec5_4_2_OldTermEntryIsNotCommittedByCountingReplicas) {
  // Figure 8: a new leader with an uncommitted entry of an earlier term must not commit it just
  // because a majority stores it; only an entry of its own term commits, and the old one with it.
  Network net(3, 0, NoPreVote);
  SetLog(net, 1, {E(1, 1), E(2, 2)}, 2);
  SetLog(net, 2, {E(1, 1), E(2, 2)}, 2);
  net.Isolate(3);
  net.node(1).Campaign();
  net.Process(NodeId(1));
  net.DeliverAll();  // votes to 2 (3 is cut)
  net.Process(NodeId(2));
  net.DeliverAll();  // grant back to 1: leader of term 3 with its empty entry at 3
  ASSERT_EQ(net.node(1).GetStatus().role, Role::kLeader);
  net.Process(NodeId(1));  // persists entry 3; self match = 3
  net.ClearQueue();
  Message ack;
  ack.type = MessageType::kAppendResponse;
  ack.from = NodeId(2);
  ack.to = NodeId(1);
  ack.term = Term(3);
  ack.index = LogIndex(2);  // follower 2 matches up to the term-2 entry only
  ASSERT_TRUE(net.node(1).Step(ack).ok());
  EXPECT_EQ(net.node(1).GetStatus().commit, LogIndex(0));
  ack.index = LogIndex(3);
  ASSERT_TRUE(net.node(1).Step(ack).ok());
  EXPECT_EQ(net.node(1).GetStatus().commit, LogIndex(3));
}

TEST(RaftPaper, Sec5_4_3_CommittedEntriesSurviveLeaderChange) {
  Network net(3, 0, NoPreVote);
  net.Elect(1);
  ASSERT_TRUE(net.node(1).Propose("keep").ok());
  net.Stabilize();
  net.Isolate(1);
  net.Elect(2);
  ASSERT_EQ(net.node(2).GetStatus().role, Role::kLeader);
  auto ents = net.storage(2).Entries(LogIndex(2), LogIndex(3), 100);
  ASSERT_TRUE(ents.ok());
  EXPECT_EQ((*ents)[0].data, "keep");
}

TEST(RaftOrdering, LeaderCountsItselfOnlyAfterItsEntriesAreDurable) {
  Network net(1);
  net.Elect(1);
  ASSERT_TRUE(net.node(1).Propose("a").ok());
  RawNode& n = net.node(1);
  Ready rd = n.GetReady();
  ASSERT_EQ(rd.entries.size(), 1u);
  EXPECT_TRUE(rd.must_sync);
  EXPECT_TRUE(rd.committed_entries.empty());  // not durable yet: not committed
  EXPECT_EQ(n.GetStatus().commit, LogIndex(1));
  ASSERT_TRUE(net.storage(1).Append(rd.entries).ok());
  n.Advance(rd);
  EXPECT_EQ(n.GetStatus().commit, LogIndex(2));
  Ready rd2 = n.GetReady();
  ASSERT_EQ(rd2.committed_entries.size(), 1u);
  EXPECT_EQ(rd2.committed_entries[0].data, "a");
  n.Advance(rd2);
}

TEST(RaftOrdering, LeaderMayShipAppendsBeforeItsOwnFsyncButFollowersMayNotAck) {
  Network net(3, 0, NoPreVote);
  net.Elect(1);
  ASSERT_TRUE(net.node(1).Propose("a").ok());
  Ready rd = net.node(1).GetReady();
  ASSERT_FALSE(rd.entries.empty());
  ASSERT_FALSE(rd.messages.empty());
  for (const Message& m : rd.messages) {
    EXPECT_EQ(m.type, MessageType::kAppend);
    EXPECT_FALSE(MessageNeedsDurableState(m.type));
  }
  // A follower's acknowledgement rides in the same Ready as the entries it acknowledges.
  ASSERT_TRUE(
      net.node(2).Step(rd.messages[0].to == NodeId(2) ? rd.messages[0] : rd.messages[1]).ok());
  Ready frd = net.node(2).GetReady();
  ASSERT_EQ(frd.entries.size(), 1u);
  ASSERT_EQ(frd.messages.size(), 1u);
  EXPECT_EQ(frd.messages[0].type, MessageType::kAppendResponse);
  EXPECT_TRUE(MessageNeedsDurableState(frd.messages[0].type));
  EXPECT_TRUE(frd.must_sync);
}

}  // namespace
}  // namespace nds::raft
