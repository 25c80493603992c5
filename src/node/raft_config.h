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
// One Ready hands the apply at most this much entry data (one entry larger than that still goes
// alone). The apply writes a batch to the engine in one RocksDB write batch, which holds each
// value twice (its record and its history event) beside the memtable: with 64 MiB, four 16 MB
// values applied together held 128 MB in that batch alone. Small writes never come near it.
inline constexpr uint64_t kApplyBatchBytesMax = 16 << 20;

// The timing (one tick per --heartbeat-interval-ms) and flow-control fields of raft::Config;
// id, applied, storage and seed are left for the caller.
raft::Config RaftConfigFromLimits(const Limits& limits);

}  // namespace nds::node
