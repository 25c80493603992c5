// The Raft core's configuration (raft::Config) from the node's limits (util/limits.h): one pure
// mapping, so that what each --flag does to the core is in one place and testable alone.
#pragma once

#include <cstdint>

#include "raft/raw_node.h"
#include "util/limits.h"

namespace nds::node {

// Appends aim at this many bytes so that many stay in flight; one entry larger than that still
// goes alone (the frame limit, --max-message-bytes, bounds it).
inline constexpr uint64_t kAppendTargetBytes = 1 << 20;

// The timing (one tick per --heartbeat-interval-ms) and flow-control fields of raft::Config;
// id, applied, storage and seed are left for the caller.
raft::Config RaftConfigFromLimits(const Limits& limits);

}  // namespace nds::node
