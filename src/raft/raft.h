// Raft: the consensus state machine of one node (Raft paper §5, thesis §3, §4, §6, §9), after
// etcd-io/raft's raft.go. Inputs: Tick(), Step(message), proposals and requests; outputs: messages
// and read states to collect, and the log's unstable tail and commit index (taken by RawNode into a
// Ready). No I/O, no clock, no randomness beyond Config::seed.
//
// Files: raft.cc holds construction, ticks, Step dispatch, elections and the follower side;
// raft_leader.cc the leader side (replication, commit, check-quorum, leadership
// transfer, membership); raft_read.cc heartbeat rounds, the lease and ReadIndex. docs/raft.md
// describes the behaviour.
//
// Owned by RawNode; not thread-safe (raft strand only).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "raft/confchange.h"
#include "raft/config.h"
#include "raft/log.h"
#include "raft/messages.h"
#include "raft/prng.h"
#include "raft/progress.h"
#include "util/shared_bytes.h"
#include "util/status.h"

namespace nds::raft {

class Raft {
 public:
  // See RawNode::Create.
  static Result<std::unique_ptr<Raft>> Create(const Config& config);

  Status Bootstrap(const std::vector<NodeId>& voters);
  void Tick();
  void Campaign() { Hup(false); }
  Status Step(const Message& m);
  Status Propose(SharedBytes data, EntryType type);
  Status ProposeConfChange(const ConfChange& cc);
  Status ReadIndex(std::string context);
  Status TransferLeadership(NodeId to);
  void ReportUnreachable(NodeId id);
  void ReportSnapshot(NodeId id, bool ok);

  // Output collection, used by RawNode.
  std::vector<Message> TakeMessages();
  std::vector<ReadState> TakeReadStates();
  // The next committed entries to apply (bounded by max_committed_bytes_per_ready); marks them as
  // handed out so the next call does not return them again.
  std::vector<Entry> TakeCommittedEntries();
  bool HasMessagesOrReads() const { return !msgs_.empty() || !read_states_.empty(); }
  // A ReadIndex batch waits for its heartbeat round; RawNode sends it when building a Ready.
  bool ReadRoundWanted() const { return read_round_wanted_ && role_ == Role::kLeader; }
  void SendReadRound();
  // Proposals append at once but are shipped when the driver takes its next Ready, so that all
  // proposals between two Readies travel in one append per follower.
  bool AppendsWanted() const { return bcast_wanted_ && role_ == Role::kLeader; }
  void SendPendingAppends();
  // The driver persisted entries up to (index, term): on a leader this is when its own match
  // moves and may commit (STYLE.md §7).
  void OnEntriesPersisted(LogIndex index, Term term);
  // The driver took the unstable entries up to (index, term) to persist them (AdvanceAsync).
  void MarkInProgress(LogIndex index, Term term) { log_.MarkInProgress(index, term); }
  void ForgetInProgress() { log_.ForgetInProgress(); }
  void OnSnapshotPersisted(LogIndex index);
  // The driver applied `entries` (the committed entries of a Ready): applies membership changes.
  void OnApplied(const std::vector<Entry>& entries);

  // Observers.
  NodeId id() const { return config_.id; }
  Term term() const { return term_; }
  NodeId vote() const { return vote_; }
  NodeId leader() const { return leader_; }
  Role role() const { return role_; }
  const RaftLog& log() const { return log_; }
  const Config& config() const { return config_; }
  const ConfState& conf_state() const { return conf_; }
  const std::map<NodeId, Progress>& progress() const { return progress_; }
  NodeId lead_transferee() const { return lead_transferee_; }
  LogIndex pending_conf_index() const { return pending_conf_index_; }
  uint64_t uncommitted_bytes() const { return uncommitted_bytes_; }
  size_t pending_reads() const { return pending_reads_.size(); }
  int election_elapsed_ticks() const { return election_elapsed_ticks_; }
  int randomized_election_ticks() const { return randomized_election_ticks_; }
  HardState hard_state() const { return HardState{term_, vote_, log_.committed()}; }
  SoftState soft_state() const { return SoftState{leader_, role_}; }
  bool HasLeaderLease() const { return LeaseTicksLeft() > 0; }
  // Ticks until the lease lapses unless a newer round is acknowledged; 0 when there is none.
  uint64_t LeaseTicksLeft() const;
  // True when a voter of the applied configuration (may campaign).
  bool Promotable() const;

 private:
  explicit Raft(const Config& config);
  Status Restore();

  // Roles (raft.cc).
  void Reset(Term term);
  void BecomeFollower(Term term, NodeId leader);
  void BecomePreCandidate();
  void BecomeCandidate();
  void BecomeLeader();
  void Hup(bool transfer);
  void Campaign(bool pre_vote, bool transfer);
  bool HasUnappliedConfChanges() const;
  void ResetRandomizedElectionTimeout();
  void TickElection();
  void TickHeartbeat();
  void Send(Message m);

  // Step helpers (raft.cc).
  Status StepByTerm(const Message& m, bool* handled);
  void HandleVoteRequest(const Message& m);
  Status StepFollower(const Message& m);
  Status StepCandidate(const Message& m);
  Status HandleAppend(const Message& m);
  Status HandleHeartbeat(const Message& m);
  void HandleSnapshot(const Message& m);

  // Leader side (raft_leader.cc).
  Status StepLeader(const Message& m);
  void HandleAppendResponse(const Message& m, Progress& pr);
  void HandleHeartbeatResponse(const Message& m, Progress& pr);
  void AppendEntries(std::vector<Entry> entries);
  bool MaybeCommit();
  bool CommittedEntryInCurrentTerm() const;
  void BcastAppend();
  void SendAppend(NodeId to) { MaybeSendAppend(to, true); }
  bool MaybeSendAppend(NodeId to, bool send_if_empty);
  bool MaybeSendSnapshot(NodeId to, Progress& pr);
  void BcastHeartbeat();
  uint64_t QuorumAckedRound() const;
  void ReleaseReads();
  Status LeaderReadIndex(NodeId from, std::string context);
  Status StartTransfer(NodeId to);
  void AbortTransfer() { lead_transferee_ = kNoNode; }
  void SendTimeoutNow(NodeId to);
  bool QuorumActive() const;
  void ApplyConfChangeEntry(const ConfChange& cc);
  void RebuildProgress();
  Progress NewProgress(bool is_learner) const;

  Config config_;
  RaftLog log_;
  SplitMix64 rng_;

  Term term_;
  NodeId vote_;
  NodeId leader_;
  Role role_ = Role::kFollower;
  ConfState conf_;  // the applied configuration: sorted voters and learners
  // Leader: one entry per member (voters and learners, self included); map for a deterministic
  // iteration order. The self entry's match moves only on durable state (OnEntriesPersisted).
  std::map<NodeId, Progress> progress_;
  std::map<NodeId, bool> votes_;  // candidate / pre-candidate: answers received this campaign

  std::vector<Message> msgs_;           // outgoing, taken by RawNode
  std::vector<ReadState> read_states_;  // confirmed reads, taken by RawNode

  int election_elapsed_ticks_ = 0;  // follower: since the leader was last heard; leader: since
                                    // the last check-quorum window started
  int heartbeat_elapsed_ticks_ = 0;
  int randomized_election_ticks_ = 0;  // in [election_ticks, 2*election_ticks)
  uint64_t now_ticks_ = 0;             // logical clock: ticks since creation
  // Restarted with a term > 0: for the first election_ticks ticks, behave as if a leader had just
  // been heard (no votes granted), since a leader may hold a lease we acknowledged before the
  // crash (docs/raft.md "Leader lease").
  bool restarted_quiet_ = false;
  // A kTimeoutNow arrived while a committed conf change was not yet applied: campaign (forced)
  // once it is. Cleared by any role or term change.
  bool timeout_now_pending_ = false;

  NodeId lead_transferee_;  // leader: target of the transfer in progress, or kNoNode
  // The last term in which this node started a leadership transfer: no lease in that term any
  // more (the target may campaign ignoring stickiness). 0 when none.
  Term transfer_term_;
  // Leader: index of the last conf change proposed; a new one is refused until it is applied.
  LogIndex pending_conf_index_;
  // Leader: data bytes of entries appended in this term and not yet applied.
  uint64_t uncommitted_bytes_ = 0;

  // Leader: heartbeat rounds. round_ is the newest round sent; round_sent_ticks_ remembers when
  // recent rounds were sent (bounded by kRoundsRemembered), for the lease.
  uint64_t round_ = 0;
  std::deque<std::pair<uint64_t, uint64_t>> round_sent_ticks_;  // (round, now_ticks at send)
  static constexpr size_t kRoundsRemembered = 64;

  struct PendingRead {
    std::string context;
    LogIndex index;      // the commit index when the read arrived: the read point
    NodeId from;         // self for a local read, else the follower that forwarded it
    uint64_t round = 0;  // the heartbeat round whose majority ack confirms it
  };
  std::deque<PendingRead> pending_reads_;  // bounded by config_.max_pending_reads
  bool read_round_wanted_ = false;         // a pending read waits for round_ + 1
  bool bcast_wanted_ = false;              // proposals appended but not yet shipped
};

}  // namespace nds::raft
