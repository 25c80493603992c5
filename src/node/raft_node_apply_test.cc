// Goal: the Raft loop hands committed entries to the apply stage and goes on without waiting for
// the engine: while an apply is held, writes still commit and passes still run; a write is
// answered, and a linearizable read released, only once the engine has applied it, in log order;
// batches held past their node's end do nothing, and the log applies them at the next Open.
// Method: a driven one-node cluster (RaftNode::OpenDriven) on a memory engine in a temporary
// directory, with a fake clock and a run_apply that holds each apply until the test runs it.
#include <filesystem>
#include <random>

#include <gtest/gtest.h>

#include "engine/memory_engine.h"
#include "net/peer_sender.h"
#include "node/raft_node.h"
#include "store/command.h"
#include "store/keyspace.h"

namespace nds::node {
namespace {

const std::string kSecret(32, 'S');

class NoPeers final : public net::PeerSender {
 public:
  void SetPeer(uint64_t, const std::string&) override {}
  void RemovePeer(uint64_t) override {}
  bool Send(uint64_t, std::string) override { return false; }
  void CloseInbound(uint64_t, const std::string&) override {}
  size_t QueuedBytes(uint64_t) const override { return 0; }
  bool Connected(uint64_t) const override { return false; }
};

class ApplyStageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = (std::filesystem::temp_directory_path() /
            ("raft_node_apply_test_" + std::to_string(rd()) + std::to_string(rd())))
               .string();
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<RaftNode> Open() {
    RaftNodeOptions o;
    o.data_dir = dir_;
    o.cluster_secret = kSecret;
    o.bootstrap = true;
    o.limits.heartbeat_interval = std::chrono::milliseconds(10);
    o.limits.election_timeout = std::chrono::milliseconds(100);
    o.limits.lease_duration = std::chrono::milliseconds(80);
    RaftNodeEnv env;
    env.now = [this] { return now_; };
    env.seed = 11;
    env.run_apply = [this](std::function<void()> work) { held_.push_back(std::move(work)); };
    auto node = RaftNode::OpenDriven(engine::NewMemoryEngine(), o, env, &peers_);
    EXPECT_TRUE(node.ok()) << node.status().ToString();
    return node.ok() ? std::move(node).value() : nullptr;
  }

  void Step(RaftNode* node, int passes = 1) {
    for (int i = 0; i < passes; ++i) {
      now_ += std::chrono::milliseconds(10);
      node->Pass(now_);
    }
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

  std::string dir_;
  RaftNodeEnv::Clock::time_point now_ = RaftNodeEnv::Clock::time_point(std::chrono::hours(1));
  NoPeers peers_;
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
    node->Submit(store::PutCommand(key, "v"), [&, key](store::ApplyResult r) {
      EXPECT_TRUE(r.status.ok()) << r.status.ToString();
      answered.push_back(key);
      revisions.push_back(r.revision);
    });
    Step(node.get(), 3);
  }
  bool read_released = false;
  node->WaitForReadPoint([&](Status s) {
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
