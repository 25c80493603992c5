// Goal: the Raft loop hands committed entries to the apply stage and goes on without waiting for
// the engine: while an apply is held, writes still commit and passes still run; a write is
// answered, and a linearizable read released, only once the engine has applied it, in log order;
// batches held past their node's end do nothing, and the log applies them at the next Open.
// Method: a driven one-node cluster (RaftNode::OpenDriven) on a memory engine in a temporary
// directory, with a fake clock and a run_apply that holds each apply until the test runs it.
#include <functional>
#include <vector>

#include <gtest/gtest.h>

#include "engine/memory_engine.h"
#include "node/driven_node_for_test.h"
#include "node/raft_node.h"
#include "store/command.h"
#include "store/keyspace.h"

namespace nds::node {
namespace {

class ApplyStageTest : public DrivenNodeTest {
 protected:
  ApplyStageTest() : DrivenNodeTest("raft_node_apply_test_") {}

  std::unique_ptr<RaftNode> Open() {
    RaftNodeEnv env = FakeEnv(11);
    env.run_apply = [this](std::function<void()> work) { held_.push_back(std::move(work)); };
    auto node = RaftNode::OpenDriven(engine::NewMemoryEngine(), LoneOptions(), env, &peers_);
    EXPECT_TRUE(node.ok()) << node.status().ToString();
    return node.ok() ? std::move(node).value() : nullptr;
  }

  // Passes until the start-up writes (the lone voter's first entry, its member record) are
  // committed, and applies them.
  void Settle(RaftNode* node) {
    Step(node, 5);
    for (auto& w : held_) w();
    held_.clear();
    Step(node);
  }

  bool Has(const RaftNode& node, const std::string& key) {
    auto v = node.engine().Get(store::DataKey(key));
    EXPECT_TRUE(v.ok());
    return v.ok() && v->has_value();
  }

  std::vector<std::function<void()>> held_;
};

TEST_F(ApplyStageTest, TheLoopGoesOnWhileAnApplyIsHeldAndAnswersInLogOrderOnceApplied) {
  auto node = Open();
  ASSERT_NE(node, nullptr);
  Settle(node.get());
  const uint64_t passes_before = node->metrics().loop_pass.Count();
  std::vector<std::string> answered;
  std::vector<uint64_t> revisions;
  for (const std::string key : {"a", "b"}) {
    node->Submit(store::PutCommand(key, "v"), [&, key](const store::ApplyResult& r) {
      EXPECT_TRUE(r.status.ok()) << r.status.ToString();
      answered.push_back(key);
      revisions.push_back(r.revision);
    });
    Step(node.get(), 3);
  }
  bool read_released = false;
  node->WaitForReadPoint([&](const Status& s) {
    EXPECT_TRUE(s.ok()) << s.ToString();
    read_released = true;
  });
  Step(node.get(), 5);
  // Both writes committed and the loop ran every pass, but nothing reached the engine.
  EXPECT_EQ(node->metrics().loop_pass.Count(), passes_before + 11);
  NodeStatus st = node->GetStatus();
  EXPECT_GE(st.commit_index, st.applied_index + 2) << "the writes did not commit while held";
  EXPECT_EQ(held_.size(), 2u) << "one apply per committed batch";
  EXPECT_TRUE(answered.empty()) << "a write answered before it was applied";
  EXPECT_FALSE(read_released) << "a read released before the engine reached its read point";
  EXPECT_FALSE(Has(*node, "a"));
  // Whichever held call runs first applies the oldest batch: run them newest first.
  held_[1]();
  EXPECT_TRUE(Has(*node, "a"));
  EXPECT_FALSE(Has(*node, "b"));
  held_[0]();
  held_.clear();
  EXPECT_TRUE(Has(*node, "b"));
  Step(node.get());
  EXPECT_EQ(answered, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(revisions.size(), 2u);
  EXPECT_LT(revisions[0], revisions[1]);
  EXPECT_TRUE(read_released);
  st = node->GetStatus();
  EXPECT_EQ(st.applied_index, node->engine().AppliedIndex().value);
  EXPECT_GE(st.applied_index, revisions[1]);
}

TEST_F(ApplyStageTest, HeldAppliesThatOutliveTheirNodeDoNothingAndTheLogAppliesThemAgain) {
  auto node = Open();
  ASSERT_NE(node, nullptr);
  Settle(node.get());
  bool answered = false;
  store::ApplyResult result;
  node->Submit(store::PutCommand("k", "v"), [&](store::ApplyResult r) {
    answered = true;
    result = std::move(r);
  });
  Step(node.get(), 3);
  ASSERT_EQ(held_.size(), 1u);
  EXPECT_FALSE(answered);
  node.reset();
  ASSERT_TRUE(answered);
  EXPECT_EQ(result.status.code(), StatusCode::kUnavailable) << "not applied, not acknowledged";
  held_[0]();  // the stage is closed: nothing runs on what the node left behind
  held_.clear();
  node = Open();  // a new, empty memory engine: everything comes from the log
  ASSERT_NE(node, nullptr);
  Settle(node.get());
  EXPECT_TRUE(Has(*node, "k")) << "a committed write was lost with its held apply";
}

}  // namespace
}  // namespace nds::node
