// Goal: the node honours the limits that are flags of `nds start` and live in node/: at most
// --max-provisional-peers possible later members (ids above the applied index, whose joins may
// come later in the log) are answered at the address their hello claimed, and the token cache
// holds at most --max-token-cache-names names. Method: a driven one-node cluster
// (RaftNode::OpenDriven) on a memory engine in a temporary directory with a fake clock and a
// PeerSender that records which peers the node would talk to; hellos are handed to AcceptHello.
#include <chrono>
#include <memory>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "engine/memory_engine.h"
#include "net/peer_sender.h"
#include "node/lone_node_for_test.h"
#include "node/raft_codec.h"
#include "node/raft_node.h"
#include "node/temp_dir_for_test.h"

namespace nds::node {
namespace {

// Records the peers the node asks the transport to reach; sends nothing.
class RecordingPeers final : public net::PeerSender {
 public:
  void SetPeer(uint64_t id, const std::string&) override { reached.insert(id); }
  void RemovePeer(uint64_t id) override { reached.erase(id); }
  bool Send(uint64_t, net::PeerPayload) override { return false; }
  void CloseInbound(uint64_t, const std::string&) override {}
  size_t QueuedBytes(uint64_t) const override { return 0; }
  bool Connected(uint64_t) const override { return false; }

  std::set<uint64_t> reached;
};

class NodeLimitsTest : public TempDirTest {
 protected:
  NodeLimitsTest() : TempDirTest("raft_node_limits_test_") {}

  // A node with `limits` that has run for 30 passes (it leads and has applied its bootstrap).
  std::unique_ptr<RaftNode> OpenAndSettle(const Limits& limits) {
    auto node = Open(limits);
    if (node != nullptr) Passes(node.get(), 30);
    return node;
  }

  std::unique_ptr<RaftNode> Open(const Limits& limits) {
    RaftNodeOptions o = OneNodeOptions(dir_, std::string(32, 'S'), limits);
    o.cluster_id = "limits-test";
    RaftNodeEnv env;
    env.now = [this] { return now_; };
    env.seed = 7;
    auto node = RaftNode::OpenDriven(engine::NewMemoryEngine(), o, env, &peers_);
    EXPECT_TRUE(node.ok()) << node.status().ToString();
    return node.ok() ? std::move(node).value() : nullptr;
  }

  void Passes(RaftNode* node, int count) {
    for (int i = 0; i < count; ++i) {
      now_ += std::chrono::milliseconds(10);
      node->Pass(now_);
    }
  }

  // Hellos of `count` possible later members (ids far above the applied index), each claiming
  // its own peer address; the ids.
  static std::set<uint64_t> HellosOfLaterMembers(RaftNode* node, int count) {
    std::set<uint64_t> ids;
    for (int i = 0; i < count; ++i) {
      const uint64_t id = 1000 + i;
      Hello h{"limits-test", id, "127.0.0.1:" + std::to_string(9000 + i), "127.0.0.1:1"};
      auto accepted = node->AcceptHello(EncodeHello(h));
      EXPECT_TRUE(accepted.ok()) << accepted.status().ToString();
      ids.insert(id);
    }
    return ids;
  }

  RaftNodeEnv::Clock::time_point now_ = RaftNodeEnv::Clock::time_point(std::chrono::hours(1));
  RecordingPeers peers_;
};

TEST_F(NodeLimitsTest, AtMostMaxProvisionalPeersLaterMembersAreAnswered) {
  Limits limits;
  limits.provisional_peers_max = 2;
  auto node = OpenAndSettle(limits);
  ASSERT_NE(node, nullptr);
  ASSERT_TRUE(peers_.reached.empty());
  const std::set<uint64_t> later = HellosOfLaterMembers(node.get(), 5);
  Passes(node.get(), 5);
  EXPECT_EQ(peers_.reached.size(), 2u);
  for (uint64_t id : peers_.reached) EXPECT_TRUE(later.contains(id)) << id;
}

TEST_F(NodeLimitsTest, TheDefaultAnswersSeveralLaterMembers) {
  auto node = OpenAndSettle(Limits{});
  ASSERT_NE(node, nullptr);
  const std::set<uint64_t> later = HellosOfLaterMembers(node.get(), 5);
  Passes(node.get(), 5);
  EXPECT_EQ(peers_.reached, later);
}

TEST_F(NodeLimitsTest, TheTokenCacheHoldsAtMostMaxTokenCacheNames) {
  Limits limits;
  limits.token_cache_names_max = 3;
  auto node = OpenAndSettle(limits);
  ASSERT_NE(node, nullptr);
  for (const char* name : {"a", "b", "c"}) {
    ASSERT_TRUE(node->token_cache().Lookup(node->engine(), name).ok());
  }
  EXPECT_EQ(node->token_cache().size(), 3u);
  ASSERT_TRUE(node->token_cache().Lookup(node->engine(), "d").ok());
  EXPECT_EQ(node->token_cache().size(), 1u);
}

}  // namespace
}  // namespace nds::node
