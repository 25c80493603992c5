// Raft core, part 2: the leader side. Replication with per-follower flow control (§5.3), commit
// by counting only current-term entries (§5.4.2), check-quorum, leadership transfer (thesis
// §3.10), and single-server membership changes (thesis §4.1). Also the proposal entry points and
// the driver's persistence/apply callbacks. Heartbeats, lease and ReadIndex: raft_read.cc.
#include <algorithm>

#include <fmt/format.h>

#include "raft/quorum.h"
#include "raft/raft.h"
#include "util/check.h"

namespace nds::raft {

void Raft::BecomeLeader() {
  NDS_CHECK(role_ == Role::kCandidate, "become leader from {}", RoleName(role_));
  Reset(term_);
  leader_ = config_.id;
  role_ = Role::kLeader;
  auto self = progress_.find(config_.id);
  NDS_CHECK(self != progress_.end());
  self->second.set_recent_active(true);
  self->second.SetMatchForSelf(log_.StableLastIndex());
  self->second.BecomeReplicate();
  // §5.4.2 / §8: an empty entry of the new term, so that earlier entries can commit.
  AppendEntries({Entry{Term(0), LogIndex(0), EntryType::kNormal, {}}});
  // No conf change until everything in the log, our empty entry included, is applied: this
  // closes the single-server membership bug (Ongaro, raft-dev 2015: a leader must commit an entry
  // of its term before changing the configuration).
  pending_conf_index_ = log_.LastIndex();
  BcastAppend();
}

void Raft::TickHeartbeat() {
  ++heartbeat_elapsed_ticks_;
  ++election_elapsed_ticks_;
  if (election_elapsed_ticks_ >= config_.election_ticks) {
    election_elapsed_ticks_ = 0;
    if (config_.check_quorum) {
      // Check-quorum (thesis §6.2): without a majority heard in an election timeout, step down.
      if (!QuorumActive()) {
        BecomeFollower(term_, kNoNode);
        return;
      }
      for (auto& [id, pr] : progress_) {
        if (id != config_.id) pr.EndActivityWindow();
      }
    }
    // A transfer that has not finished in an election timeout is abandoned (thesis §3.10).
    AbortTransfer();
  }
  if (heartbeat_elapsed_ticks_ >= config_.heartbeat_ticks) {
    heartbeat_elapsed_ticks_ = 0;
    BcastHeartbeat();
  }
}

bool Raft::QuorumActive() const {
  return MajorityValue(conf_.voters, [this](NodeId id) -> uint64_t {
           if (id == config_.id) return 1;
           auto it = progress_.find(id);
           return it != progress_.end() && it->second.recent_active() ? 1 : 0;
         }) >= 1;
}

// ---- Proposals ----

Status Raft::Propose(SharedBytes data, EntryType type) {
  if (role_ != Role::kLeader) return NotLeader(fmt::format("leader={}", leader_));
  // Empty data marks a leader's no-op entry (raft/types.h): a command is never empty.
  if (data.empty()) return InvalidArgument("proposal of 0 bytes");
  if (lead_transferee_ != kNoNode) {
    return Unavailable(fmt::format("leadership transfer to {} in progress", lead_transferee_));
  }
  if (config_.max_uncommitted_bytes > 0 && uncommitted_bytes_ > 0 &&
      uncommitted_bytes_ + data.size() > config_.max_uncommitted_bytes) {
    return ResourceExhausted(fmt::format("uncommitted bytes {} + {} over limit {}",
                                         uncommitted_bytes_, data.size(),
                                         config_.max_uncommitted_bytes));
  }
  AppendEntries({Entry{Term(0), LogIndex(0), type, std::move(data)}});
  bcast_wanted_ = true;  // shipped by SendPendingAppends with the next Ready (batching)
  return Status::Ok();
}

Status Raft::ProposeConfChange(const ConfChange& cc) {
  if (role_ != Role::kLeader) return NotLeader(fmt::format("leader={}", leader_));
  if (pending_conf_index_ > log_.applied()) {
    return FailedPrecondition(fmt::format("conf change at {} not yet applied (applied {})",
                                          pending_conf_index_, log_.applied()));
  }
  NDS_RETURN_IF_ERROR(ValidateConfChange(conf_, cc));
  NDS_RETURN_IF_ERROR(Propose(EncodeConfChange(cc), EntryType::kConfChange));
  pending_conf_index_ = log_.LastIndex();
  return Status::Ok();
}

void Raft::AppendEntries(std::vector<Entry> entries) {
  LogIndex next = log_.LastIndex().Next();
  for (Entry& e : entries) {
    e.term = term_;
    e.index = next;
    next = next.Next();
    uncommitted_bytes_ += e.data.size();
  }
  log_.Append(entries);
  // Our own match moves only when the driver reports the entries durable (OnEntriesPersisted).
  if (conf_.voters.size() == 1 && MaybeCommit()) BcastAppend();
}

// ---- Commit ----

bool Raft::MaybeCommit() {
  const LogIndex mci(MajorityValue(conf_.voters, [this](NodeId id) -> uint64_t {
    auto it = progress_.find(id);
    return it == progress_.end() ? 0 : it->second.match().value;
  }));
  if (mci <= log_.committed() || mci > log_.LastIndex()) return false;
  // §5.4.2 (figure 8): only an entry of the current term is committed by counting replicas.
  if (log_.TermOrZero(mci) != term_) return false;
  log_.CommitTo(mci);
  return true;
}

bool Raft::CommittedEntryInCurrentTerm() const {
  return log_.TermOrZero(log_.committed()) == term_;
}

// ---- Replication ----

void Raft::SendPendingAppends() {
  if (AppendsWanted()) BcastAppend();
  bcast_wanted_ = false;
}

void Raft::BcastAppend() {
  bcast_wanted_ = false;
  for (auto& [id, pr] : progress_) {
    if (id != config_.id) SendAppend(id);
  }
}

bool Raft::MaybeSendAppend(NodeId to, bool send_if_empty) {
  auto it = progress_.find(to);
  if (it == progress_.end()) return false;
  Progress& pr = it->second;
  if (pr.IsPaused()) return false;
  const LogIndex prev = pr.next().Prev();
  Result<Term> prev_term = log_.TermAt(prev);
  const LogIndex end{
      std::min(log_.LastIndex().Next().value, pr.next().value + config_.max_msg_entries)};
  Result<std::vector<Entry>> entries = log_.Slice(pr.next(), end, config_.max_msg_bytes);
  if (!prev_term.ok() || !entries.ok()) return MaybeSendSnapshot(to, pr);
  if (entries->empty() && !send_if_empty) return false;
  uint64_t bytes = 0;
  for (const Entry& e : *entries) bytes += e.data.size();
  Message m;
  m.type = MessageType::kAppend;
  m.to = to;
  m.index = prev;
  m.log_term = *prev_term;
  m.commit = log_.committed();
  const size_t n = entries->size();
  const LogIndex last = n > 0 ? entries->back().index : prev;
  m.entries = std::move(entries).value();
  pr.SentEntries(n, last, bytes);
  Send(std::move(m));
  return true;
}

// The entries the follower needs are compacted: send the snapshot metadata. The driver streams
// the engine checkpoint that matches it (docs/raft.md "Snapshots").
bool Raft::MaybeSendSnapshot(NodeId to, Progress& pr) {
  if (!pr.recent_active()) return false;  // do not stream to a peer that may be down
  SnapshotMetadata meta = config_.storage->SnapshotMeta();
  if (meta.index.value == 0) return false;
  pr.BecomeSnapshot(meta.index);
  Message m;
  m.type = MessageType::kSnapshot;
  m.to = to;
  m.snapshot = std::move(meta);
  Send(std::move(m));
  return true;
}

Status Raft::StepLeader(const Message& m) {
  if (m.type == MessageType::kReadIndex) return LeaderReadIndex(m.from, m.context);
  if (m.type == MessageType::kTransferLeader) return StartTransfer(m.transferee);
  auto it = progress_.find(m.from);
  if (it == progress_.end()) return Status::Ok();  // not a member (e.g. just removed)
  Progress& pr = it->second;
  switch (m.type) {
    case MessageType::kAppendResponse:
      HandleAppendResponse(m, pr);
      break;
    case MessageType::kHeartbeatResponse:
      HandleHeartbeatResponse(m, pr);
      break;
    default:
      break;
  }
  return Status::Ok();
}

void Raft::HandleAppendResponse(const Message& m, Progress& pr) {
  pr.set_recent_active(true);
  if (m.reject) {
    // Fast back-off: skip every entry of a term the follower does not have.
    LogIndex next_probe = m.reject_hint;
    if (m.reject_term_hint.value > 0) {
      next_probe = log_.FindConflictByTerm(m.reject_hint, m.reject_term_hint).first;
    }
    if (pr.MaybeDecrTo(m.index, next_probe)) {
      if (pr.state() == ProgressState::kReplicate) pr.BecomeProbe();
      SendAppend(m.from);
    }
    return;
  }
  if (m.index > log_.LastIndex()) return;  // cannot match what we never sent
  const bool was_paused = pr.IsPaused();
  if (!pr.MaybeUpdate(m.index) && !(pr.match() == m.index && pr.state() == ProgressState::kProbe)) {
    return;
  }
  switch (pr.state()) {
    case ProgressState::kProbe:
      pr.BecomeReplicate();
      break;
    case ProgressState::kSnapshot:
      if (pr.match() >= pr.pending_snapshot()) {
        pr.BecomeProbe();
        pr.BecomeReplicate();
      }
      break;
    case ProgressState::kReplicate:
      pr.inflights_mut().FreeLE(m.index);
      break;
  }
  if (MaybeCommit()) {
    BcastAppend();
  } else if (was_paused) {
    SendAppend(m.from);
  }
  // Fill the pipeline; bounded because each send either advances next or pauses.
  while (MaybeSendAppend(m.from, false)) {
  }
  if (m.from == lead_transferee_ && pr.match() == log_.LastIndex()) SendTimeoutNow(m.from);
}

void Raft::HandleHeartbeatResponse(const Message& m, Progress& pr) {
  pr.set_recent_active(true);
  pr.ResumeProbe();
  if (pr.state() == ProgressState::kReplicate && pr.inflights().Full()) {
    pr.inflights_mut().FreeFirstOne();
  }
  if (m.round <= round_) pr.AckRound(m.round);
  if (pr.match() < log_.LastIndex()) SendAppend(m.from);
  ReleaseReads();
}

void Raft::ReportUnreachable(NodeId id) {
  if (role_ != Role::kLeader) return;
  auto it = progress_.find(id);
  if (it == progress_.end() || id == config_.id) return;
  if (it->second.state() == ProgressState::kReplicate) it->second.BecomeProbe();
}

void Raft::ReportSnapshot(NodeId id, bool ok) {
  if (role_ != Role::kLeader) return;
  auto it = progress_.find(id);
  if (it == progress_.end() || it->second.state() != ProgressState::kSnapshot) return;
  Progress& pr = it->second;
  // On failure forget the snapshot and probe from match; on success probe after it. Either way
  // wait for the next heartbeat response before sending (the follower may still be busy).
  if (!ok) pr.BecomeSnapshotFailed();
  pr.BecomeProbe();
  pr.PauseProbe();
}

// ---- Leadership transfer ----

Status Raft::TransferLeadership(NodeId to) {
  if (!IsVoter(conf_, to)) {
    return InvalidArgument(fmt::format("transfer: {} is not a voter", to));
  }
  if (role_ == Role::kLeader) return StartTransfer(to);
  if (leader_ == kNoNode) return NotLeader("leader=0");
  Message m;
  m.type = MessageType::kTransferLeader;
  m.to = leader_;
  m.transferee = to;
  Send(std::move(m));
  return Status::Ok();
}

Status Raft::StartTransfer(NodeId to) {
  if (to == config_.id) return Status::Ok();
  auto it = progress_.find(to);
  if (it == progress_.end() || it->second.is_learner()) {
    return InvalidArgument(fmt::format("transfer: {} is not a voter", to));
  }
  if (lead_transferee_ == to) return Status::Ok();
  // The transfer must finish within one election timeout, else it is aborted in TickHeartbeat.
  election_elapsed_ticks_ = 0;
  lead_transferee_ = to;
  // The target may campaign ignoring stickiness: our lease is gone for the rest of this term.
  transfer_term_ = term_;
  if (it->second.match() == log_.LastIndex()) {
    SendTimeoutNow(to);
  } else {
    SendAppend(to);
  }
  return Status::Ok();
}

void Raft::SendTimeoutNow(NodeId to) {
  Message m;
  m.type = MessageType::kTimeoutNow;
  m.to = to;
  Send(std::move(m));
}

// ---- Membership ----

Progress Raft::NewProgress(bool is_learner) const {
  return Progress(log_.LastIndex().Next(), config_.max_inflight_msgs, config_.max_inflight_bytes,
                  is_learner);
}

void Raft::RebuildProgress() {
  std::map<NodeId, Progress> next;
  auto add = [&](NodeId id, bool learner) {
    auto it = progress_.find(id);
    if (it != progress_.end() && role_ == Role::kLeader) {
      it->second.set_is_learner(learner);
      next.emplace(id, std::move(it->second));
      return;
    }
    Progress pr = NewProgress(learner);
    if (id == config_.id) pr.SetMatchForSelf(log_.StableLastIndex());
    next.emplace(id, std::move(pr));
  };
  for (NodeId id : conf_.voters) add(id, false);
  for (NodeId id : conf_.voters_outgoing) {
    if (!next.contains(id)) add(id, false);
  }
  for (NodeId id : conf_.learners) add(id, true);
  progress_ = std::move(next);
}

void Raft::ApplyConfChangeEntry(const ConfChange& cc) {
  conf_ = ApplyConfChange(conf_, cc);
  RebuildProgress();
  if (role_ != Role::kLeader) return;
  if (!IsVoter(conf_, config_.id)) {
    // The leader removed itself (thesis §4.2.2): the change is committed, so tell the others the
    // commit index, hand off to the most up-to-date remaining voter with kTimeoutNow (saves an
    // election timeout; its campaign still needs a majority of up-to-date votes), then step
    // down. It no longer campaigns (not promotable).
    BcastAppend();
    NodeId successor = kNoNode;
    LogIndex best;
    for (NodeId id : conf_.voters) {
      auto it = progress_.find(id);
      if (it != progress_.end() && it->second.match() > best) {
        best = it->second.match();
        successor = id;
      }
    }
    if (successor != kNoNode) SendTimeoutNow(successor);
    BecomeFollower(term_, kNoNode);
    return;
  }
  if (lead_transferee_ != kNoNode && !IsVoter(conf_, lead_transferee_)) AbortTransfer();
  // The quorum changed: the commit index may move, and new members need probing.
  MaybeCommit();
  BcastAppend();
}

// ---- Driver callbacks ----

void Raft::OnEntriesPersisted(LogIndex index, Term term) {
  log_.StableTo(index, term);
  if (role_ != Role::kLeader) return;
  auto self = progress_.find(config_.id);
  if (self == progress_.end()) return;
  self->second.SetMatchForSelf(log_.StableLastIndex());
  if (MaybeCommit()) BcastAppend();
}

std::vector<Entry> Raft::TakeCommittedEntries() {
  std::vector<Entry> out = log_.NextCommittedEntries(config_.max_committed_bytes_per_ready);
  if (!out.empty()) log_.ApplyingTo(out.back().index);
  return out;
}

void Raft::OnSnapshotPersisted(LogIndex index) { log_.StableSnapTo(index); }

void Raft::OnApplied(const std::vector<Entry>& entries) {
  if (entries.empty()) return;
  for (const Entry& e : entries) {
    // Entries a snapshot restored between GetReady and Advance already covers are skipped; any
    // other entry must be the next one (paired with the check when it was appended).
    if (e.index <= log_.applied()) continue;
    NDS_CHECK(e.index == log_.applied().Next(), "applied {} after {}", e.index, log_.applied());
    log_.AppliedTo(e.index);
    uncommitted_bytes_ -= std::min<uint64_t>(uncommitted_bytes_, e.data.size());
    if (e.type != EntryType::kConfChange) continue;
    // A bad encoding is ignored the same way on every node (deterministic), never a crash.
    Result<ConfChange> cc = DecodeConfChange(e.data);
    if (cc.ok()) ApplyConfChangeEntry(*cc);
  }
  if (timeout_now_pending_ && role_ == Role::kFollower && !HasUnappliedConfChanges()) {
    timeout_now_pending_ = false;
    Hup(true);
  }
}

}  // namespace nds::raft
