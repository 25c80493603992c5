// Raft core, part 1: construction and restart, ticks, Step dispatch by term, elections (§5.2,
// pre-vote thesis §9.6, leader stickiness §4.2.3) and the follower side of replication (§5.3).
#include "raft/raft.h"

#include <algorithm>

#include <fmt/format.h>

#include "raft/quorum.h"
#include "util/check.h"

namespace nds::raft {

namespace {

constexpr std::string_view kTransferContext = "transfer";

MessageType ResponseTypeFor(MessageType t) {
  return t == MessageType::kVote ? MessageType::kVoteResponse : MessageType::kPreVoteResponse;
}

}  // namespace

Raft::Raft(const Config& config)
    : config_(config),
      log_(config.storage, config.persisted_tail_bytes, config.async_storage_writes),
      rng_(config.seed) {}

Result<std::unique_ptr<Raft>> Raft::Create(const Config& config) {
  NDS_RETURN_IF_ERROR(config.Validate());
  std::unique_ptr<Raft> r(new Raft(config));
  NDS_RETURN_IF_ERROR(r->Restore());
  return r;
}

Status Raft::Restore() {
  const Storage& s = *config_.storage;
  NDS_ASSIGN_OR_RETURN(HardState hs, s.InitialHardState());
  NDS_ASSIGN_OR_RETURN(conf_, s.InitialConfState());
  const LogIndex snap = s.FirstIndex().Prev();
  if (hs.commit < snap) hs.commit = snap;  // a snapshot is committed by definition
  if (hs.commit > log_.LastIndex()) {
    return Corruption(
        fmt::format("raft restore: commit {} beyond last index {}", hs.commit, log_.LastIndex()));
  }
  LogIndex applied = std::max(config_.applied, snap);
  if (applied > hs.commit) {
    return FailedPrecondition(
        fmt::format("raft restore: applied {} beyond commit {}", applied, hs.commit));
  }
  term_ = hs.term;
  vote_ = hs.vote;
  // A crash between writing a Ready's entries and its hard state can leave entries of a term
  // newer than the saved term. The node cannot have voted in that term (a vote is synced before
  // it is sent, and it would have been in an earlier Ready), so adopting it with no vote is safe.
  if (log_.LastTerm() > term_) {
    term_ = log_.LastTerm();
    vote_ = kNoNode;
  }
  restarted_quiet_ = term_.value > 0;
  log_.CommitTo(hs.commit);
  // Replay the membership changes the state machine already applied after the snapshot; the
  // application is idempotent, so a stored configuration newer than the snapshot is fine too.
  for (LogIndex lo = snap.Next(); lo <= applied;) {
    NDS_ASSIGN_OR_RETURN(std::vector<Entry> page,
                         log_.Slice(lo, applied.Next(), config_.max_committed_bytes_per_ready));
    for (const Entry& e : page) {
      if (e.type != EntryType::kConfChange) continue;
      Result<ConfChange> cc = DecodeConfChange(e.data);
      if (cc.ok()) conf_ = ApplyConfChange(conf_, *cc);
    }
    lo = page.back().index.Next();
  }
  log_.SetAppliedAtStart(applied);
  BecomeFollower(term_, kNoNode);
  return Status::Ok();
}

Status Raft::Bootstrap(const std::vector<NodeId>& voters) {
  if (log_.LastIndex().value != 0 || term_.value != 0 || !conf_.voters.empty()) {
    return FailedPrecondition("raft bootstrap: the node already has state");
  }
  std::vector<NodeId> sorted = voters;
  std::sort(sorted.begin(), sorted.end());
  if (sorted.empty()) return InvalidArgument("raft bootstrap: no voters");
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
    return InvalidArgument("raft bootstrap: duplicate voter");
  }
  if (!std::binary_search(sorted.begin(), sorted.end(), config_.id)) {
    return InvalidArgument(fmt::format("raft bootstrap: voters lack this node {}", config_.id));
  }
  if (sorted.front() == kNoNode) return InvalidArgument("raft bootstrap: voter id 0");
  std::vector<Entry> entries;
  for (size_t i = 0; i < voters.size(); ++i) {
    entries.push_back(Entry{Term(1), LogIndex(i + 1), EntryType::kConfChange,
                            EncodeConfChange(ConfChange{ConfChangeType::kAddVoter, voters[i]})});
  }
  log_.Append(entries);
  log_.CommitTo(LogIndex(voters.size()));
  term_ = Term(1);
  conf_.voters = sorted;
  BecomeFollower(term_, kNoNode);
  return Status::Ok();
}

bool Raft::Promotable() const { return IsVoter(conf_, config_.id); }

void Raft::Send(Message m) {
  m.from = config_.id;
  if (m.term.value == 0) m.term = term_;
  msgs_.push_back(std::move(m));
}

std::vector<Message> Raft::TakeMessages() { return std::exchange(msgs_, {}); }
std::vector<ReadState> Raft::TakeReadStates() { return std::exchange(read_states_, {}); }

// ---- Roles ----

void Raft::ResetRandomizedElectionTimeout() {
  randomized_election_ticks_ =
      config_.election_ticks + static_cast<int>(rng_.Uniform(config_.election_ticks));
}

void Raft::Reset(Term term) {
  if (term_ != term) {
    term_ = term;
    vote_ = kNoNode;
  }
  leader_ = kNoNode;
  election_elapsed_ticks_ = 0;
  heartbeat_elapsed_ticks_ = 0;
  ResetRandomizedElectionTimeout();
  AbortTransfer();
  timeout_now_pending_ = false;
  votes_.clear();
  pending_conf_index_ = LogIndex(0);
  uncommitted_bytes_ = 0;
  pending_reads_.clear();
  read_round_wanted_ = false;
  bcast_wanted_ = false;
  round_sent_ticks_.clear();
  RebuildProgress();
}

void Raft::BecomeFollower(Term term, NodeId leader) {
  Reset(term);
  leader_ = leader;
  role_ = Role::kFollower;
}

void Raft::BecomePreCandidate() {
  NDS_CHECK(role_ != Role::kLeader);
  // Pre-vote changes neither term nor vote (thesis §9.6): a partitioned node cannot disrupt.
  votes_.clear();
  leader_ = kNoNode;
  role_ = Role::kPreCandidate;
}

void Raft::BecomeCandidate() {
  NDS_CHECK(role_ != Role::kLeader);
  Reset(term_.Next());
  vote_ = config_.id;
  role_ = Role::kCandidate;
}

void Raft::Hup(bool transfer) {
  if (role_ == Role::kLeader) return;
  // A node that has committed but not yet applied a membership change does not know its
  // configuration yet (etcd does the same). A transfer waits for the apply (OnApplied).
  if (HasUnappliedConfChanges()) {
    if (transfer) timeout_now_pending_ = true;
    return;
  }
  if (!Promotable()) return;
  Campaign(config_.pre_vote && !transfer, transfer);
}

bool Raft::HasUnappliedConfChanges() const {
  for (LogIndex lo = log_.applied().Next(); lo <= log_.committed();) {
    Result<std::vector<Entry>> page =
        log_.Slice(lo, log_.committed().Next(), config_.max_committed_bytes_per_ready);
    if (!page.ok()) return false;  // compacted: a snapshot covers it
    for (const Entry& e : *page) {
      if (e.type == EntryType::kConfChange) return true;
    }
    lo = page->back().index.Next();
  }
  return false;
}

void Raft::Campaign(bool pre_vote, bool transfer) {
  Term term;
  MessageType type;
  if (pre_vote) {
    BecomePreCandidate();
    type = MessageType::kPreVote;
    term = term_.Next();  // the term it would campaign for; its own term is unchanged
  } else {
    BecomeCandidate();
    type = MessageType::kVote;
    term = term_;
  }
  votes_[config_.id] = true;
  VoteResult result = MajorityVoteResult(conf_.voters, votes_);
  if (result == VoteResult::kWon) {
    // A single-voter configuration wins at once.
    if (pre_vote) {
      Campaign(false, transfer);
    } else {
      BecomeLeader();
    }
    return;
  }
  for (NodeId id : conf_.voters) {
    if (id == config_.id) continue;
    Message m;
    m.type = type;
    m.to = id;
    m.term = term;
    m.index = log_.LastIndex();
    m.log_term = log_.LastTerm();
    if (transfer) m.context = std::string(kTransferContext);
    Send(std::move(m));
  }
}

// ---- Ticks ----

void Raft::Tick() {
  ++now_ticks_;
  if (role_ == Role::kLeader) {
    TickHeartbeat();
  } else {
    TickElection();
  }
}

void Raft::TickElection() {
  ++election_elapsed_ticks_;
  if (Promotable() && election_elapsed_ticks_ >= randomized_election_ticks_) {
    election_elapsed_ticks_ = 0;
    Hup(false);
  }
}

// ---- Step ----

Status Raft::Step(const Message& m) {
  if (m.to != config_.id) {
    return InvalidArgument(fmt::format("raft step: message for {} delivered to {}", m.to, id()));
  }
  if (m.from == kNoNode || m.from == config_.id) {
    return InvalidArgument(
        fmt::format("raft step: bad sender {} of {}", m.from, MessageTypeName(m.type)));
  }
  bool handled = false;
  NDS_RETURN_IF_ERROR(StepByTerm(m, &handled));
  if (handled) return Status::Ok();
  switch (m.type) {
    case MessageType::kVote:
    case MessageType::kPreVote:
      HandleVoteRequest(m);
      return Status::Ok();
    default:
      break;
  }
  switch (role_) {
    case Role::kFollower:
      return StepFollower(m);
    case Role::kPreCandidate:
    case Role::kCandidate:
      return StepCandidate(m);
    case Role::kLeader:
      return StepLeader(m);
  }
  return Status::Ok();
}

// Raft §5.1: a higher term makes this node a follower; a lower-term message is stale. Sets
// *handled when the message needs nothing more.
Status Raft::StepByTerm(const Message& m, bool* handled) {
  if (m.term > term_) {
    if (m.type == MessageType::kVote || m.type == MessageType::kPreVote) {
      const bool forced = m.context == kTransferContext;
      // Leader stickiness (thesis §4.2.3): while a leader was heard within the election timeout,
      // ignore campaigns. This is what makes the leader lease safe.
      const bool heard_leader =
          leader_ != kNoNode && election_elapsed_ticks_ < config_.election_ticks;
      const bool quiet_after_restart =
          restarted_quiet_ && now_ticks_ < static_cast<uint64_t>(config_.election_ticks);
      const bool in_lease = config_.check_quorum && (heard_leader || quiet_after_restart);
      if (!forced && in_lease) {
        *handled = true;
        return Status::Ok();
      }
    }
    // A pre-vote never changes our term, and granted pre-votes carry the future term (the
    // pre-candidate counts them): neither makes this node a follower.
    const bool pre_vote =
        m.type == MessageType::kPreVote || (m.type == MessageType::kPreVoteResponse && !m.reject);
    if (!pre_vote) {
      const bool from_leader = m.type == MessageType::kAppend ||
                               m.type == MessageType::kHeartbeat ||
                               m.type == MessageType::kSnapshot;
      BecomeFollower(m.term, from_leader ? m.from : kNoNode);
    }
    return Status::Ok();
  }
  if (m.term < term_) {
    *handled = true;
    if ((config_.check_quorum || config_.pre_vote) &&
        (m.type == MessageType::kAppend || m.type == MessageType::kHeartbeat)) {
      // A stale leader (e.g. healed from a partition) learns our term and steps down; without
      // this it could keep its followers from ever electing past it when pre-vote is on.
      Message r;
      r.type = MessageType::kAppendResponse;
      r.to = m.from;
      Send(std::move(r));
    } else if (m.type == MessageType::kPreVote) {
      Message r;
      r.type = MessageType::kPreVoteResponse;
      r.to = m.from;
      r.reject = true;
      Send(std::move(r));
    }
  }
  return Status::Ok();
}

void Raft::HandleVoteRequest(const Message& m) {
  const bool pre = m.type == MessageType::kPreVote;
  const bool can_vote =
      vote_ == m.from || (vote_ == kNoNode && leader_ == kNoNode) || (pre && m.term > term_);
  Message r;
  r.type = ResponseTypeFor(m.type);
  r.to = m.from;
  if (can_vote && log_.IsUpToDate(m.index, m.log_term)) {
    // §5.2, §5.4.1: grant. A pre-vote answers in the future term without recording anything.
    r.term = m.term;
    if (!pre) {
      election_elapsed_ticks_ = 0;
      vote_ = m.from;
    }
  } else {
    r.term = term_;
    r.reject = true;
  }
  Send(std::move(r));
}

Status Raft::StepFollower(const Message& m) {
  switch (m.type) {
    case MessageType::kAppend:
      election_elapsed_ticks_ = 0;
      leader_ = m.from;
      return HandleAppend(m);
    case MessageType::kHeartbeat:
      election_elapsed_ticks_ = 0;
      leader_ = m.from;
      return HandleHeartbeat(m);
    case MessageType::kSnapshot:
      election_elapsed_ticks_ = 0;
      leader_ = m.from;
      HandleSnapshot(m);
      return Status::Ok();
    case MessageType::kTimeoutNow:
      // Leadership transfer (thesis §3.10): campaign at once, skipping pre-vote.
      Hup(true);
      return Status::Ok();
    case MessageType::kReadIndexResponse:
      if (!m.reject) read_states_.push_back(ReadState{m.index, m.context});
      return Status::Ok();
    default:
      return Status::Ok();
  }
}

Status Raft::StepCandidate(const Message& m) {
  const MessageType my_response =
      role_ == Role::kPreCandidate ? MessageType::kPreVoteResponse : MessageType::kVoteResponse;
  switch (m.type) {
    case MessageType::kAppend:
    case MessageType::kHeartbeat:
    case MessageType::kSnapshot:
      // A leader of our term exists (§5.2): follow it.
      BecomeFollower(m.term, m.from);
      return StepFollower(m);
    case MessageType::kTimeoutNow:
      // A pre-candidate has not left the leader's term: a transfer to it still stands.
      if (role_ == Role::kPreCandidate) Hup(true);
      return Status::Ok();
    default:
      break;
  }
  if (m.type != my_response) return Status::Ok();
  votes_[m.from] = !m.reject;
  switch (MajorityVoteResult(conf_.voters, votes_)) {
    case VoteResult::kWon:
      if (role_ == Role::kPreCandidate) {
        Campaign(false, false);
      } else {
        BecomeLeader();
      }
      break;
    case VoteResult::kLost:
      BecomeFollower(term_, kNoNode);
      break;
    case VoteResult::kPending:
      break;
  }
  return Status::Ok();
}

Status Raft::HandleAppend(const Message& m) {
  Message r;
  r.type = MessageType::kAppendResponse;
  r.to = m.from;
  if (m.index < log_.committed()) {
    // Already committed here: tell the leader where we are.
    r.index = log_.committed();
    Send(std::move(r));
    return Status::Ok();
  }
  for (const Entry& e : m.entries) {
    if (e.term > m.term) {
      return Corruption(fmt::format("append from {} carries entry {} of future term {} > {}",
                                    m.from, e.index, e.term, m.term));
    }
  }
  NDS_ASSIGN_OR_RETURN(std::optional<LogIndex> last_new,
                       log_.MaybeAppend(m.index, m.log_term, m.commit, m.entries));
  if (last_new) {
    r.index = *last_new;
    Send(std::move(r));
    return Status::Ok();
  }
  // §5.3 consistency check failed. Hint the leader past a whole term of mismatches at once: the
  // largest index <= m.index whose term is <= m.log_term.
  LogIndex hint = std::min(m.index, log_.LastIndex());
  auto [hint_index, hint_term] = log_.FindConflictByTerm(hint, m.log_term);
  r.index = m.index;
  r.reject = true;
  r.reject_hint = hint_index;
  r.reject_term_hint = hint_term;
  Send(std::move(r));
  return Status::Ok();
}

Status Raft::HandleHeartbeat(const Message& m) {
  if (m.commit > log_.LastIndex()) {
    return Corruption(fmt::format("heartbeat from {} commits {} beyond our last index {}", m.from,
                                  m.commit, log_.LastIndex()));
  }
  log_.CommitTo(m.commit);
  Message r;
  r.type = MessageType::kHeartbeatResponse;
  r.to = m.from;
  r.round = m.round;
  Send(std::move(r));
  return Status::Ok();
}

void Raft::HandleSnapshot(const Message& m) {
  const SnapshotMetadata& meta = m.snapshot;
  Message r;
  r.type = MessageType::kAppendResponse;
  r.to = m.from;
  if (meta.index <= log_.committed()) {
    // Stale: we already have it. The driver discards the staged data (no Ready.snapshot).
    r.index = log_.committed();
  } else if (log_.MatchTerm(meta.index, meta.term)) {
    // We hold the snapshot's last entry: fast-forward the commit index instead of restoring.
    log_.CommitTo(meta.index);
    r.index = log_.committed();
  } else {
    log_.Restore(meta);
    conf_ = meta.conf_state;
    RebuildProgress();
    r.index = log_.LastIndex();
  }
  Send(std::move(r));
}

}  // namespace nds::raft
