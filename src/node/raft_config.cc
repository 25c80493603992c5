// Limits -> raft::Config (raft_config.h).
#include "node/raft_config.h"

#include <algorithm>

namespace nds::node {

raft::Config RaftConfigFromLimits(const Limits& l) {
  raft::Config cfg;
  const int64_t tick_ms = std::max<int64_t>(1, l.heartbeat_interval.count());
  cfg.election_ticks = static_cast<int>(std::max<int64_t>(2, l.election_timeout.count() / tick_ms));
  cfg.heartbeat_ticks = 1;
  cfg.lease_ticks = static_cast<int>(l.lease_duration.count() / tick_ms);
  cfg.max_msg_bytes = std::min<uint64_t>(kAppendTargetBytes, l.message_bytes_max);
  cfg.max_msg_entries = l.append_entries_max;
  cfg.max_inflight_msgs = l.append_messages_in_flight_max;
  cfg.max_inflight_bytes = std::max<uint64_t>(l.append_bytes_in_flight_max, cfg.max_msg_bytes);
  // The leader's uncommitted entries (from every node's clients) are bounded like the proposals
  // this node has in flight.
  cfg.max_uncommitted_bytes = l.proposal_bytes_in_flight_max;
  cfg.max_pending_reads = l.pending_reads_max;
  cfg.max_committed_bytes_per_ready = kApplyBatchBytesMax;
  return cfg;
}

}  // namespace nds::node
