// Goal: each safety checker of the simulator objects to exactly the violation it is named for,
// and stays quiet on legal histories (including a node cut off with an old leader holding a stale
// uncommitted entry at an index committed elsewhere).
// Method: feed the SafetyChecker hand-made sequences of appends, commits, applies and roles.
#include "sim/safety.h"

#include <gtest/gtest.h>

namespace nds::sim {
namespace {

raft::Entry E(uint64_t index, uint64_t term, std::string data = "d") {
  return raft::Entry{Term(term), LogIndex(index), raft::EntryType::kNormal, std::move(data)};
}

const NodeId n1(1), n2(2), n3(3);

TEST(SafetyChecker, TwoLeadersInOneTermAreReported) {
  SafetyChecker c;
  EXPECT_TRUE(c.OnLeader(n1, Term(3)).ok());
  EXPECT_TRUE(c.OnLeader(n1, Term(3)).ok());
  EXPECT_TRUE(c.OnLeader(n2, Term(4)).ok());
  EXPECT_EQ(c.OnLeader(n2, Term(3)).code(), StatusCode::kCorruption);
}

TEST(SafetyChecker, LogMatchingComparesWholePrefixes) {
  SafetyChecker c;
  ASSERT_TRUE(c.OnAppend(n1, {E(1, 1, "a"), E(2, 1, "b")}).ok());
  ASSERT_TRUE(c.OnAppend(n2, {E(1, 1, "a"), E(2, 1, "b"), E(3, 2, "c")}).ok());
  // Same index and term at 2, but a different entry 1 beneath it.
  EXPECT_EQ(c.OnAppend(n3, {E(1, 1, "z"), E(2, 1, "b")}).code(), StatusCode::kCorruption);
}

TEST(SafetyChecker, TermsInALogNeverDecrease) {
  SafetyChecker c;
  EXPECT_EQ(c.OnAppend(n1, {E(1, 2), E(2, 1)}).code(), StatusCode::kCorruption);
}

TEST(SafetyChecker, CommitsMustAgreeAndStayWithinTheLog) {
  SafetyChecker c;
  ASSERT_TRUE(c.OnAppend(n1, {E(1, 1, "a"), E(2, 1, "b")}).ok());
  ASSERT_TRUE(c.OnAppend(n2, {E(1, 1, "a"), E(2, 2, "x")}).ok());
  EXPECT_TRUE(c.OnCommit(n1, Term(1), LogIndex(2)).ok());
  EXPECT_EQ(c.OnCommit(n2, Term(2), LogIndex(2)).code(), StatusCode::kCorruption);
  EXPECT_EQ(c.OnCommit(n1, Term(1), LogIndex(3)).code(), StatusCode::kCorruption);
}

TEST(SafetyChecker, TruncatingBelowOwnCommitIsReported) {
  SafetyChecker c;
  ASSERT_TRUE(c.OnAppend(n1, {E(1, 1), E(2, 1)}).ok());
  ASSERT_TRUE(c.OnCommit(n1, Term(1), LogIndex(2)).ok());
  EXPECT_EQ(c.OnAppend(n1, {E(2, 2)}).code(), StatusCode::kCorruption);
}

TEST(SafetyChecker, StaleEntryAtAnIndexCommittedElsewhereIsLegal) {
  SafetyChecker c;
  ASSERT_TRUE(c.OnAppend(n1, {E(1, 1, "a"), E(2, 3, "new")}).ok());
  ASSERT_TRUE(c.OnCommit(n1, Term(3), LogIndex(2)).ok());
  // n2 follows an old leader of term 2 that never committed its entry 2.
  EXPECT_TRUE(c.OnAppend(n2, {E(1, 1, "a"), E(2, 2, "old")}).ok());
}

TEST(SafetyChecker, LeaderMustHoldEntriesCommittedInEarlierTerms) {
  SafetyChecker c;
  ASSERT_TRUE(c.OnAppend(n1, {E(1, 1, "a"), E(2, 1, "b")}).ok());
  ASSERT_TRUE(c.OnCommit(n1, Term(1), LogIndex(2)).ok());
  ASSERT_TRUE(c.OnAppend(n2, {E(1, 1, "a")}).ok());
  // A leader of term 1 itself need not be checked against commits seen in term 1...
  EXPECT_TRUE(c.OnLeader(n2, Term(1)).ok());
  // ...but a leader of term 2 must hold entry 2.
  EXPECT_EQ(c.OnLeader(n2, Term(2)).code(), StatusCode::kCorruption);
  EXPECT_TRUE(c.OnLeader(n1, Term(3)).ok());
}

TEST(SafetyChecker, NodesMustApplyTheSameSequenceInOrder) {
  SafetyChecker c;
  ASSERT_TRUE(c.OnAppend(n1, {E(1, 1, "a"), E(2, 1, "b")}).ok());
  ASSERT_TRUE(c.OnCommit(n1, Term(1), LogIndex(2)).ok());
  EXPECT_TRUE(c.OnApply(n1, E(1, 1, "a")).ok());
  EXPECT_EQ(c.OnApply(n1, E(3, 1, "c")).code(), StatusCode::kCorruption);   // gap
  EXPECT_EQ(c.OnApply(n2, E(1, 1, "zz")).code(), StatusCode::kCorruption);  // divergent
  EXPECT_EQ(c.OnApply(n3, E(1, 1, "a")).code(), StatusCode::kOk);
  EXPECT_EQ(c.applied_max(), LogIndex(1));
}

TEST(SafetyChecker, ApplyingAnUncommittedEntryIsReported) {
  SafetyChecker c;
  ASSERT_TRUE(c.OnAppend(n1, {E(1, 1, "a")}).ok());
  EXPECT_EQ(c.OnApply(n1, E(1, 1, "a")).code(), StatusCode::kCorruption);
}

TEST(SafetyChecker, RestartRebuildsTheNodeFromItsDurableLog) {
  SafetyChecker c;
  ASSERT_TRUE(c.OnAppend(n1, {E(1, 1, "a"), E(2, 1, "b")}).ok());
  ASSERT_TRUE(c.OnCommit(n1, Term(1), LogIndex(2)).ok());
  ASSERT_TRUE(c.OnApply(n1, E(1, 1, "a")).ok());
  ASSERT_TRUE(c.OnRestart(n1, {E(1, 1, "a")}).ok());
  EXPECT_EQ(c.LastIndex(n1), LogIndex(1));
  EXPECT_TRUE(c.OnApply(n1, E(1, 1, "a")).ok());  // replays from the start
}

TEST(SafetyChecker, TwoLeaseHoldersAreReported) {
  SafetyChecker c;
  EXPECT_TRUE(c.CheckLeases({}).ok());
  EXPECT_TRUE(c.CheckLeases({n1}).ok());
  EXPECT_EQ(c.CheckLeases({n1, n2}).code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace nds::sim
