// RaftNode's quorum watch: a node that cannot reach a majority of the voters says so within about
// an election timeout, instead of letting every write and read wait for --request-timeout-ms
// (docs/cluster.md "No quorum"). Loop thread only.
//
// Reachability is what the peer transport knows: the outbound link to a peer is up. A killed or
// stopped process closes its connections, so its loss is seen at once; a silent partition keeps
// links up until they fail, and then only the longer rule (no leader for three election timeouts)
// applies.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "node/data_dir_state.h"
#include "node/raft_node.h"

namespace nds::node {
namespace {

// A leader is normally found within two election timeouts (randomised in [1, 2)); three without
// one means the cluster cannot elect, even when the links look up.
constexpr int kLeaderlessTimeouts = 3;

}  // namespace

void RaftNode::WatchQuorum(Clock::time_point now) {
  const raft::ConfState& cs = raw_->GetConfState();
  const raft::BasicStatus bs = raw_->GetStatus();
  size_t reachable = 0;
  for (NodeId v : cs.voters) {
    if (v.value == options_.id || peers_->Connected(v.value)) ++reachable;
  }
  const size_t voters = cs.voters.size();
  const size_t majority = voters / 2 + 1;
  const uint64_t leader = bs.leader.value;
  // A node that knows no configuration yet (a joiner before the leader reached it) claims nothing.
  bool healthy = voters == 0 || removed_;
  if (!healthy && leader != 0) {
    healthy = leader == options_.id ? reachable >= majority : peers_->Connected(leader);
  }
  Status verdict;
  if (healthy) {
    quorum_seen_ = now;
  } else {
    const auto lost_for = now - quorum_seen_;
    const auto timeout = options_.limits.election_timeout;
    if ((lost_for >= timeout && reachable < majority) ||
        lost_for >= kLeaderlessTimeouts * timeout) {
      verdict = NoQuorum(fmt::format(
          "no quorum: {} of {} voting members reachable from this node, {} needed to commit a "
          "write or confirm a read ({}); start the members that are down",
          reachable, voters, majority,
          leader == 0 ? std::string("no leader known")
                      : fmt::format("leader {} not reachable", leader)));
    }
  }
  bool changed = false;
  {
    MutexLock lock(mu_);
    changed = verdict.ok() != no_quorum_status_.ok();
    no_quorum_status_ = verdict;
  }
  if (!changed) return;
  if (verdict.ok()) {
    spdlog::info("quorum reachable again: {} of {} voting members", reachable, voters);
  } else {
    spdlog::warn("{}", verdict.message());
  }
}

void RaftNode::NoteRemoved() {
  removed_ = true;
  spdlog::warn("this node was removed from the cluster: it serves no data any more; {}",
               kRemovedMessage);
  if (Status s = MarkRemoved(options_.data_dir, options_.id, options_.cluster_id, env_.fs);
      !s.ok()) {
    spdlog::error("cannot mark {} as removed ({}); do not restart the node on it",
                  options_.data_dir, s.ToString());
  }
}

}  // namespace nds::node
