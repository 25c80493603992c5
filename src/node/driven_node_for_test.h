// For node/ tests: a driven one-node cluster (RaftNode::OpenDriven) in a temporary directory, on
// a fake clock, that sends nothing. Test code only.
#pragma once

#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "net/peer_sender.h"
#include "node/lone_node_for_test.h"
#include "node/raft_node.h"
#include "node/temp_dir_for_test.h"

namespace nds::node {

// A one-node cluster sends nothing.
class NoPeers final : public net::PeerSender {
 public:
  void SetPeer(uint64_t, const std::string&) override {}
  void RemovePeer(uint64_t) override {}
  bool Send(uint64_t, net::PeerPayload) override { return false; }
  void CloseInbound(uint64_t, const std::string&) override {}
  size_t QueuedBytes(uint64_t) const override { return 0; }
  bool Connected(uint64_t) const override { return false; }
};

// A driven lone voter in dir_, on the fake clock now_ (10 ms heartbeats).
class DrivenNodeTest : public TempDirTest {
 protected:
  using TempDirTest::TempDirTest;

  RaftNodeOptions LoneOptions() const { return OneNodeOptions(dir_, std::string(32, 'S')); }
  // The fake clock, seeded.
  RaftNodeEnv FakeEnv(uint64_t seed) {
    RaftNodeEnv env;
    env.now = [this] { return now_; };
    env.seed = seed;
    return env;
  }
  void Step(RaftNode* node, int passes = 1) {
    for (int i = 0; i < passes; ++i) {
      now_ += std::chrono::milliseconds(10);
      node->Pass(now_);
    }
  }

  RaftNodeEnv::Clock::time_point now_ = RaftNodeEnv::Clock::time_point(std::chrono::hours(1));
  NoPeers peers_;
};

}  // namespace nds::node
