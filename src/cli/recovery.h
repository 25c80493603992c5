// `nds recover --data DIR` (docs/operations.md "Disaster recovery"): after a majority of the
// members is gone for good, makes a stopped survivor a one-member cluster of its own data.
//
// It applies every entry its Raft log holds (committed or not: an acknowledged write may be
// committed on the lost majority yet only appended here), removes every other member from the
// member table, seals the result in a Raft snapshot whose only voter is this node, and gives the
// directory a new cluster id. The old cluster id is recorded as fenced (store key
// z"fenced/<old id>"): a former member that comes back still proves the cluster secret at the
// peer handshake but is then refused with a message naming the recovery, by this node and by
// every node that joins it later. Main thread only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/membership.h"
#include "util/status.h"

namespace nds::cli {

struct RecoverReport {
  uint64_t node_id = 0;
  std::string old_cluster_id;
  std::string new_cluster_id;
  uint64_t last_index = 0;  // kept: the image of the state machine is at this index
  uint64_t last_term = 0;
  uint64_t applied_before = 0;  // the engine's applied index before (entries above it applied)
  std::vector<store::MemberRecord> removed;
};

// Errors: kFailedPrecondition when a node runs on DIR (its lock is held) or DIR holds no node
// (no meta file); kCorruption from the log or engine; disk errors. A failure part-way leaves the
// directory needing a restore from a copy: the runbook says to copy it first.
Result<RecoverReport> RecoverDataDir(const std::string& data_dir);

}  // namespace nds::cli
