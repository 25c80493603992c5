// The safety checkers of the simulator (Raft paper Figure 3 and thesis §3.6), fed by the Cluster
// as it drives each node's Ready batches, and run after every simulator step:
//   - election safety: at most one leader per term;
//   - log matching: two logs with an entry of the same index and term agree on every entry up to
//     it (checked incrementally: every append is compared, through a hash of its log prefix,
//     with every entry of that index and term any node ever held);
//   - committed entries are never overwritten, and all nodes agree on what is committed;
//   - leader completeness: a leader of term T holds every entry known committed before T;
//   - state machine safety: every node applies the same sequence, in index order, without gaps;
//   - at most one node holds a leader lease at any instant.
// The checker never aborts: it returns the first violation as a Status (kCorruption) so that the
// simulator can print the seed and trace.
//
// Owned by the Cluster; not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "raft/types.h"
#include "util/status.h"

namespace nds::sim {

class SafetyChecker {
 public:
  // `node` appended `entries` to its log (replacing its suffix from the first entry's index).
  Status OnAppend(NodeId node, const std::vector<raft::Entry>& entries);
  // `node` restarted: its log is now exactly `entries` (its durable log), its commit and applied
  // progress start again from 0.
  Status OnRestart(NodeId node, const std::vector<raft::Entry>& entries);
  // `node`, in term `term`, reports commit index `commit` (from a Ready's hard state).
  Status OnCommit(NodeId node, Term term, LogIndex commit);
  // `node` applied `entry`.
  Status OnApply(NodeId node, const raft::Entry& entry);
  // At the end of a step, `node` is leader of `term`.
  Status OnLeader(NodeId node, Term term);
  // At the end of a step, these nodes hold a leader lease.
  Status CheckLeases(const std::vector<NodeId>& holders) const;

  // The highest index any node has applied; the entries there are committed.
  LogIndex applied_max() const { return LogIndex(applied_.size()); }
  LogIndex committed_max() const { return LogIndex(committed_.size()); }
  // Hash of the committed entry at `index` (1 <= index <= committed_max()).
  uint64_t CommittedHash(LogIndex index) const { return committed_[index.value - 1].hash; }
  LogIndex LastIndex(NodeId node) const;

  static uint64_t HashEntry(const raft::Entry& e);

 private:
  struct Slot {
    Term term;
    uint64_t hash = 0;    // of the entry
    uint64_t prefix = 0;  // of the log up to and including the entry
  };
  struct Committed {
    uint64_t hash = 0;
    Term observed_term;  // the lowest term in which a node was seen to have committed it
  };
  struct NodeLog {
    std::vector<Slot> slots;  // slots[k] is index k + 1
    LogIndex commit_checked;  // commits up to here were compared with committed_
    LogIndex applied;
  };

  Status AppendSlot(NodeId node, NodeLog* log, const raft::Entry& e);

  std::map<NodeId, NodeLog> logs_;
  // (index, term) -> prefix hash of the first log seen holding it.
  std::map<std::pair<uint64_t, uint64_t>, uint64_t> prefixes_;
  std::vector<Committed> committed_;  // committed_[k] is index k + 1
  std::vector<uint64_t> applied_;     // hash of the entry applied at index k + 1
  std::map<Term, NodeId> leaders_;
  std::set<std::pair<NodeId, Term>> completeness_checked_;
};

}  // namespace nds::sim
