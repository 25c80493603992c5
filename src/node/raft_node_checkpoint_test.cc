// Goal: a node's own snapshots are cut off the Raft loop and recorded at the index (and with the
// configuration) the checkpoint holds, however far the loop moved on while it ran; a checkpoint
// that outlives its node harms nothing; older snapshots and compacted log segments are removed
// off the loop, one cleanup at a time, and nothing is lost by it. And ConfHistory answers the
// configuration at an index.
// Method: a driven one-node cluster (RaftNode::OpenDriven) on a memory engine in a temporary
// directory, with a fake clock and a run_off_loop that holds the checkpoint work until the test
// runs it; the snapshot is read back from DATA/snap.
#include <filesystem>

#include <gtest/gtest.h>

#include "engine/memory_engine.h"
#include "node/conf_history.h"
#include "node/driven_node_for_test.h"
#include "node/raft_node.h"
#include "store/command.h"
#include "store/keyspace.h"
#include "wal/snapshot_store.h"

namespace nds::node {
namespace {

class CheckpointTest : public DrivenNodeTest {
 protected:
  CheckpointTest() : DrivenNodeTest("raft_node_checkpoint_test_") {}

  // `segment_bytes`: the Raft log's segment size (0: the default).
  std::unique_ptr<RaftNode> Open(size_t segment_bytes = 0) {
    RaftNodeOptions o = LoneOptions();
    o.limits.snapshot_entries = 10;
    if (segment_bytes != 0) {
      o.limits.wal_segment_bytes = segment_bytes;
      o.limits.value_bytes_max = segment_bytes / 4;
    }
    RaftNodeEnv env = FakeEnv(7);
    env.run_off_loop = [this](std::function<void()> work) { held_.push_back(std::move(work)); };
    auto node = RaftNode::OpenDriven(engine::NewMemoryEngine(), o, env, &peers_);
    EXPECT_TRUE(node.ok()) << node.status().ToString();
    return node.ok() ? std::move(node).value() : nullptr;
  }

  // Submits a put and passes until it is answered (at most 100 passes).
  void Put(RaftNode* node, const std::string& key, const std::string& value = "v") {
    bool answered = false;
    store::ApplyResult result;
    node->Submit(store::PutCommand(key, value), [&](store::ApplyResult r) {
      answered = true;
      result = std::move(r);
    });
    for (int i = 0; i < 100 && !answered; ++i) Step(node);
    ASSERT_TRUE(answered) << key;
    ASSERT_TRUE(result.status.ok()) << result.status.ToString();
  }

  raft::SnapshotMetadata NewestSnapshot() {
    auto meta = wal::NewestSnapshotMetadata(DefaultFileSystem(), dir_ + "/snap");
    EXPECT_TRUE(meta.ok()) << meta.status().ToString();
    return meta.ok() ? *meta : raft::SnapshotMetadata{};
  }

  // Files directly in DATA/`sub` whose name ends with `suffix`.
  size_t CountFiles(const std::string& sub, const std::string& suffix) {
    size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir_ + "/" + sub)) {
      if (e.path().filename().string().ends_with(suffix)) ++n;
    }
    return n;
  }

  // Passes until the node hands the next part of its snapshot off the loop (at most 3 passes:
  // the one that finishes the part before, and the writer's report on the record).
  void StepUntilHeld(RaftNode* node) {
    for (int i = 0; i < 3 && held_.empty(); ++i) Step(node);
  }

  // Runs the held seal: the snapshot is in DATA/snap; the loop then has the writer record it in
  // the log and compact the log (driven: at once), and starts the cleanup.
  void RunSeal(RaftNode* node) {
    ASSERT_EQ(held_.size(), 1u) << "no seal started";
    auto seal = std::move(held_.front());
    held_.clear();
    seal();
    StepUntilHeld(node);
  }

  std::vector<std::function<void()>> held_;
};

TEST_F(CheckpointTest, TheSnapshotIsAtTheIndexTheCheckpointHoldsNotWhereItStarted) {
  auto node = Open();
  ASSERT_NE(node, nullptr);
  for (int i = 0; i < 12 && held_.empty(); ++i) Put(node.get(), "k" + std::to_string(i));
  ASSERT_EQ(held_.size(), 1u) << "no checkpoint was started after 12 writes";
  const uint64_t started_at = node->engine().AppliedIndex().value;
  // The loop goes on while the checkpoint has not run: writes commit and are answered.
  for (int i = 0; i < 5; ++i) Put(node.get(), "later" + std::to_string(i));
  EXPECT_EQ(held_.size(), 1u) << "a second checkpoint started while one was running";
  EXPECT_EQ(NewestSnapshot().index.value, 0u) << "a snapshot before the checkpoint ran";
  const uint64_t cut_at = node->engine().AppliedIndex().value;
  ASSERT_GT(cut_at, started_at);
  held_[0]();
  held_.clear();
  StepUntilHeld(node.get());
  // The seal runs off the loop too: nothing in DATA/snap until it ran.
  EXPECT_EQ(NewestSnapshot().index.value, 0u) << "sealed on the loop";
  Put(node.get(), "while-sealing");
  RunSeal(node.get());
  const raft::SnapshotMetadata meta = NewestSnapshot();
  EXPECT_EQ(meta.index.value, cut_at);
  EXPECT_EQ(meta.conf_state.voters, std::vector<NodeId>{NodeId{1}});
  EXPECT_GT(meta.term.value, 0u);
  // Writes go on after the log was compacted, and the node restarts from snapshot and log.
  Put(node.get(), "after");
  const uint64_t applied = node->engine().AppliedIndex().value;
  node.reset();
  held_.clear();
  node = Open();
  ASSERT_NE(node, nullptr);
  // A restarted lone voter leads in a new term: its first entry (empty) is applied too.
  EXPECT_GE(node->engine().AppliedIndex().value, applied);
  auto v = node->engine().Get(store::DataKey("after"));
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->has_value()) << "the write after the snapshot was lost";
}

TEST_F(CheckpointTest, ACheckpointThatOutlivesItsNodeHarmsNothing) {
  auto node = Open();
  ASSERT_NE(node, nullptr);
  for (int i = 0; i < 12 && held_.empty(); ++i) Put(node.get(), "k" + std::to_string(i));
  ASSERT_EQ(held_.size(), 1u);
  const uint64_t applied = node->engine().AppliedIndex().value;
  node.reset();
  held_[0]();  // runs on what it holds, not on the node
  held_.clear();
  node = Open();
  ASSERT_NE(node, nullptr);
  EXPECT_GE(node->engine().AppliedIndex().value, applied);
  auto v = node->engine().Get(store::DataKey("k0"));
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->has_value()) << "a write before the checkpoint was lost";
  EXPECT_EQ(NewestSnapshot().index.value, 0u) << "an unfinished checkpoint became a snapshot";
}

TEST_F(CheckpointTest, OldSnapshotsAndLogSegmentsGoOffTheLoopOneCleanupAtATime) {
  auto node = Open(64 << 10);
  ASSERT_NE(node, nullptr);
  const std::string value(8 << 10, 'x');  // about 8 entries to a 64 KiB segment
  int put = 0;
  // Three snapshots, each checkpoint and each cleanup run by the test, in turn.
  for (size_t snapshot = 0; snapshot < 3; ++snapshot) {
    for (int i = 0; i < 40 && held_.empty(); ++i) {
      Put(node.get(), "k" + std::to_string(put++), value);
    }
    ASSERT_EQ(held_.size(), 1u) << "no checkpoint started";
    auto cut = std::move(held_.front());
    held_.clear();
    cut();
    StepUntilHeld(node.get());
    RunSeal(node.get());  // the writer compacts the log in memory; the cleanup starts
    ASSERT_EQ(held_.size(), 1u) << "no cleanup started after snapshot " << snapshot;
    // While it waits, the loop goes on and starts no other checkpoint, and the older snapshot
    // and the compacted segments are still on disk.
    for (int i = 0; i < 15; ++i) Put(node.get(), "k" + std::to_string(put++), value);
    EXPECT_EQ(held_.size(), 1u) << "a checkpoint started before the cleanup ended";
    EXPECT_EQ(CountFiles("snap", ""), snapshot + 1) << "a snapshot was pruned on the loop";
    const size_t segments = CountFiles("wal", ".wal");
    auto clean = std::move(held_.front());
    held_.clear();
    clean();
    Step(node.get());
    // Two snapshots are kept; the cleanup pruned the older ones and removed the segments.
    EXPECT_EQ(CountFiles("snap", ""), std::min<size_t>(snapshot + 1, 2));
    if (snapshot > 0) {
      EXPECT_LT(CountFiles("wal", ".wal"), segments) << "no segment was removed";
    }
  }
  // Every write is still there after a restart from what the cleanups left.
  const uint64_t applied = node->engine().AppliedIndex().value;
  node.reset();
  held_.clear();
  node = Open(64 << 10);
  ASSERT_NE(node, nullptr);
  EXPECT_GE(node->engine().AppliedIndex().value, applied);
  for (int i = 0; i < put; ++i) {
    auto v = node->engine().Get(store::DataKey("k" + std::to_string(i)));
    ASSERT_TRUE(v.ok());
    ASSERT_TRUE(v->has_value()) << "k" << i << " was lost";
  }
}

raft::Entry Conf(uint64_t index, raft::ConfChangeType type, uint64_t node) {
  raft::Entry e;
  e.index = LogIndex{index};
  e.term = Term{1};
  e.type = raft::EntryType::kConfChange;
  e.data = raft::EncodeConfChange(raft::ConfChange{type, NodeId{node}});
  return e;
}

raft::Entry Normal(uint64_t index) {
  raft::Entry e;
  e.index = LogIndex{index};
  e.term = Term{1};
  return e;
}

TEST(ConfHistoryTest, AnswersTheConfigurationInForceAtEachIndex) {
  ConfHistory h;
  raft::ConfState one;
  one.voters = {NodeId{1}};
  h.Reset(LogIndex{5}, one);
  h.Apply(Normal(5));  // at or below the start: ignored
  h.Apply(Normal(6));
  h.Apply(Conf(7, raft::ConfChangeType::kAddLearner, 2));
  h.Apply(Normal(8));
  h.Apply(Conf(9, raft::ConfChangeType::kAddVoter, 2));
  EXPECT_FALSE(h.At(LogIndex{4}).has_value()) << "before the start nothing is known";
  EXPECT_EQ(h.At(LogIndex{6}), one);
  EXPECT_EQ(h.At(LogIndex{7})->learners, std::vector<NodeId>{NodeId{2}});
  EXPECT_EQ(h.At(LogIndex{8})->learners, std::vector<NodeId>{NodeId{2}});
  EXPECT_EQ(h.At(LogIndex{9})->voters, (std::vector<NodeId>{NodeId{1}, NodeId{2}}));
  EXPECT_TRUE(h.At(LogIndex{9})->learners.empty());
  EXPECT_EQ(h.At(LogIndex{100}), h.Latest());
  EXPECT_EQ(h.last_index(), LogIndex{9});
  h.DropBefore(LogIndex{8});  // keeps the change at 7, in force at 8
  EXPECT_EQ(h.size(), 2u);
  EXPECT_FALSE(h.At(LogIndex{6}).has_value());
  EXPECT_EQ(h.At(LogIndex{8})->learners, std::vector<NodeId>{NodeId{2}});
}

TEST(ConfHistoryDeathTest, AGapInTheAppliedEntriesIsABug) {
  ConfHistory h;
  h.Reset(LogIndex{5}, raft::ConfState{});
  EXPECT_DEATH(h.Apply(Normal(7)), "applied after");
}

}  // namespace
}  // namespace nds::node
