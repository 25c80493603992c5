// Goal: RaftNode, as a one-node cluster, orders writes through the Raft log, applies them to the
// engine, gives read points, and keeps everything across a restart from the same data directory.
// Method: a real Wal in a fresh temporary directory and a memory engine checkpointed in it; each
// call's completion is awaited through a std::future (no sleeping).
#include "node/raft_node.h"

#include <filesystem>
#include <future>
#include <random>

#include <gtest/gtest.h>

#include "engine/engine_factory.h"
#include "store/keyspace.h"

namespace nds::node {
namespace {

class RaftNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = (std::filesystem::temp_directory_path() /
            ("raft_node_test_" + std::to_string(rd()) + std::to_string(rd())))
               .string();
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<RaftNode> OpenNode(const std::string& engine_kind) {
    auto engine = engine::OpenEngine(engine_kind, dir_ + "/engine");
    EXPECT_TRUE(engine.ok()) << engine.status().ToString();
    RaftNodeOptions o;
    o.data_dir = dir_;
    o.limits.heartbeat_interval = std::chrono::milliseconds(10);
    o.limits.election_timeout = std::chrono::milliseconds(100);
    o.limits.lease_duration = std::chrono::milliseconds(80);
    auto node = RaftNode::Open(std::move(engine).value(), o);
    EXPECT_TRUE(node.ok()) << node.status().ToString();
    return node.ok() ? std::move(node).value() : nullptr;
  }

  static store::ApplyResult SubmitAndWait(RaftNode* node, store::Command cmd) {
    std::promise<store::ApplyResult> p;
    auto f = p.get_future();
    node->Submit(std::move(cmd), [&p](store::ApplyResult r) { p.set_value(std::move(r)); });
    return f.get();
  }

  static Status ReadPoint(RaftNode* node) {
    std::promise<Status> p;
    auto f = p.get_future();
    node->WaitForReadPoint([&p](Status s) { p.set_value(std::move(s)); });
    return f.get();
  }

  std::string dir_;
};

TEST_F(RaftNodeTest, WritesGetIncreasingRevisionsAndAreVisibleAtTheReadPoint) {
  auto node = OpenNode("rocksdb");
  ASSERT_NE(node, nullptr);
  auto r1 = SubmitAndWait(node.get(), store::PutCommand("a", "1"));
  ASSERT_TRUE(r1.status.ok()) << r1.status.ToString();
  EXPECT_TRUE(r1.created);
  auto r2 = SubmitAndWait(node.get(), store::PutCommand("a", "2"));
  ASSERT_TRUE(r2.status.ok());
  EXPECT_GT(r2.revision, r1.revision);
  EXPECT_FALSE(r2.created);
  ASSERT_TRUE(ReadPoint(node.get()).ok());
  auto got = node->engine().Get(store::DataKey("a"));
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->has_value());
  EXPECT_GE(node->engine().AppliedIndex().value, r2.revision);
}

TEST_F(RaftNodeTest, FailedPreconditionConsumesAnIndexAndChangesNothing) {
  auto node = OpenNode("rocksdb");
  ASSERT_NE(node, nullptr);
  ASSERT_TRUE(SubmitAndWait(node.get(), store::PutCommand("k", "v")).status.ok());
  auto r = SubmitAndWait(node.get(),
                         store::PutCommand("k", "w", {}, store::Precondition::kMustNotExist));
  EXPECT_EQ(r.status.code(), StatusCode::kAlreadyExists);
}

TEST_F(RaftNodeTest, StatusReportsALeaderWithLeaseOnceAWriteCommitted) {
  auto node = OpenNode("rocksdb");
  ASSERT_NE(node, nullptr);
  auto r = SubmitAndWait(node.get(), store::PutCommand("x", "y"));
  ASSERT_TRUE(r.status.ok());
  NodeStatus st = node->GetStatus();
  EXPECT_EQ(st.role, Role::kLeader);
  EXPECT_EQ(st.leader_id, 1u);
  EXPECT_GE(st.commit_index, r.revision);
  EXPECT_TRUE(st.ready);
}

TEST_F(RaftNodeTest, RestartFromTheDataDirectoryKeepsEveryAcknowledgedWrite) {
  uint64_t last_revision = 0;
  {
    auto node = OpenNode("rocksdb");
    ASSERT_NE(node, nullptr);
    for (int i = 0; i < 20; ++i) {
      auto r = SubmitAndWait(node.get(), store::PutCommand("key" + std::to_string(i), "v"));
      ASSERT_TRUE(r.status.ok());
      last_revision = r.revision;
    }
  }
  auto node = OpenNode("rocksdb");
  ASSERT_NE(node, nullptr);
  ASSERT_TRUE(ReadPoint(node.get()).ok());
  for (int i = 0; i < 20; ++i) {
    auto got = node->engine().Get(store::DataKey("key" + std::to_string(i)));
    ASSERT_TRUE(got.ok());
    EXPECT_TRUE(got->has_value()) << i;
  }
  auto r = SubmitAndWait(node.get(), store::PutCommand("after", "restart"));
  ASSERT_TRUE(r.status.ok());
  EXPECT_GT(r.revision, last_revision);
}

TEST_F(RaftNodeTest, StopAnswersLaterWritesUnavailable) {
  auto node = OpenNode("rocksdb");
  ASSERT_NE(node, nullptr);
  node->Stop();
  auto r = SubmitAndWait(node.get(), store::PutCommand("late", "v"));
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace nds::node
