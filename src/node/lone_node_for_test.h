// For unit tests of the services above the node (api/, resp/): a new one-member cluster on the
// memory engine in a fresh temporary directory, with fast timings, waited for until it leads
// with its lease and `settled` holds. Test code only: nothing in the binaries includes it.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/memory_engine.h"
#include "node/raft_node.h"
#include "node/temp_dir_for_test.h"
#include "store/command.h"
#include "util/limits.h"

namespace nds::node {

// The options of a node in `dir` that founds a one-member cluster, with `limits` but fast Raft
// timing (10 ms heartbeats, 100 ms election timeout, 80 ms lease).
inline RaftNodeOptions OneNodeOptions(const std::string& dir, std::string cluster_secret,
                                      Limits limits = {}) {
  RaftNodeOptions o;
  o.data_dir = dir;
  o.cluster_secret = std::move(cluster_secret);
  o.bootstrap = true;
  o.limits = limits;
  o.limits.heartbeat_interval = std::chrono::milliseconds(10);
  o.limits.election_timeout = std::chrono::milliseconds(100);
  o.limits.lease_duration = std::chrono::milliseconds(80);
  return o;
}

class LoneNodeForTest {
 public:
  // `seed` is recorded before the member record (RaftNodeOptions::seed_commands). Waits (at most
  // 10 s) for the lease and for `settled`; the caller checks ok() and what it needs.
  LoneNodeForTest(const std::string& dir_prefix, std::string cluster_secret,
                  std::vector<store::Command> seed, const std::function<bool(RaftNode*)>& settled) {
    dir_ = NewTempDir(dir_prefix);
    RaftNodeOptions o = OneNodeOptions(dir_, std::move(cluster_secret));
    o.name = "n1";
    o.api_address = "127.0.0.1:7777";
    o.seed_commands = std::move(seed);
    auto node = RaftNode::Open(engine::NewMemoryEngine(), o);
    if (!node.ok()) {
      open_error_ = node.status().ToString();
      return;
    }
    node_ = std::move(node).value();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline &&
           !(node_->GetStatus().has_lease && settled(node_.get()))) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  ~LoneNodeForTest() {
    node_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  LoneNodeForTest(const LoneNodeForTest&) = delete;
  LoneNodeForTest& operator=(const LoneNodeForTest&) = delete;

  bool ok() const { return node_ != nullptr; }
  const std::string& open_error() const { return open_error_; }
  RaftNode* node() const { return node_.get(); }
  // Stops the node (before the services that use it are torn down, if they must outlive it).
  void Close() { node_.reset(); }

 private:
  std::string dir_;
  std::string open_error_;
  std::unique_ptr<RaftNode> node_;
};

}  // namespace nds::node
