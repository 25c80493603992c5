// RaftNode's watch on the data disk: the free space of its file system (checked every tick) and
// the disk-full state that refuses new writes until space is freed (docs/operations.md).
#include <spdlog/spdlog.h>

#include "node/raft_node.h"

namespace nds::node {

void RaftNode::CheckFreeSpace() {
  Result<uint64_t> free_bytes_or = env_.fs->FreeBytes(options_.data_dir);
  if (!free_bytes_or.ok()) return;
  const uint64_t free_bytes = *free_bytes_or;
  MutexLock lock(mu_);
  disk_free_bytes_ = free_bytes;
  bytes_since_disk_check_ = 0;
}

void RaftNode::SetDiskFull(bool full, const Status& why) {
  if (full == disk_full_) return;
  disk_full_ = full;
  const raft::BasicStatus bs = raw_->GetStatus();
  if (full) {
    spdlog::error(
        "disk full: {}; refusing new writes until space is freed event=disk_full term={} "
        "commit_index={} applied_index={}",
        why.ToString(), bs.term.value, bs.commit.value, engine_->AppliedIndex().value);
  } else {
    spdlog::info(
        "disk space is available again; taking writes event=disk_recovered term={} "
        "commit_index={} applied_index={}",
        bs.term.value, bs.commit.value, engine_->AppliedIndex().value);
  }
  MutexLock lock(mu_);
  disk_full_status_ =
      full ? NoSpace("the disk is full (" + why.message() + "); free space on the data disk")
           : Status::Ok();
}

}  // namespace nds::node
