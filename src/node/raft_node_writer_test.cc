// Goal: a leader's Raft log written off its loop (node/wal_writer.h): while its write is held the
// loop goes on and nothing of the write is answered or applied (a lone voter's own copy is its
// majority); once the write runs, the entry commits, applies and is answered; a write held when
// the node stops is not acknowledged and not in the log the next Open reads; a snapshot of the
// node's own is recorded in the log by the writer, after the writes before it, without the loop
// waiting for it.
// Method: a driven one-node cluster (RaftNode::OpenDriven) on a memory engine in a temporary
// directory, with a fake clock and a run_wal_write that holds each write until the test runs it.
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/memory_engine.h"
#include "node/driven_node_for_test.h"
#include "node/raft_node.h"
#include "store/command.h"
#include "store/keyspace.h"

namespace nds::node {
namespace {

class LeaderWriterTest : public DrivenNodeTest {
 protected:
  LeaderWriterTest() : DrivenNodeTest("raft_node_writer_test_") {}

  // `snapshot_entries`: a snapshot every this many applied entries (0: the default).
  std::unique_ptr<RaftNode> Open(uint64_t snapshot_entries = 0) {
    RaftNodeEnv env = FakeEnv(17);
    env.run_wal_write = [this](std::function<void()> work) { held_.push_back(std::move(work)); };
    RaftNodeOptions o = LoneOptions();
    if (snapshot_entries != 0) o.limits.snapshot_entries = snapshot_entries;
    auto node = RaftNode::OpenDriven(engine::NewMemoryEngine(), o, env, &peers_);
    EXPECT_TRUE(node.ok()) << node.status().ToString();
    return node.ok() ? std::move(node).value() : nullptr;
  }

  // Passes, running every write held, until the start-up writes are committed and applied.
  void Settle(RaftNode* node) {
    for (int i = 0; i < 10; ++i) {
      RunHeld();
      Step(node);
    }
  }

  void RunHeld() {
    std::vector<std::function<void()>> works;
    works.swap(held_);
    for (auto& w : works) w();
  }

  bool Has(const RaftNode& node, const std::string& key) {
    auto v = node.engine().Get(store::DataKey(key));
    EXPECT_TRUE(v.ok());
    return v.ok() && v->has_value();
  }

  std::vector<std::function<void()>> held_;
};

TEST_F(LeaderWriterTest, NothingIsAnsweredOrAppliedBeforeTheLeadersOwnWriteIsDurable) {
  auto node = Open();
  ASSERT_NE(node, nullptr);
  Settle(node.get());
  ASSERT_EQ(node->GetStatus().role, Role::kLeader);
  const uint64_t passes_before = node->metrics().loop_pass.Count();
  const uint64_t commit_before = node->GetStatus().commit_index;
  bool answered = false;
  store::ApplyResult result;
  node->Submit(store::PutCommand("a", "v"), [&](store::ApplyResult r) {
    answered = true;
    result = std::move(r);
  });
  Step(node.get(), 5);
  // The loop ran every pass; the write waits in the writer.
  EXPECT_EQ(node->metrics().loop_pass.Count(), passes_before + 5);
  EXPECT_FALSE(held_.empty());
  EXPECT_FALSE(answered) << "answered before the leader's own copy was durable";
  EXPECT_FALSE(Has(*node, "a")) << "applied before this node's log held it";
  EXPECT_EQ(node->GetStatus().commit_index, commit_before) << "committed without a majority";
  RunHeld();
  Step(node.get(), 2);
  EXPECT_TRUE(answered);
  EXPECT_TRUE(result.status.ok()) << result.status.ToString();
  EXPECT_TRUE(Has(*node, "a"));
  EXPECT_GT(node->GetStatus().commit_index, commit_before);
}

TEST_F(LeaderWriterTest, AWriteHeldWhenTheNodeStopsIsNeitherAcknowledgedNorInTheLog) {
  auto node = Open();
  ASSERT_NE(node, nullptr);
  Settle(node.get());
  ASSERT_TRUE([&] {
    bool ok = false;
    node->Submit(store::PutCommand("kept", "v"),
                 [&](const store::ApplyResult& r) { ok = r.status.ok(); });
    Settle(node.get());
    return ok;
  }());
  bool answered = false;
  store::ApplyResult result;
  node->Submit(store::PutCommand("lost", "v"), [&](store::ApplyResult r) {
    answered = true;
    result = std::move(r);
  });
  Step(node.get(), 3);
  ASSERT_FALSE(held_.empty());
  EXPECT_FALSE(answered);
  node.reset();  // stops: the write never ran, as if the process died before its fdatasync
  ASSERT_TRUE(answered);
  EXPECT_EQ(result.status.code(), StatusCode::kUnavailable) << "acknowledged, yet not durable";
  RunHeld();      // the writer is closed: what the node left behind writes nothing
  node = Open();  // a new, empty memory engine: everything comes from the log
  ASSERT_NE(node, nullptr);
  Settle(node.get());
  EXPECT_TRUE(Has(*node, "kept")) << "an acknowledged write was lost";
  EXPECT_FALSE(Has(*node, "lost")) << "a write never saved came back from the log";
}

TEST_F(LeaderWriterTest, ASnapshotIsRecordedInTheLogByTheWriterAfterTheWritesBeforeIt) {
  auto node = Open(/*snapshot_entries=*/10);  // checkpoint and seal run at once (driven)
  ASSERT_NE(node, nullptr);
  Settle(node.get());
  // Writes, each run to the end, until a snapshot is due: its record then waits in the writer.
  int put = 0;
  for (; put < 20 && node->metrics().snapshots_made.load() == 0; ++put) {
    node->Submit(store::PutCommand("k" + std::to_string(put), "v"),
                 [](const store::ApplyResult&) {});
    Step(node.get());
    if (!held_.empty() && node->metrics().snapshots_made.load() == 0 &&
        node->engine().AppliedIndex().value >= 10) {
      break;  // the write of this put, or the snapshot's record, waits
    }
    RunHeld();
    Step(node.get(), 2);
  }
  // Hold whatever waits now, and pass: the snapshot is sealed but not recorded, and the loop
  // does not wait for it.
  const uint64_t passes_before = node->metrics().loop_pass.Count();
  bool answered = false;
  node->Submit(store::PutCommand("after", "v"),
               [&](const store::ApplyResult& r) { answered = r.status.ok(); });
  Step(node.get(), 4);
  EXPECT_EQ(node->metrics().loop_pass.Count(), passes_before + 4);
  EXPECT_EQ(node->metrics().snapshots_made.load(), 0u) << "recorded before the writer ran";
  EXPECT_FALSE(answered);
  // The writer runs what waits in order: the writes before the record, the record (and the
  // compaction), the write after it.
  for (int i = 0; i < 6 && !answered; ++i) {
    RunHeld();
    Step(node.get());
  }
  EXPECT_TRUE(answered);
  EXPECT_EQ(node->metrics().snapshots_made.load(), 1u);
  EXPECT_TRUE(Has(*node, "after"));
  // Restarted from its log alone (a new, empty memory engine): the snapshot on disk and the log
  // after it give back every write.
  const uint64_t applied = node->engine().AppliedIndex().value;
  node.reset();
  RunHeld();
  node = Open(10);
  ASSERT_NE(node, nullptr);
  Settle(node.get());
  EXPECT_GE(node->engine().AppliedIndex().value, applied);
  EXPECT_TRUE(Has(*node, "k0")) << "a write in the snapshot was lost";
  EXPECT_TRUE(Has(*node, "after")) << "a write after the snapshot was lost";
}

}  // namespace
}  // namespace nds::node
