// MemoryStorage: a raft::Storage held in memory, for tests and the simulator (after etcd-io/raft's
// MemoryStorage). The driver writes to it what each Ready asks to persist; the core reads it.
// Owner: the driver (one per node). Threading: not thread-safe; one thread or strand.
#pragma once

#include <cstdint>
#include <vector>

#include "raft/storage.h"

namespace nds::raft {

class MemoryStorage final : public Storage {
 public:
  MemoryStorage();

  Result<HardState> InitialHardState() const override;
  Result<ConfState> InitialConfState() const override;
  Result<std::vector<Entry>> Entries(LogIndex lo, LogIndex hi, uint64_t bytes_max) const override;
  Result<Term> TermAt(LogIndex i) const override;
  LogIndex FirstIndex() const override;
  LogIndex LastIndex() const override;
  SnapshotMetadata SnapshotMeta() const override;

  void SetHardState(const HardState& hs) { hard_state_ = hs; }
  // Appends `entries` (contiguous, ascending), truncating any existing suffix from the first
  // entry's index. kInvalidArgument when the first index leaves a gap after LastIndex() or the
  // entries are not contiguous. Entries at or below the snapshot are skipped.
  Status Append(const std::vector<Entry>& entries);
  // Replaces the log by `meta` (everything up to meta.index is now the snapshot). kInvalidArgument
  // when meta.index is older than the current snapshot.
  Status ApplySnapshot(const SnapshotMetadata& meta);
  // Records a snapshot at `index` (<= LastIndex) with `conf_state` and drops the entries up to it.
  // kInvalidArgument when index is out of [snapshot index, LastIndex()].
  Status CreateSnapshotAndCompact(LogIndex index, const ConfState& conf_state);
  // Drops entries up to `index` without changing snapshot metadata's conf (index/term move).
  Status Compact(LogIndex index);

 private:
  HardState hard_state_;
  SnapshotMetadata snapshot_;
  // entries_[0] is a dummy at snapshot_.index with snapshot_.term; entries_[k] has index
  // snapshot_.index + k.
  std::vector<Entry> entries_;
};

}  // namespace nds::raft
