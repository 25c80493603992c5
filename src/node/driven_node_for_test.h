// For node/ tests: a fixture with a fresh temporary directory, and one for a driven one-node
// cluster (RaftNode::OpenDriven) on a fake clock that sends nothing. Test code only.
#pragma once

#include <chrono>
#include <filesystem>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "net/peer_sender.h"
#include "node/raft_node.h"

namespace nds::node {

// The cluster secret of every test cluster.
inline const std::string kTestSecret(32, 'S');

// A lone voter that bootstraps in `dir`, with fast timings (10 ms heartbeats).
inline RaftNodeOptions LoneTestOptions(const std::string& dir) {
  RaftNodeOptions o;
  o.data_dir = dir;
  o.cluster_secret = kTestSecret;
  o.bootstrap = true;
  o.limits.heartbeat_interval = std::chrono::milliseconds(10);
  o.limits.election_timeout = std::chrono::milliseconds(100);
  o.limits.lease_duration = std::chrono::milliseconds(80);
  return o;
}

// dir_: a new directory under the system's temporary directory, named `prefix` and a random
// suffix, removed after the test.
class TempDirTest : public ::testing::Test {
 protected:
  explicit TempDirTest(std::string prefix) : prefix_(std::move(prefix)) {}
  void SetUp() override {
    std::random_device rd;
    dir_ = (std::filesystem::temp_directory_path() /
            (prefix_ + std::to_string(rd()) + std::to_string(rd())))
               .string();
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;

 private:
  std::string prefix_;
};

// A one-node cluster sends nothing.
class NoPeers final : public net::PeerSender {
 public:
  void SetPeer(uint64_t, const std::string&) override {}
  void RemovePeer(uint64_t) override {}
  bool Send(uint64_t, std::string) override { return false; }
  void CloseInbound(uint64_t, const std::string&) override {}
  size_t QueuedBytes(uint64_t) const override { return 0; }
  bool Connected(uint64_t) const override { return false; }
};

// A driven lone voter in dir_, on the fake clock now_ (10 ms heartbeats).
class DrivenNodeTest : public TempDirTest {
 protected:
  using TempDirTest::TempDirTest;

  RaftNodeOptions LoneOptions() const { return LoneTestOptions(dir_); }
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
