// A simulated cluster: N real nodes (node::RaftNode, made with OpenDriven: the real Raft core,
// Raft log (wal/), snapshot store, state machine (store/) and memory engine), each on its own
// simulated disk (a FaultFileSystem that loses unsynced bytes at a crash and tears the last
// write), connected by the simulated Network, with simulated clocks that may drift, driven one
// logical tick at a time on one thread. The Cluster only delivers frames, advances clocks, calls
// each node's Pass, and injects faults; every Ready is handled by node/ itself. Clients use the
// nodes through the same Submit / WaitForReadPoint / TransferLeadership calls as api/.
//
// Members join as production nodes do (`nds start --join`): the founding node bootstraps alone,
// every other node is added with an kAddMember write through the leader and then started with the
// member table it was told; removal is a kRemoveMember write.
//
// Owned by the Simulation; not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "node/raft_node.h"
#include "sim/network.h"
#include "sim/rng.h"
#include "sim/safety.h"
#include "store/command.h"
#include "util/fault_file_system.h"
#include "util/status.h"

namespace nds::sim {

inline constexpr uint64_t kApplyLagTicksMax = 40;

struct ClusterOptions {
  // One tick is one heartbeat interval of every node.
  int election_ticks = 10;
  int lease_ticks = 8;
  int request_timeout_ticks = 30;
  // Linearizable reads from a leader's lease without a heartbeat round.
  bool lease_reads = false;
  // Small, so that snapshots, log compaction and snapshot transfer happen in short runs.
  size_t snapshot_entries = 64;
  // Small, so that a snapshot (3-6 KB with its change history) travels in many chunks and
  // streams that lose one resume at the follower's offset.
  size_t snapshot_chunk_bytes = 512;
  // Change history kept (--history-revisions): small, so that compaction runs.
  size_t history_revisions = 100;
  size_t wal_segment_bytes = 64 << 10;
  // Chance, per node and tick, that its disk fails the next write with EIO: the node stops (its
  // storage-failure exit), and is restarted later like a crashed one.
  uint64_t disk_failure_per_million = 0;
  // Chance, per node and tick, that its disk becomes full for a while (ENOSPC on every write
  // beyond what it holds): the node refuses writes and retries; the disk is freed again later.
  uint64_t disk_full_per_million = 0;
  // The largest chance, per tick, that a node's clock misses the tick: each node (incarnation)
  // draws its own rate in [0, this], so clocks drift apart by a bounded amount.
  uint64_t clock_skip_per_million = 0;
  // Chance, per node and tick, that an episode starts in which the batches of committed entries
  // its apply stage takes (node/apply_stage.h) stay unapplied, for 1 to kApplyLagTicksMax ticks;
  // 0: applied at once inside the pass. Lets the Raft loop run ahead of the engine: reads,
  // answers, member records and snapshot installs then meet a backlog, as on a busy node.
  uint64_t apply_lag_per_million = 0;
  // Deliberately wrong, to show the checkers can fail: the nodes' disks ignore fsync (a crash
  // then loses everything written since the node started).
  bool break_fsync = false;
  // Frames sent in one tick by all nodes together, at most: more is a message storm.
  uint64_t messages_per_tick_max = 20'000;
};

// What a run exercised, so that a reader sees that nothing is silently off.
struct ClusterCounters {
  uint64_t crashes = 0;         // processes killed (unsynced data lost, last writes torn)
  uint64_t restarts = 0;        // nodes started again from their disk
  uint64_t storage_deaths = 0;  // nodes that stopped on a failed write (the die path)
  uint64_t disk_full = 0;       // episodes of a full disk
  uint64_t joins = 0;           // members added (learner, then promoted by the leader)
  uint64_t removals = 0;        // members removed
  uint64_t leader_changes = 0;  // (term, leader) pairs seen
  uint64_t transfers = 0;       // leadership transfers that completed
  uint64_t snapshots_made = 0;
  uint64_t snapshots_sent = 0;
  uint64_t snapshots_installed = 0;
  uint64_t snapshots_resumed = 0;  // streams that went on at the follower's offset
  // With apply_lag_per_million: node ticks on which batches stayed unapplied, and snapshots
  // installed while committed entries still waited for the apply stage.
  uint64_t apply_lag_ticks = 0;
  // ... and node ticks on which Raft log writes stayed unwritten (node/wal_writer.h).
  uint64_t write_lag_ticks = 0;
  uint64_t snapshots_installed_over_backlog = 0;
  uint64_t lease_read_batches = 0;
};

class Cluster {
 public:
  // `trace` receives one line per notable action (roles, crashes, membership); may be empty.
  Cluster(const ClusterOptions& options, const NetworkOptions& network_options, Rng rng,
          std::function<void(const std::string&)> trace);
  ~Cluster();

  // Starts the founding node, then adds voters-1 more through the API (ticking until each has
  // joined). kCorruption when that does not happen within a bound of ticks.
  Status Bootstrap(int voters);

  // One logical tick: due frames are delivered, every running node's clock advances (unless it
  // skips) and it runs one Pass, then the safety checks run. Returns the first violation.
  Status Tick();

  // The client API of node `node` (answered kUnavailable at once when it is not running).
  void Submit(NodeId node, store::Command cmd, node::SubmitCallback done);
  void WaitForReadPoint(NodeId node, node::ReadCallback done);
  void TransferLeadership(NodeId node, NodeId to);
  // The value of user key `key` in `node`'s engine right now (a read that skips ReadIndex).
  std::optional<std::string> ReadValue(NodeId node, const std::string& key) const;

  // Faults and membership.
  void Crash(NodeId node);
  Status Restart(NodeId node);
  // Asks the leader to add a new member; the node starts once the write is answered.
  void Join();
  // Asks the leader to remove `member`; it is stopped for good once the removal is answered.
  void Remove(NodeId member);

  // Observers.
  std::vector<NodeId> AllNodes() const;      // every node ever created and not stopped
  std::vector<NodeId> RunningNodes() const;  // sorted
  std::vector<NodeId> CrashedNodes() const;  // created, not stopped, not running
  bool IsRunning(NodeId node) const;
  // Precondition: IsRunning(node).
  node::NodeStatus NodeStatus(NodeId node) const;
  std::vector<node::MemberInfo> Members(NodeId node) const;
  // The running leader with the highest term, if any.
  std::optional<NodeId> Leader() const;

  void SetClockSkip(uint64_t per_million);
  void SetDiskFaults(uint64_t disk_failure_per_million, uint64_t disk_full_per_million);

  Network& network() { return *network_; }
  const SafetyChecker& checker() const { return checker_; }
  uint64_t now_ticks() const { return now_ticks_; }
  uint64_t lease_held_ticks() const { return lease_held_ticks_; }
  ClusterCounters counters() const;

 private:
  struct Node;
  class Peers;

  nds::Status StartNode(Node* n);
  // Whether `to` takes frames from `from`: the first frame of each link presents `from`'s hello
  // (RaftNode::AcceptHello), as a peer connection opens with one.
  bool Hello(Node* to, uint64_t from);
  // Starts a node for every member in the leader's table that has none yet.
  void AdoptMembers();
  void NodeDown(Node* n, const std::string& why);
  void DiskFaults(Node* n);
  nds::Status CheckAfterTick();
  Node* Find(NodeId id) const;
  Node* NewNode(uint64_t id, std::vector<store::MemberRecord> known);
  void Trace(const std::string& line) const;

  ClusterOptions options_;
  Rng rng_;
  std::unique_ptr<Network> network_;
  std::function<void(const std::string&)> trace_;
  std::map<NodeId, std::unique_ptr<Node>> nodes_;
  uint64_t now_ticks_ = 0;
  uint64_t lease_held_ticks_ = 0;
  uint64_t sent_this_tick_ = 0;
  uint64_t next_address_ = 1;
  bool join_in_flight_ = false;
  // Removals answered inside a node's Pass: handled after the passes.
  std::vector<NodeId> removed_;
  std::map<uint64_t, uint64_t> leaders_seen_;  // term -> leader
  SafetyChecker checker_;
  ClusterCounters counters_;
};

}  // namespace nds::sim
