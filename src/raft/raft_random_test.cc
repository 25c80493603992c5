// Goal: safety under faults, beyond scripted cases: at most one leader per term, committed
// entries never change (State Machine Safety, §5.4.3), every node applies a prefix of one
// sequence, and CheckInvariants holds after every Ready. Method: a seeded random walk over a
// 5-node Network with proposals, ticks, message loss, duplication and reordering, partitions,
// restarts and (second test) membership changes; a fixed, small set of seeds (NDS_RAFT_SEEDS=N
// for more; the full simulator in sim/ runs many more). A failure prints the seed.
#include <algorithm>
#include <cstdlib>
#include <deque>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "raft/test_network.h"

namespace nds::raft {
namespace {

using testing::Network;

class SafetyChecker {
 public:
  // Records leaders per term and checks applied sequences against the first seen at each index.
  void Check(Network& net, uint64_t seed) {
    for (auto& [id, t] : net.nodes()) {
      BasicStatus s = t.node->GetStatus();
      if (s.role == Role::kLeader) {
        auto [it, inserted] = leader_of_term_.emplace(s.term.value, id.value);
        ASSERT_EQ(it->second, id.value) << "two leaders in term " << s.term << " seed " << seed;
      }
      for (const Entry& e : t.applied) {
        auto [it, inserted] = applied_at_.emplace(e.index.value, e);
        ASSERT_EQ(it->second, e) << "node " << id << " applied " << ToString(e) << " where "
                                 << ToString(it->second) << " was applied, seed " << seed;
      }
    }
  }

 private:
  std::map<uint64_t, uint64_t> leader_of_term_;
  std::map<uint64_t, Entry> applied_at_;
};

// Proposes one random membership change on the leader, if any: add a brand-new node as a learner
// (ids are never reused), promote a learner, or remove a voter while more than three remain.
void RandomConfChange(Network& net, std::mt19937_64& rng, uint64_t* next_id) {
  const uint64_t leader = net.Leader();
  if (leader == 0) return;
  const ConfState cs = net.node(leader).GetConfState();
  ConfChange cc;
  switch (rng() % 3) {
    case 0:
      if (*next_id > 8) return;
      net.AddNode(NodeId(*next_id), ConfState{});
      cc = {ConfChangeType::kAddLearner, NodeId((*next_id)++)};
      break;
    case 1:
      if (cs.learners.empty()) return;
      cc = {ConfChangeType::kAddVoter, cs.learners[rng() % cs.learners.size()]};
      break;
    default:
      if (cs.voters.size() <= 3) return;
      cc = {ConfChangeType::kRemoveNode, cs.voters[rng() % cs.voters.size()]};
      break;
  }
  IgnoreError(net.node(leader).ProposeConfChange(cc), "a refused change is fine here");
}

void RunSeed(uint64_t seed, bool with_conf_changes) {
  uint64_t next_id = 6;
  std::mt19937_64 rng(seed);
  Network net(0, 0, [seed](Config* c) {
    c->seed ^= seed;
    c->max_inflight_msgs = 4;
    c->max_msg_bytes = 64;
    c->max_inflight_bytes = 256;
  });
  // Bootstrap puts the first configuration in the log, so that a node joining later with an
  // empty log learns it (a configuration only in an index-0 snapshot would never reach it).
  const std::vector<NodeId> founders = {NodeId(1), NodeId(2), NodeId(3), NodeId(4), NodeId(5)};
  for (NodeId id : founders) {
    net.AddNode(id, ConfState{});
    ASSERT_TRUE(net.node(id).Bootstrap(founders).ok());
  }
  SafetyChecker checker;
  int proposals = 0;
  for (int step = 0; step < 400; ++step) {
    switch (rng() % 10) {
      case 0: {
        uint64_t leader = net.Leader();
        if (leader != 0) {
          IgnoreError(net.node(leader).Propose("p" + std::to_string(proposals++)),
                      "a refused proposal is fine here");
        }
        break;
      }
      case 1:
        if (rng() % 8 == 0) {
          net.Heal();
          if (rng() % 2 == 0) net.Isolate(1 + rng() % net.nodes().size());
        }
        break;
      case 2:
        if (rng() % 20 == 0) net.Restart(NodeId(1 + rng() % net.nodes().size()));
        break;
      case 3:
        if (with_conf_changes && rng() % 4 == 0) RandomConfChange(net, rng, &next_id);
        break;
      default:
        break;
    }
    net.TickAll();
    net.ProcessAll();
    // Lose, duplicate and reorder some of the traffic.
    std::deque<Message>& q = net.queue();
    std::deque<Message> next;
    for (Message& m : q) {
      uint64_t r = rng() % 20;
      if (r == 0) continue;           // lost
      if (r == 1) next.push_back(m);  // duplicated
      next.push_back(std::move(m));
    }
    std::shuffle(next.begin(), next.end(), rng);
    q = std::move(next);
    net.DeliverAll();
    net.ProcessAll();
    checker.Check(net, seed);
    if (::testing::Test::HasFatalFailure()) return;
  }
  // Heal and let the cluster converge: everyone applies the same log.
  net.Heal();
  net.TickAllAndStabilize(60);
  checker.Check(net, seed);
  const uint64_t leader = net.Leader();
  ASSERT_NE(leader, 0u) << "seed " << seed;
  const LogIndex commit = net.node(leader).GetStatus().commit;
  EXPECT_GT(commit.value, 10u) << "seed " << seed << ": the walk made too little progress";
  const ConfState cs = net.node(leader).GetConfState();
  for (auto& [id, t] : net.nodes()) {
    if (!IsMember(cs, id)) continue;  // removed nodes may have missed the end
    EXPECT_EQ(t.node->GetStatus().commit, commit) << "node " << id << " seed " << seed;
  }
}

TEST(RaftRandom, SafetyHoldsUnderLossReorderPartitionsAndRestarts) {
  // NDS_RAFT_SEEDS=N runs more seeds on demand; the default keeps the unit test fast.
  const char* env = std::getenv("NDS_RAFT_SEEDS");
  const uint64_t seeds = env != nullptr ? std::strtoull(env, nullptr, 10) : 25;
  for (uint64_t seed = 1; seed <= seeds; ++seed) {
    RunSeed(seed, false);
    if (HasFatalFailure()) return;
  }
}

TEST(RaftRandom, SafetyHoldsThroughMembershipChanges) {
  const char* env = std::getenv("NDS_RAFT_SEEDS");
  const uint64_t seeds = env != nullptr ? std::strtoull(env, nullptr, 10) : 25;
  for (uint64_t seed = 1; seed <= seeds; ++seed) {
    RunSeed(seed, true);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace nds::raft
