// Config validation: every limit checked once, at RawNode::Create (STYLE.md §6).
#include "raft/config.h"

#include <fmt/format.h>

namespace nds::raft {

Status Config::Validate() const {
  if (id == kNoNode) return InvalidArgument("raft config: id must not be 0");
  if (election_ticks < 2) return InvalidArgument("raft config: election_ticks must be >= 2");
  if (heartbeat_ticks < 1) return InvalidArgument("raft config: heartbeat_ticks must be >= 1");
  if (heartbeat_ticks >= election_ticks) {
    return InvalidArgument(
        fmt::format("raft config: heartbeat_ticks {} must be < election_ticks {}", heartbeat_ticks,
                    election_ticks));
  }
  if (lease_ticks < 0 || lease_ticks >= election_ticks) {
    return InvalidArgument(
        fmt::format("raft config: lease_ticks {} must be in [0, {})", lease_ticks, election_ticks));
  }
  if (election_ticks > 1'000'000) return InvalidArgument("raft config: election_ticks too large");
  if (max_msg_bytes == 0) return InvalidArgument("raft config: max_msg_bytes must be > 0");
  if (max_msg_entries == 0) return InvalidArgument("raft config: max_msg_entries must be > 0");
  if (max_inflight_msgs == 0) return InvalidArgument("raft config: max_inflight_msgs must be > 0");
  if (max_inflight_msgs > (1u << 20)) {
    return InvalidArgument("raft config: max_inflight_msgs must be <= 2^20");
  }
  if (max_inflight_bytes < max_msg_bytes) {
    return InvalidArgument("raft config: max_inflight_bytes must be >= max_msg_bytes");
  }
  if (max_committed_bytes_per_ready == 0) {
    return InvalidArgument("raft config: max_committed_bytes_per_ready must be > 0");
  }
  if (max_pending_reads == 0) return InvalidArgument("raft config: max_pending_reads must be > 0");
  if (storage == nullptr) return InvalidArgument("raft config: storage must be set");
  return Status::Ok();
}

int Config::EffectiveLeaseTicks() const {
  if (lease_ticks > 0) return lease_ticks;
  return election_ticks - 2 >= 1 ? election_ticks - 2 : 1;
}

}  // namespace nds::raft
