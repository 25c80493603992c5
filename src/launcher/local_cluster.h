// Runs real `nds start` processes on 127.0.0.1 as one local cluster. Used by `nds demo`,
// `nds check` (its faults) and the process tests, so that the way a cluster is formed, and a node
// stopped, paused and restarted, is written once (one node alone: launcher/node_process.h).
//
// A cluster is formed the way a sysadmin forms one: node 0 bootstraps with a known join token
// (`--token`), every later node starts with `--join <api of a running member> --token <token>`,
// one at a time, each after the previous one is ready. Nodes whose data directory already holds
// data restart from it, without --join. Every wait is bounded.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "launcher/netns.h"
#include "launcher/node_process.h"
#include "util/status.h"

namespace nds::launcher {

struct LocalClusterOptions {
  std::string binary;    // path of `nds`
  std::string base_dir;  // node i keeps its data in base_dir/node<i+1>, its log in node<i+1>.log
  size_t nodes = 3;
  std::string token = "nds-local-cluster-token";
  uint16_t first_api_port = 0;          // 0: free ports; else node i uses first_api_port + 10*i
  uint16_t first_peer_port = 0;         // 0: free ports; else node i uses first_peer_port + 10*i
  std::vector<std::string> extra_args;  // for every node
  // More arguments for node i (node_args[i], when there is one), after extra_args: per-node
  // listeners such as --resp 127.0.0.1:<port>.
  std::vector<std::vector<std::string>> node_args;
  std::chrono::milliseconds start_timeout{30'000};  // per node, until it is ready
  // When set, the nodes serve HTTPS (their --tls-* flags are in extra_args): probes, joins and
  // ApiAddresses use https:// trusting this CA, which every node also gets as --cacert (for its
  // join).
  std::string https_ca_file;
  // When set, node i runs in namespace i of this network, on its address (launcher/netns.h); the
  // network must outlive the cluster.
  NetnsNetwork* netns = nullptr;
};

// Owns its NodeProcesses. Not thread-safe: one thread drives a LocalCluster (other threads may
// talk HTTP to its nodes).
class LocalCluster {
 public:
  explicit LocalCluster(LocalClusterOptions options);
  ~LocalCluster();  // SIGKILLs every child still running

  // Starts every node whose data directory holds data (a restart; when there is none, node 0
  // bootstraps), waits until they are ready (/readyz 200), then adds each other node with --join
  // through a running member, one at a time, each waited for, and finally waits until every node
  // sees every node as a voter (WaitVoters). The first error is returned (the nodes already
  // started keep running).
  Status Start();
  // Adds one more node that joins through a running, unpaused member and waits until it is ready
  // and every running node sees it as a voter; returns its index. Nodes marked removed are not
  // counted.
  Result<size_t> AddNode();
  // Records that node i was removed from the cluster (DELETE /cluster/members/{id}): it is no
  // longer expected in the member list, and Restart/Join never pick it again.
  void MarkRemoved(size_t i);
  bool removed(size_t i) const { return removed_.contains(i); }

  size_t size() const { return nodes_.size(); }
  NodeProcess& node(size_t i) { return *nodes_[i]; }
  const std::string& token() const { return options_.token; }
  std::vector<std::string> ApiAddresses() const;  // of every node, in index order
  std::string ServerList() const;                 // the same, comma-separated (--server)

  // Kill -9 / SIGTERM / SIGSTOP / SIGCONT node i. Restart(i) starts it again on the same data
  // directory and ports, without --join (a node restarts from its data directory alone), and
  // waits for /healthz (not /readyz: a lone restarted member cannot be ready without a quorum).
  Status Kill(size_t i);
  Status Terminate(size_t i);
  void Pause(size_t i);
  void Resume(size_t i);
  Status Restart(size_t i);

  // GET /role on every running, unpaused node: the index of the one answering "goose",
  // std::nullopt when none does; kFailedPrecondition when two or more do in one sweep (a safety
  // violation).
  Result<std::optional<size_t>> Goose();
  // Polls Goose() until one node answers goose (its index) or `timeout` passes (kTimeout).
  Result<size_t> WaitForGoose(std::chrono::milliseconds timeout);
  // Waits until every running, unpaused node answers /readyz 200 (kTimeout otherwise).
  Status WaitReady(std::chrono::milliseconds timeout);
  // Waits until every running, unpaused node lists `members` members in GET /cluster/members,
  // all of them voters (kTimeout otherwise). A joiner starts as a learner and is promoted once
  // caught up; until every node knows of the promotion, losing one node may cost the quorum.
  Status WaitVoters(size_t members, std::chrono::milliseconds timeout);
  // SIGTERM to every running node at once, then SIGKILL to those still running after `grace`.
  void StopAll(std::chrono::milliseconds grace = std::chrono::seconds(10));

 private:
  NodeSpec SpecFor(size_t i) const;
  // Starts node i with --join through a running member and waits until it is ready.
  Status Join(size_t i);
  Status StartAndWaitReady(NodeProcess& node);
  std::optional<size_t> AnyRunningMember() const;

  LocalClusterOptions options_;
  std::vector<std::unique_ptr<NodeProcess>> nodes_;
  std::set<size_t> removed_;
};

}  // namespace nds::launcher
