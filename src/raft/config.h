// The configuration of one Raft core (one node's state machine): ids, timing in ticks, flow-control
// limits and the storage it reads. Validated once by RawNode::Create.
#pragma once

#include <cstddef>
#include <cstdint>

#include "raft/storage.h"
#include "util/status.h"

namespace nds::raft {

struct Config {
  NodeId id;  // this node; must not be kNoNode
  // A follower that hears nothing from a leader for a randomised timeout in
  // [election_ticks, 2*election_ticks) starts an election (Raft §5.2).
  int election_ticks = 10;
  // The leader sends a heartbeat round every heartbeat_ticks; must be < election_ticks.
  int heartbeat_ticks = 1;
  // The leader holds a lease for lease_ticks from the tick it SENT a heartbeat round that a
  // majority acknowledged. Must be < election_ticks; see docs/raft.md "Leader lease" for the
  // clock-drift bound. 0 means "election_ticks - 2" (at least 1).
  int lease_ticks = 0;
  // Upper bound on the entry data bytes of one kAppend message (at least one entry is always sent).
  uint64_t max_msg_bytes = 1 << 20;
  // Upper bound on the number of entries in one kAppend message (at least 1).
  size_t max_msg_entries = 1024;
  // Per follower: appends sent but not acknowledged, by count and by entry bytes.
  size_t max_inflight_msgs = 256;
  uint64_t max_inflight_bytes = 32ull << 20;
  // The leader refuses a proposal (kResourceExhausted) when the data bytes of its uncommitted
  // entries would exceed this. 0 means no limit.
  uint64_t max_uncommitted_bytes = 64ull << 20;
  // Upper bound on the data bytes of one Ready's committed_entries (at least one entry is given).
  uint64_t max_committed_bytes_per_ready = 64ull << 20;
  // Entry data kept in memory once persisted, until applied (RaftLog's persisted tail), so that
  // applying and sending it does not read the log back. 0 keeps none.
  uint64_t persisted_tail_bytes = 64ull << 20;
  // Bound on pending ReadIndex requests on a leader; beyond it ReadIndex returns
  // kResourceExhausted.
  size_t max_pending_reads = 4096;
  bool pre_vote = true;
  bool check_quorum = true;
  // The driver persists entries after Advance (RawNode::AdvanceAsync, then OnAppendDurable when
  // they are durable). Committed entries are then handed out to apply only once this node's own
  // log holds them durably (docs/raft.md "Asynchronous log writes").
  bool async_storage_writes = false;
  // The index the state machine has applied (restart); committed entries after it are re-emitted.
  LogIndex applied;
  const Storage* storage = nullptr;  // not owned; must outlive the RawNode
  uint64_t seed = 0;                 // seeds the election jitter PRNG

  // Ok, or kInvalidArgument naming the first bad field.
  Status Validate() const;
  // lease_ticks with the 0 default resolved. Precondition: Validate() is ok.
  int EffectiveLeaseTicks() const;
};

}  // namespace nds::raft
