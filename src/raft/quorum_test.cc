// Goal: the majority and joint-majority maths are right. Method: hand-picked cases, then a
// property test comparing against a deliberately naive implementation (try every candidate value
// and count) on random configurations and acknowledgements.
#include "raft/quorum.h"

#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace nds::raft {
namespace {

std::vector<NodeId> Ids(std::initializer_list<uint64_t> ids) {
  std::vector<NodeId> out;
  for (uint64_t i : ids) out.push_back(NodeId(i));
  return out;
}

TEST(Quorum, CommittedIsTheValueAMajorityReached) {
  std::map<NodeId, LogIndex> acked{
      {NodeId(1), LogIndex(5)}, {NodeId(2), LogIndex(3)}, {NodeId(3), LogIndex(9)}};
  EXPECT_EQ(MajorityCommitted(Ids({1, 2, 3}), acked), LogIndex(5));
  // A missing voter counts as 0.
  EXPECT_EQ(MajorityCommitted(Ids({1, 2, 3, 4}), acked), LogIndex(3));
  EXPECT_EQ(MajorityCommitted(Ids({1}), acked), LogIndex(5));
}

TEST(Quorum, EmptyConfigAgreesToAnything) {
  EXPECT_EQ(MajorityCommitted({}, {}).value, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(MajorityVoteResult({}, {}), VoteResult::kWon);
}

TEST(Quorum, JointNeedsBothMajorities) {
  auto v = [](NodeId id) -> uint64_t { return id.value * 10; };
  // incoming {1,2,3}: majority value 20; outgoing {4,5,6}: 50.
  EXPECT_EQ(JointMajorityValue(Ids({1, 2, 3}), Ids({4, 5, 6}), v), 20u);
  EXPECT_EQ(JointMajorityValue(Ids({1, 2, 3}), {}, v), 20u);
}

TEST(Quorum, VotesWinLoseOrPend) {
  auto voters = Ids({1, 2, 3});
  EXPECT_EQ(MajorityVoteResult(voters, {{NodeId(1), true}}), VoteResult::kPending);
  EXPECT_EQ(MajorityVoteResult(voters, {{NodeId(1), true}, {NodeId(2), true}}), VoteResult::kWon);
  EXPECT_EQ(MajorityVoteResult(voters, {{NodeId(1), true}, {NodeId(2), false}}),
            VoteResult::kPending);
  EXPECT_EQ(MajorityVoteResult(voters, {{NodeId(2), false}, {NodeId(3), false}}),
            VoteResult::kLost);
  // A vote from a non-voter does not count.
  EXPECT_EQ(MajorityVoteResult(voters, {{NodeId(1), true}, {NodeId(9), true}}),
            VoteResult::kPending);
}

TEST(Quorum, JointVoteLostWhenEitherHalfLoses) {
  std::map<NodeId, bool> votes{
      {NodeId(1), true}, {NodeId(2), true}, {NodeId(4), false}, {NodeId(5), false}};
  EXPECT_EQ(JointVoteResult(Ids({1, 2, 3}), Ids({4, 5, 6}), votes), VoteResult::kLost);
  votes[NodeId(4)] = true;
  votes[NodeId(5)] = true;
  EXPECT_EQ(JointVoteResult(Ids({1, 2, 3}), Ids({4, 5, 6}), votes), VoteResult::kWon);
  votes.erase(NodeId(5));
  EXPECT_EQ(JointVoteResult(Ids({1, 2, 3}), Ids({4, 5, 6}), votes), VoteResult::kPending);
}

// The naive reference: the largest candidate value reached by more than half the voters.
uint64_t NaiveMajority(const std::vector<NodeId>& voters, const std::map<NodeId, uint64_t>& v) {
  if (voters.empty()) return std::numeric_limits<uint64_t>::max();
  uint64_t best = 0;
  for (NodeId c : voters) {
    uint64_t candidate = v.at(c);
    size_t reached = 0;
    for (NodeId id : voters) reached += v.at(id) >= candidate ? 1 : 0;
    if (2 * reached > voters.size() && candidate > best) best = candidate;
  }
  return best;
}

VoteResult NaiveVote(const std::vector<NodeId>& voters, const std::map<NodeId, bool>& votes) {
  if (voters.empty()) return VoteResult::kWon;
  size_t yes = 0, no = 0;
  for (NodeId id : voters) {
    auto it = votes.find(id);
    if (it == votes.end()) continue;
    (it->second ? yes : no)++;
  }
  if (2 * yes > voters.size()) return VoteResult::kWon;
  if (2 * no >= voters.size() && 2 * (voters.size() - no) <= voters.size())
    return VoteResult::kLost;
  return VoteResult::kPending;
}

TEST(QuorumProperty, MatchesNaiveImplementationOnRandomInputs) {
  std::mt19937_64 rng(42);
  for (int iter = 0; iter < 5000; ++iter) {
    const size_t n = rng() % 8;
    std::vector<NodeId> voters;
    std::map<NodeId, uint64_t> values;
    std::map<NodeId, bool> votes;
    for (size_t i = 1; i <= n; ++i) {
      voters.push_back(NodeId(i));
      values[NodeId(i)] = rng() % 6;
      switch (rng() % 3) {
        case 0:
          votes[NodeId(i)] = true;
          break;
        case 1:
          votes[NodeId(i)] = false;
          break;
        default:
          break;
      }
    }
    ASSERT_EQ(MajorityValue(voters, [&](NodeId id) { return values.at(id); }),
              NaiveMajority(voters, values))
        << "iter " << iter;
    ASSERT_EQ(MajorityVoteResult(voters, votes), NaiveVote(voters, votes)) << "iter " << iter;
  }
}

}  // namespace
}  // namespace nds::raft
