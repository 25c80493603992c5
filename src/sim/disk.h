// The simulated disk of one simulated node: what the node wrote (the Raft log and hard state), and
// how much of it is durable. Writes are queued in order and become durable only at Sync(); a
// crash keeps a random prefix of the unsynced writes (a torn entries write keeps a prefix of its
// entries, as WAL recovery cuts a torn tail) and loses the rest. A restarted node is rebuilt from
// the durable state only (Load()). An injected write failure (a full disk, EIO) makes the next
// write fail, after which the node must stop, as DESIGN.md's failure table says.
//
// The disk outlives the node process it serves: a crash destroys the RawNode, not the SimDisk.
// Owned by the Cluster; not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "raft/memory_storage.h"
#include "raft/types.h"
#include "sim/rng.h"
#include "util/status.h"

namespace nds::sim {

// A log plus hard state: contiguous entries from index 1.
struct DiskState {
  raft::HardState hard_state;
  std::vector<raft::Entry> entries;  // entries[k].index == k + 1

  LogIndex LastIndex() const { return LogIndex(entries.size()); }
  bool operator==(const DiskState&) const = default;
};

class SimDisk {
 public:
  // Queues the append of `entries` (contiguous, ascending), which replaces any suffix of the log
  // from the first entry's index. kInvalidArgument (nothing queued) when the entries are not
  // contiguous or leave a gap after the log as written so far; kIoError when a failure was
  // injected.
  Status AppendEntries(const std::vector<raft::Entry>& entries);
  // Queues the hard state. kIoError when a failure was injected.
  Status SaveHardState(const raft::HardState& hard_state);
  // Makes every queued write durable.
  void Sync();
  // A crash: keeps a random prefix of the queued writes, drops the rest.
  void Crash(Rng& rng);
  // The next write fails with kIoError ("no space").
  void InjectWriteFailure() { fail_next_write_ = true; }

  // What survives a crash right now.
  const DiskState& durable() const { return durable_; }
  // What the node has written, synced or not.
  const DiskState& written() const { return written_; }
  size_t unsynced_writes() const { return pending_.size(); }

  // A fresh MemoryStorage holding the durable state, for a node restarting.
  std::unique_ptr<raft::MemoryStorage> Load() const;

 private:
  struct Write {
    bool is_hard_state = false;
    raft::HardState hard_state;
    std::vector<raft::Entry> entries;
  };
  static void Apply(const Write& w, DiskState* state);

  DiskState durable_;
  DiskState written_;  // durable_ with pending_ applied
  std::vector<Write> pending_;
  bool fail_next_write_ = false;
};

}  // namespace nds::sim
