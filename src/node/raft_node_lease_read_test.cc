// Goal: with lease_reads, a leader that holds its lease and has applied its last published commit
// answers WaitForReadPoint inside the call, without waiting for a pass of its loop; once the lease
// has lapsed on the clock, while an entry it published as committed is not yet applied, or
// without lease_reads, the read waits for the loop. Method: a driven one-node cluster
// (RaftNode::OpenDriven) on a memory engine, with a fake clock: nothing runs between two calls of
// Pass unless the test runs it, so a read answered before the next Pass was answered in the call.
#include <functional>
#include <vector>

#include <gtest/gtest.h>

#include "engine/memory_engine.h"
#include "node/driven_node_for_test.h"
#include "node/raft_node.h"
#include "store/command.h"

namespace nds::node {
namespace {

class LeaseReadTest : public DrivenNodeTest {
 protected:
  LeaseReadTest() : DrivenNodeTest("raft_node_lease_read_test_") {}

  // A lone voter, settled: its start-up entries committed and applied. With `hold_applies`, each
  // later apply waits in held_ until the test runs it.
  std::unique_ptr<RaftNode> Open(bool lease_reads, bool hold_applies = false) {
    RaftNodeOptions o = LoneOptions();
    o.lease_reads = lease_reads;
    RaftNodeEnv env = FakeEnv(5);
    env.run_apply = [this](std::function<void()> work) {
      if (hold_) {
        held_.push_back(std::move(work));
      } else {
        work();
      }
    };
    auto node = RaftNode::OpenDriven(engine::NewMemoryEngine(), o, env, &peers_);
    EXPECT_TRUE(node.ok()) << node.status().ToString();
    if (!node.ok()) return nullptr;
    Step(node->get(), 5);
    hold_ = hold_applies;
    return std::move(node).value();
  }

  // Submits a put and passes until it is answered (at most 20 passes).
  bool Put(RaftNode* node, const std::string& key) {
    bool ok = false;
    bool answered = false;
    node->Submit(store::PutCommand(key, "v"), [&](const store::ApplyResult& r) {
      ok = r.status.ok();
      answered = true;
    });
    for (int i = 0; i < 20 && !answered; ++i) Step(node);
    return ok;
  }

  // Asks for a read point; the returned flag turns true when the read is released with ok.
  std::shared_ptr<bool> Read(RaftNode* node) {
    auto released = std::make_shared<bool>(false);
    node->WaitForReadPoint([released](const Status& s) {
      EXPECT_TRUE(s.ok()) << s.ToString();
      *released = s.ok();
    });
    return released;
  }

  bool hold_ = false;
  std::vector<std::function<void()>> held_;
};

TEST_F(LeaseReadTest, AReadIsAnsweredInTheCallWhileTheLeaseHoldsAndWaitsForTheLoopOnceItLapses) {
  auto node = Open(/*lease_reads=*/true);
  ASSERT_NE(node, nullptr);
  ASSERT_TRUE(Put(node.get(), "a"));
  Step(node.get());
  ASSERT_TRUE(node->GetStatus().has_lease);
  const uint64_t lease_reads = node->GetStatus().lease_read_batches;
  EXPECT_TRUE(*Read(node.get())) << "the lease holds and all is applied, yet the read waited";
  EXPECT_TRUE(*Read(node.get()));
  EXPECT_EQ(node->GetStatus().lease_read_batches, lease_reads + 2);
  // Ten seconds pass without a pass of the loop (a paused or starved loop): the lease it last
  // published has lapsed, so the read waits for the loop to confirm leadership again.
  now_ += std::chrono::seconds(10);
  auto late = Read(node.get());
  EXPECT_FALSE(*late) << "a read was answered from a lease that lapsed 10 s ago";
  Step(node.get(), 3);
  EXPECT_TRUE(*late);
}

TEST_F(LeaseReadTest, AReadWaitsForTheApplyOfEveryEntryPublishedAsCommitted) {
  auto node = Open(/*lease_reads=*/true, /*hold_applies=*/true);
  ASSERT_NE(node, nullptr);
  bool answered = false;
  node->Submit(store::PutCommand("k", "v"), [&](const store::ApplyResult&) { answered = true; });
  Step(node.get(), 3);
  ASSERT_FALSE(held_.empty()) << "the write did not commit";
  ASSERT_GT(node->GetStatus().commit_index, node->GetStatus().applied_index);
  auto read = Read(node.get());
  EXPECT_FALSE(*read) << "a read was answered before the committed write was applied";
  for (auto& w : held_) w();
  held_.clear();
  Step(node.get());
  EXPECT_TRUE(answered);
  EXPECT_TRUE(*read);
}

TEST_F(LeaseReadTest, WithoutLeaseReadsEveryReadWaitsForTheLoop) {
  auto node = Open(/*lease_reads=*/false);
  ASSERT_NE(node, nullptr);
  ASSERT_TRUE(Put(node.get(), "a"));
  Step(node.get());
  auto read = Read(node.get());
  EXPECT_FALSE(*read) << "a read skipped the read index round without --lease-reads";
  Step(node.get(), 3);
  EXPECT_TRUE(*read);
  EXPECT_EQ(node->GetStatus().lease_read_batches, 0u);
}

}  // namespace
}  // namespace nds::node
