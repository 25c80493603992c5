// What the Raft loop counts and times for /metrics (docs/operations.md "Metrics"): leader changes,
// snapshots, and how long the Raft log's write-and-fsync, the engine's apply and a whole pass of
// the loop take.
// Owned by the node; written by its raft loop thread, read by any thread (relaxed atomics: each
// figure is exact on its own, a scrape is not a consistent cut across them).
#pragma once

#include <atomic>
#include <cstdint>

#include "util/latency_histogram.h"

namespace nds::node {

struct NodeMetrics {
  // Times this node saw the leader change to a known leader (itself included), since start.
  std::atomic<uint64_t> leader_changes{0};
  // Elections this node started (it became a candidate), since start.
  std::atomic<uint64_t> elections_started{0};
  // Snapshots this node made of its own engine, sent whole to a follower, and installed from
  // its leader, since start.
  std::atomic<uint64_t> snapshots_made{0};
  std::atomic<uint64_t> snapshots_sent{0};
  std::atomic<uint64_t> snapshots_installed{0};
  // Of snapshots_installed, those that found committed entries still waiting for the apply stage
  // (applied first). Not in /metrics: the simulator shows with it that its runs cover the case.
  std::atomic<uint64_t> snapshots_installed_over_backlog{0};
  // Snapshot streams this node (as sender) went on with at a follower's offset after a lost chunk.
  std::atomic<uint64_t> snapshots_resumed{0};
  // Bytes of entry data this node wrote to its Raft log, and applied to its engine, since start
  // (with both, the memory trimmer sees when big values are moving, util/memory_trimmer.h).
  std::atomic<uint64_t> wal_entry_bytes{0};
  std::atomic<uint64_t> applied_entry_bytes{0};
  // One observation per Raft log write (entries and hard state, fsynced) and per batch of
  // committed entries applied to the engine (on the apply stage, node/apply_stage.h).
  LatencyHistogram wal_fsync;
  LatencyHistogram apply;
  // One observation per pass of the Raft loop (RaftNode::Pass): everything the loop thread does
  // between two waits. A long pass delays heartbeats, votes and every write behind it.
  LatencyHistogram loop_pass;
};

}  // namespace nds::node
