// The read side of the stable Raft log, as the core sees it (after etcd-io/raft's Storage).
//
// The core reads stable entries through this interface; the node appends to it only after the
// entries of a Ready batch are durable. Implementations: MemoryStorage (raft/memory_storage.h, for
// tests and the simulator) and the WAL (wal/), which node/ hands to the core.
//
// Index space: entries live in [FirstIndex(), LastIndex()]. Index FirstIndex()-1 is covered by the
// latest snapshot (or is 0 on a fresh log), and Term() still answers for it. An empty log has
// LastIndex() == FirstIndex() - 1.
//
// Threading: called only from the thread or strand that owns the core.
#pragma once

#include <cstdint>
#include <vector>

#include "raft/types.h"
#include "util/status.h"

namespace nds::raft {

class Storage {
 public:
  virtual ~Storage() = default;

  // The hard state and configuration saved last; a fresh log returns an empty HardState and the
  // configuration of its snapshot (empty when there is none).
  virtual Result<HardState> InitialHardState() const = 0;
  virtual Result<ConfState> InitialConfState() const = 0;

  // Entries [lo, hi), at least one if lo < hi, and no more than `bytes_max` worth of entry data
  // beyond the first. Errors: kNotFound with message "compacted" when lo < FirstIndex();
  // kInvalidArgument when hi > LastIndex() + 1; kIoError/kCorruption from the disk.
  virtual Result<std::vector<Entry>> Entries(LogIndex lo, LogIndex hi,
                                             uint64_t bytes_max) const = 0;

  // The term of entry i, for i in [FirstIndex()-1, LastIndex()]. kNotFound ("compacted") below
  // that range, kInvalidArgument above it.
  virtual Result<Term> TermAt(LogIndex i) const = 0;

  virtual LogIndex FirstIndex() const = 0;
  virtual LogIndex LastIndex() const = 0;

  // Metadata of the newest snapshot (index 0 when there is none).
  virtual SnapshotMetadata SnapshotMeta() const = 0;
};

}  // namespace nds::raft
