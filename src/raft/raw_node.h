// RawNode: the Ready/Advance API over the Raft state machine (after etcd-io/raft's RawNode).
//
// The driver (node/ in production, sim/ in simulation) feeds the core with Tick(), Step(),
// Propose(), ProposeConfChange(), ReadIndex() and TransferLeadership(), then drains its output:
//
//   while (raw->HasReady()) {
//     Ready rd = raw->GetReady();
//     // 1. Leader only, optional: send messages for which !MessageNeedsDurableState(type).
//     // 2. If rd.snapshot: install the staged engine checkpoint of that snapshot and record the
//     //    metadata in storage (docs/raft.md "Snapshots"); no rd.snapshot after Step(kSnapshot)
//     //    means the core refused it: discard the staged data.
//     // 3. Append rd.entries to storage (truncating any conflicting suffix), save rd.hard_state;
//     //    fsync if rd.must_sync.
//     // 4. Send the (remaining) rd.messages.
//     // 5. Apply rd.committed_entries in order; hand rd.read_states to waiting readers.
//     raw->Advance(rd);
//   }
//
// The full contract is in docs/raft.md. Owner: the driver. Threading: not thread-safe; every call
// must come from the one thread or strand that owns the RawNode. Pure and deterministic: no I/O, no
// clock (time is Tick()), randomness only from Config::seed.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "raft/confchange.h"
#include "raft/config.h"
#include "raft/messages.h"
#include "raft/types.h"
#include "util/shared_bytes.h"
#include "util/status.h"

namespace nds::raft {

class Raft;

// One batch of work for the driver. Every field may be empty.
struct Ready {
  std::optional<SoftState> soft_state;       // set when leader or role changed
  std::optional<HardState> hard_state;       // set when term, vote or commit changed
  std::vector<Entry> entries;                // to append to stable storage before sending messages
  std::optional<SnapshotMetadata> snapshot;  // a snapshot the core restored from; persist its meta
  std::vector<Entry> committed_entries;      // to apply, in order (after entries are persisted)
  std::vector<Message> messages;             // to send; see MessageNeedsDurableState()
  std::vector<ReadState> read_states;        // confirmed read points
  // True when entries or the term/vote changed: the write must be fsync'd before messages that
  // need durable state are sent.
  bool must_sync = false;
};

// Per-peer replication state as the leader sees it (empty on a non-leader).
struct PeerProgress {
  NodeId id;
  LogIndex match;
  LogIndex next;
  std::string state;  // "probe", "replicate" or "snapshot"
  bool is_learner = false;
  bool recent_active = false;
  // Heard from in this check-quorum window or the last one: what "reachable" shows, so that a
  // peer answering every heartbeat never looks unreachable just after a window closed.
  bool heard_lately = false;
  size_t inflight_msgs = 0;
};

struct BasicStatus {
  NodeId id;
  Term term;
  NodeId vote;
  Role role = Role::kFollower;
  NodeId leader;
  LogIndex commit;
  LogIndex applied;
  LogIndex first_index;  // first index still in the log (after the snapshot)
  LogIndex last_index;
  ConfState conf_state;                // the applied configuration
  NodeId lead_transferee;              // kNoNode unless a leadership transfer is in progress
  std::vector<PeerProgress> progress;  // sorted by id; leader only
};

class RawNode {
 public:
  // Validates `config` (kInvalidArgument) and restores the state from config.storage: hard state,
  // configuration (the snapshot's, then every kConfChange entry in (snapshot, applied] replayed),
  // log. Errors from storage are returned as they are.
  static Result<std::unique_ptr<RawNode>> Create(const Config& config);
  ~RawNode();
  RawNode(const RawNode&) = delete;
  RawNode& operator=(const RawNode&) = delete;

  // Starts a brand-new cluster whose first configuration is `voters` (which must include this
  // node): appends one committed kConfChange entry per voter at term 1, as etcd's Bootstrap does.
  // Every founding member must call it with the same list, before any other call.
  // kFailedPrecondition when storage is not empty or the node already has state;
  // kInvalidArgument when `voters` is empty, has duplicates or lacks this node.
  Status Bootstrap(const std::vector<NodeId>& voters);

  // Advances the logical clock by one tick (election and heartbeat timers).
  void Tick();

  // Starts an election now, as if the election timeout had fired (pre-vote first when enabled).
  // Ignored on a leader, a non-voter, or a node with committed but unapplied conf changes.
  void Campaign();

  // Feeds a message from a peer. kInvalidArgument for a local-only or malformed message (e.g. a
  // message to another node); such messages are dropped, never a crash. A message from an
  // older term is ignored (ok).
  Status Step(const Message& m);

  // Proposes a command. kNotLeader (message "leader=<id>", id 0 when unknown) on a non-leader;
  // kResourceExhausted over max_uncommitted_bytes; kUnavailable during a leadership transfer.
  // The entry shares `data`'s bytes, so a caller that keeps a copy (to forward or retry the
  // command when it is refused) costs a reference count, not a copy of the command.
  Status Propose(SharedBytes data);

  // Proposes a membership change. As Propose, plus: kFailedPrecondition while another change is
  // pending (proposed but not yet applied), or the validation error of ValidateConfChange.
  Status ProposeConfChange(const ConfChange& cc);

  // Asks for a linearizable read point for `context` (batched: one heartbeat round confirms all
  // reads asked between two Readies). The answer arrives as a ReadState in a later Ready.
  // kUnavailable when there is no known leader or the leader has not yet committed an entry of
  // its term; kResourceExhausted when too many reads are pending.
  Status ReadIndex(std::string context);

  // Asks the leader to transfer leadership to `to` (forwarded when this node is a follower).
  // kNotLeader when no leader is known; kInvalidArgument when `to` is not a voter.
  Status TransferLeadership(NodeId to);

  // The driver could not reach `id`: the leader goes back to probing it.
  void ReportUnreachable(NodeId id);
  // The snapshot stream to `id` finished (ok) or failed; the leader resumes probing it.
  void ReportSnapshot(NodeId id, bool ok);

  bool HasReady() const;
  // Precondition: none (an empty Ready is legal). The Ready stays valid until Advance.
  Ready GetReady();
  // Precondition: `rd` is the last Ready returned by GetReady and the driver has done all it asks.
  // Tick/Step/Propose between GetReady and Advance are allowed; GetReady again before Advance is
  // not.
  void Advance(const Ready& rd);
  // For a driver with Config::async_storage_writes: as Advance, except that rd.entries were only
  // handed to a writer, not persisted: later Readies do not hand them out again, and they count
  // as this node's durable copy once OnAppendDurable reports them. Precondition: no rd.snapshot.
  // The driver sends the messages of rd that need durable state only after rd's write is durable,
  // and every write in the order of the Readies.
  void AdvanceAsync(const Ready& rd);
  // The writer made this node's log durable up to (index, term) (the last entry of a Ready given
  // to AdvanceAsync). Ignored when that entry has since been replaced.
  void OnAppendDurable(LogIndex index, Term term);
  // The writes handed over and not yet reported durable failed (nothing of them reached the
  // log): the next Ready hands their entries out again.
  void RewriteUnwritten();

  BasicStatus GetStatus() const;
  // Cheap accessors for the proposal path: after an ok Propose, LastIndex() and CurrentTerm()
  // name the new entry; the driver matches the committed entry (index and term) to its waiter.
  LogIndex LastIndex() const;
  Term CurrentTerm() const;
  // The term of entry i in the core's log (entries not yet durable included; see RaftLog::TermAt).
  Result<Term> TermAt(LogIndex i) const;
  // The last index this node's log holds durably (0 while a snapshot is being installed).
  LogIndex StableLastIndex() const;
  // True only on a leader that heard from a majority within lease_ticks of sending the heartbeat
  // round they acknowledged (docs/raft.md "Leader lease"). Decides /role "goose".
  bool HasLeaderLease() const;
  // How many more ticks the lease holds without a newer acknowledged round (0: no lease).
  uint64_t LeaseTicksLeft() const;
  // The applied configuration.
  const ConfState& GetConfState() const;

  // For tests and the simulator: the state machine inside.
  const Raft& raft() const { return *raft_; }

 private:
  explicit RawNode(std::unique_ptr<Raft> raft);

  std::unique_ptr<Raft> raft_;
  SoftState prev_soft_;
  HardState prev_hard_;
};

// Checks the internal invariants of the core (commit <= last index, applied <= commit, at most
// one role, leader's own progress, inflights within limits, ...). Ok or kCorruption naming the
// first broken one. Cheap enough to run after every simulator step.
Status CheckInvariants(const RawNode& node);

}  // namespace nds::raft
