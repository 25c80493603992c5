// CheckInvariants: the core's internal invariants, checked from tests and after every simulator
// step (STYLE.md §5). Returns the first violation as kCorruption rather than crashing, so that the
// simulator can print its seed.
#include <algorithm>

#include <fmt/format.h>

#include "raft/raft.h"
#include "raft/raw_node.h"

namespace nds::raft {

namespace {

Status Broken(const std::string& what) { return Corruption("raft invariant: " + what); }

Status CheckLog(const Raft& r) {
  const RaftLog& log = r.log();
  if (log.applied() > log.applying()) return Broken("applied > applying");
  if (log.applying() > log.committed()) return Broken("applying > committed");
  if (log.InProgressIndex() > log.LastIndex() ||
      (log.StableLastIndex().value != 0 && log.InProgressIndex() < log.StableLastIndex())) {
    return Broken(fmt::format("entries in flight up to {} outside [{}, {}]", log.InProgressIndex(),
                              log.StableLastIndex(), log.LastIndex()));
  }
  if (r.config().async_storage_writes && log.applying() > log.StableLastIndex() &&
      log.applying() > log.FirstIndex().Prev()) {
    return Broken("entries handed out to apply that this node's log does not hold durably");
  }
  if (log.committed() > log.LastIndex()) {
    return Broken(fmt::format("commit {} > last index {}", log.committed(), log.LastIndex()));
  }
  if (log.committed() < log.FirstIndex().Prev()) return Broken("commit below the snapshot");
  if (log.TermOrZero(log.committed()) > r.term()) return Broken("committed entry from the future");
  if (log.LastTerm() > r.term()) {
    return Broken(fmt::format("last log term {} > term {}", log.LastTerm(), r.term()));
  }
  return Status::Ok();
}

Status CheckConf(const ConfState& cs) {
  if (!std::is_sorted(cs.voters.begin(), cs.voters.end()) ||
      std::adjacent_find(cs.voters.begin(), cs.voters.end()) != cs.voters.end()) {
    return Broken("voters not sorted and unique");
  }
  for (NodeId id : cs.learners) {
    if (std::binary_search(cs.voters.begin(), cs.voters.end(), id)) {
      return Broken(fmt::format("{} both voter and learner", id));
    }
  }
  return Status::Ok();
}

Status CheckLeader(const Raft& r) {
  if (r.leader() != r.id()) return Broken("leader does not name itself");
  if (r.vote() != r.id()) return Broken("leader did not vote for itself");
  if (!r.Promotable()) return Broken("leader is not a voter");
  auto self = r.progress().find(r.id());
  if (self == r.progress().end()) return Broken("leader has no progress for itself");
  if (self->second.match() > r.log().StableLastIndex()) {
    return Broken("leader counts non-durable entries of its own");
  }
  for (const auto& [id, pr] : r.progress()) {
    if (pr.next() <= pr.match()) return Broken(fmt::format("peer {} next <= match", id));
    if (pr.next() > r.log().LastIndex().Next()) {
      return Broken(fmt::format("peer {} next {} beyond last+1", id, pr.next()));
    }
    if (pr.inflights().Count() > pr.inflights().count_max()) {
      return Broken(fmt::format("peer {} inflights over limit", id));
    }
    const size_t members = r.conf_state().voters.size() + r.conf_state().learners.size();
    if (r.progress().size() != members) return Broken("progress does not match membership");
  }
  if (r.pending_reads() > r.config().max_pending_reads) return Broken("too many pending reads");
  return Status::Ok();
}

}  // namespace

Status CheckInvariants(const RawNode& node) {
  const Raft& r = node.raft();
  NDS_RETURN_IF_ERROR(CheckLog(r));
  NDS_RETURN_IF_ERROR(CheckConf(r.conf_state()));
  if (r.role() == Role::kLeader) {
    NDS_RETURN_IF_ERROR(CheckLeader(r));
  } else {
    if (r.leader() == r.id()) return Broken("non-leader names itself leader");
    if (r.HasLeaderLease()) return Broken("non-leader holds a lease");
    if (r.role() == Role::kCandidate && r.vote() != r.id()) {
      return Broken("candidate did not vote for itself");
    }
  }
  return Status::Ok();
}

}  // namespace nds::raft
