// RaftNode's log lines and counters for changes of role and leader (docs/operations.md "Logs"):
// an election started, a new leader known (and who), leadership lost. Each line carries its
// figures as key=value words (term=, index=), which the JSON log format turns into fields.
#include <spdlog/spdlog.h>

#include "node/raft_node.h"
#include "util/log_text.h"

namespace nds::node {

void RaftNode::NoteStatusChange(const raft::BasicStatus& bs) {
  const uint64_t leader = bs.leader.value;
  const raft::Role role = bs.role;
  if (role == seen_role_ && leader == seen_leader_) return;
  const uint64_t term = bs.term.value;
  const uint64_t index = bs.commit.value;
  if (role == raft::Role::kCandidate && seen_role_ != raft::Role::kCandidate) {
    metrics_.elections_started.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("starting an election event=election_started node={} term={} commit_index={}",
                 options_.id, term, index);
  }
  if (seen_role_ == raft::Role::kLeader && role != raft::Role::kLeader) {
    spdlog::info("no longer the leader event=leadership_lost node={} term={} commit_index={}",
                 options_.id, term, index);
  }
  if (leader != seen_leader_) {
    if (leader != 0) {
      metrics_.leader_changes.fetch_add(1, std::memory_order_relaxed);
      auto it = members_.find(leader);
      const std::string name = leader == options_.id  ? EscapeForLog(options_.name)
                               : it != members_.end() ? EscapeForLog(it->second.name)
                                                      : std::string("?");
      spdlog::info(
          "member {} ('{}') is the leader{} event=leader_changed leader={} term={} "
          "commit_index={} previous_leader={}",
          leader, name, leader == options_.id ? " (this node)" : "", leader, term, index,
          seen_leader_);
    } else {
      spdlog::info(
          "the leader is unknown event=leader_lost previous_leader={} term={} "
          "commit_index={}",
          seen_leader_, term, index);
    }
  }
  seen_role_ = role;
  seen_leader_ = leader;
}

}  // namespace nds::node
