// A simulated cluster: N nodes, each the real raft::RawNode over a MemoryStorage mirrored by a
// SimDisk, connected by the simulated Network, driven one logical tick at a time on one thread.
// The Cluster plays node/'s part for every node: it handles each Ready exactly as raw_node.h
// prescribes (leader's early sends, persist, sync, send, apply, Advance), crashes and restarts
// nodes (a restarted node is rebuilt from its durable disk state only), adds and stops nodes, and
// feeds the SafetyChecker after every action. Client commands are sim/kv.h commands; what nodes
// apply and which read points they confirm is reported as events for the simulation's clients.
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

#include "raft/confchange.h"
#include "raft/memory_storage.h"
#include "raft/raw_node.h"
#include "sim/disk.h"
#include "sim/kv.h"
#include "sim/network.h"
#include "sim/rng.h"
#include "sim/safety.h"
#include "util/status.h"

namespace nds::sim {

struct ClusterOptions {
  int election_ticks = 10;
  int heartbeat_ticks = 1;
  int lease_ticks = 0;  // 0: the core's default
  bool pre_vote = true;
  bool check_quorum = true;
  // Chance, per Ready that wrote something, that the node crashes after writing and before its
  // fsync (the unsynced writes are partly lost, no message of that Ready is sent).
  uint64_t crash_before_sync_per_million = 0;
  // Chance, per Ready that writes, that the disk refuses the write (full disk, EIO): the node
  // stops, as DESIGN.md's failure table asks.
  uint64_t disk_failure_per_million = 0;
  // The order of a Ready's writes. true: a changed term/vote is written first (with the old
  // commit index), then the entries, then the full hard state. false: the entries, then the hard
  // state, as raw_node.h's sketch lists them; a crash that keeps the entries but not the hard
  // state then leaves a log whose last term is above the saved term (see docs/simulation.md).
  bool term_vote_before_entries = true;
  // The largest chance, per tick, that a node's clock misses the tick: each node (incarnation)
  // draws its own rate in [0, this], so clocks drift apart by a bounded amount. Leases must stay
  // exclusive while the drift stays within the bound that docs/raft.md "Leader lease" assumes.
  uint64_t clock_skip_per_million = 0;
  // Deliberately wrong, to show the checkers can fail: never fsync (writes stay unsynced until a
  // crash keeps a random prefix of them).
  bool break_fsync = false;
  // Readies handled per node per tick, at most (each Ready is followed by Advance; a core that
  // kept producing Readies forever would be a bug, reported as a failure).
  int readies_per_tick_max = 64;
  // Messages sent in one tick by all nodes together, at most: more is a message storm (a
  // liveness bug of its own), reported as a failure rather than left to slow the run down.
  uint64_t messages_per_tick_max = 5'000;
};

// Something the clients of the simulation may wait for.
struct ClusterEvent {
  enum class Kind {
    kApplied,            // `node` applied a KV command at `index`; `cas_swapped` is its cas result
    kReadState,          // `node` got read point `index` for `context`
    kCrashed,            // `node` crashed (or stopped): its waiting requests are lost
    kConfChangeApplied,  // `node` applied `conf_change` at `index`
  };
  Kind kind = Kind::kApplied;
  NodeId node;
  LogIndex index;
  KvCommand command;
  bool cas_swapped = false;
  std::string context;
  raft::ConfChange conf_change;
};

class Cluster {
 public:
  // `trace` receives one line per notable action (roles, crashes, conf changes); may be empty.
  Cluster(const ClusterOptions& options, const NetworkOptions& network_options, Rng rng,
          std::function<void(const std::string&)> trace);
  ~Cluster();

  // Creates nodes 1..voters and bootstraps them as the first configuration.
  Status Bootstrap(int voters);

  // One logical tick: every running node ticks, due messages are delivered, every Ready is
  // handled, then the safety checks run. Returns the first safety violation (kCorruption) or a
  // core error that the driver cannot get past.
  Status Tick();

  // Client-facing calls on one node; kUnavailable when the node is not running. Otherwise the
  // core's answer.
  Status Propose(NodeId node, const KvCommand& cmd);
  Status ReadIndex(NodeId node, const std::string& context);
  Status ProposeConfChange(NodeId node, const raft::ConfChange& cc);
  Status TransferLeadership(NodeId node, NodeId to);

  // Faults and membership.
  void Crash(NodeId node);
  Status Restart(NodeId node);
  // A new, empty node (not yet a member) that runs and waits to be added. Returns its id.
  NodeId AddNode();
  // Stops a node for good (it was removed from the configuration).
  void Stop(NodeId node);

  // Observers.
  std::vector<NodeId> AllNodes() const;      // every node ever created and not stopped
  std::vector<NodeId> RunningNodes() const;  // sorted
  std::vector<NodeId> CrashedNodes() const;  // created, not stopped, not running
  bool IsRunning(NodeId node) const;
  // The status of a running node. Precondition: IsRunning(node).
  raft::BasicStatus NodeStatus(NodeId node) const;
  bool HasLeaderLease(NodeId node) const;
  // The running leader with the highest term, if any.
  std::optional<NodeId> Leader() const;
  LogIndex Applied(NodeId node) const;
  std::optional<std::string> Read(NodeId node, const std::string& key) const;
  const SimDisk& Disk(NodeId node) const;

  // Changes the disk fault chances (the calm phase at the end of a run turns them off).
  // Sets the largest clock skip chance; every node's own rate is capped to it.
  void SetClockSkip(uint64_t per_million);
  void SetDiskFaults(uint64_t crash_before_sync_per_million, uint64_t disk_failure_per_million) {
    options_.crash_before_sync_per_million = crash_before_sync_per_million;
    options_.disk_failure_per_million = disk_failure_per_million;
  }

  std::vector<ClusterEvent> TakeEvents();
  Network& network() { return *network_; }
  const SafetyChecker& checker() const { return checker_; }
  uint64_t now_ticks() const { return now_ticks_; }
  // Ticks at whose end some node held a leader lease (shows that the lease check was exercised).
  uint64_t lease_held_ticks() const { return lease_held_ticks_; }

 private:
  struct Node;

  Status StartNode(Node* n);
  Status HandleReadies(Node* n);
  Status HandleReady(Node* n, bool* crashed);
  Status Persist(Node* n, const raft::Ready& rd, bool* crashed);
  Status ApplyCommitted(Node* n, const raft::Ready& rd);
  Status CheckAfterTick();
  void Send(const raft::Message& m);
  void SendMessages(const std::vector<raft::Message>& msgs, bool durable_only);
  Node* Find(NodeId id) const;
  void Trace(const std::string& line) const;

  ClusterOptions options_;
  Rng rng_;
  Rng disk_rng_;
  std::unique_ptr<Network> network_;
  std::function<void(const std::string&)> trace_;
  std::map<NodeId, std::unique_ptr<Node>> nodes_;
  uint64_t next_node_id_ = 1;
  uint64_t now_ticks_ = 0;
  uint64_t lease_held_ticks_ = 0;
  std::map<raft::MessageType, uint64_t> sent_this_tick_;  // for the message storm report
  SafetyChecker checker_;
  std::vector<ClusterEvent> events_;
};

}  // namespace nds::sim
