// What `nds snapshot restore` and `nds recover` share: making a data directory hold a one-member
// cluster (docs/operations.md "Disaster recovery"). The engine is sealed into a Raft snapshot
// whose configuration is this node alone, and the Raft log is moved onto it; `nds start --data
// DIR` then opens it like any node restarted after a snapshot. Also the data directory lock that
// keeps these tools off a directory a running node uses. Main thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "engine/engine.h"
#include "util/status.h"
#include "util/strong_id.h"

namespace nds::cli {

// An exclusive lock on DATA/lock (flock), held while the object lives. `nds start` takes it for
// the node's lifetime; restore and recover take it before they touch a directory.
class DataDirLock {
 public:
  // kFailedPrecondition naming the directory when another process holds it (a running node);
  // kIoError when the lock file cannot be made.
  static Result<std::unique_ptr<DataDirLock>> Acquire(const std::string& data_dir);
  ~DataDirLock();
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_;
};

// A new cluster id (32 hex digits) and cluster secret (32 random bytes).
Result<std::string> MakeClusterId();
Result<std::string> MakeClusterSecret();

// Seals `engine` (at applied index `index`, the entry of term `term`) into a Raft snapshot in
// DATA/snap whose only voter is `self`, moves the Raft log in DATA/wal onto it (entries up to
// `index` dropped) and records the hard state (term `hs_term`, vote `hs_vote`, commit `index`).
// With `replace`, a snapshot already stored at the same index and term (with the configuration
// of before) is removed first. Preconditions: engine->AppliedIndex() == index; index > 0;
// hs_term >= term. Errors from the disk and the log.
Status SealOneMemberSnapshot(const std::string& data_dir, const engine::Engine& engine,
                             LogIndex index, Term term, NodeId self, Term hs_term, NodeId hs_vote,
                             bool replace = false);

}  // namespace nds::cli
