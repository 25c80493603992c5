// RawNode: packages the Raft state machine's output into Ready batches and feeds back the
// driver's progress (persisted, applied) on Advance.
#include "raft/raw_node.h"

#include "raft/raft.h"
#include "util/check.h"

namespace nds::raft {

RawNode::RawNode(std::unique_ptr<Raft> raft) : raft_(std::move(raft)) {
  prev_soft_ = raft_->soft_state();
  // The restored hard state is already durable: only report changes from here on.
  prev_hard_ = raft_->hard_state();
}

RawNode::~RawNode() = default;

Result<std::unique_ptr<RawNode>> RawNode::Create(const Config& config) {
  NDS_ASSIGN_OR_RETURN(std::unique_ptr<Raft> raft, Raft::Create(config));
  return std::unique_ptr<RawNode>(new RawNode(std::move(raft)));
}

Status RawNode::Bootstrap(const std::vector<NodeId>& voters) { return raft_->Bootstrap(voters); }
void RawNode::Tick() { raft_->Tick(); }
void RawNode::Campaign() { raft_->Campaign(); }
Status RawNode::Step(const Message& m) { return raft_->Step(m); }
Status RawNode::Propose(SharedBytes data) {
  return raft_->Propose(std::move(data), EntryType::kNormal);
}
Status RawNode::ProposeConfChange(const ConfChange& cc) { return raft_->ProposeConfChange(cc); }
Status RawNode::ReadIndex(std::string context) { return raft_->ReadIndex(std::move(context)); }
Status RawNode::TransferLeadership(NodeId to) { return raft_->TransferLeadership(to); }
void RawNode::ReportUnreachable(NodeId id) { raft_->ReportUnreachable(id); }
void RawNode::ReportSnapshot(NodeId id, bool ok) { raft_->ReportSnapshot(id, ok); }
bool RawNode::HasLeaderLease() const { return raft_->HasLeaderLease(); }
uint64_t RawNode::LeaseTicksLeft() const { return raft_->LeaseTicksLeft(); }
const ConfState& RawNode::GetConfState() const { return raft_->conf_state(); }
LogIndex RawNode::LastIndex() const { return raft_->log().LastIndex(); }
Term RawNode::CurrentTerm() const { return raft_->term(); }
Result<Term> RawNode::TermAt(LogIndex i) const { return raft_->log().TermAt(i); }
LogIndex RawNode::StableLastIndex() const { return raft_->log().StableLastIndex(); }

bool RawNode::HasReady() const {
  const Raft& r = *raft_;
  return r.soft_state() != prev_soft_ || r.hard_state() != prev_hard_ ||
         r.log().HasUnstableEntriesToWrite() || r.log().UnstableSnapshot().has_value() ||
         r.log().HasNextCommittedEntries() || r.HasMessagesOrReads() || r.ReadRoundWanted() ||
         r.AppendsWanted();
}

Ready RawNode::GetReady() {
  raft_->SendPendingAppends();
  raft_->SendReadRound();
  Ready rd;
  const SoftState soft = raft_->soft_state();
  if (soft != prev_soft_) {
    rd.soft_state = soft;
    prev_soft_ = soft;
  }
  const HardState hard = raft_->hard_state();
  if (hard != prev_hard_) {
    rd.hard_state = hard;
    rd.must_sync = hard.term != prev_hard_.term || hard.vote != prev_hard_.vote;
    prev_hard_ = hard;
  }
  rd.entries = raft_->log().UnstableEntries();
  rd.snapshot = raft_->log().UnstableSnapshot();
  if (!rd.entries.empty() || rd.snapshot) rd.must_sync = true;
  rd.committed_entries = raft_->TakeCommittedEntries();
  rd.messages = raft_->TakeMessages();
  rd.read_states = raft_->TakeReadStates();
  return rd;
}

void RawNode::Advance(const Ready& rd) {
  if (rd.snapshot) raft_->OnSnapshotPersisted(rd.snapshot->index);
  if (!rd.entries.empty()) {
    raft_->OnEntriesPersisted(rd.entries.back().index, rd.entries.back().term);
  }
  raft_->OnApplied(rd.committed_entries);
}

void RawNode::AdvanceAsync(const Ready& rd) {
  NDS_CHECK(!rd.snapshot, "a Ready with a snapshot is advanced synchronously");
  NDS_CHECK(raft_->config().async_storage_writes, "AdvanceAsync without async_storage_writes");
  if (!rd.entries.empty()) raft_->MarkInProgress(rd.entries.back().index, rd.entries.back().term);
  raft_->OnApplied(rd.committed_entries);
}

void RawNode::OnAppendDurable(LogIndex index, Term term) { raft_->OnEntriesPersisted(index, term); }

void RawNode::RewriteUnwritten() { raft_->ForgetInProgress(); }

BasicStatus RawNode::GetStatus() const {
  const Raft& r = *raft_;
  BasicStatus s;
  s.id = r.id();
  s.term = r.term();
  s.vote = r.vote();
  s.role = r.role();
  s.leader = r.leader();
  s.commit = r.log().committed();
  s.applied = r.log().applied();
  s.first_index = r.log().FirstIndex();
  s.last_index = r.log().LastIndex();
  s.conf_state = r.conf_state();
  s.lead_transferee = r.lead_transferee();
  if (r.role() == Role::kLeader) {
    for (const auto& [id, pr] : r.progress()) {
      s.progress.push_back(PeerProgress{
          id, pr.match(), pr.next(), std::string(ProgressStateName(pr.state())), pr.is_learner(),
          pr.recent_active(), pr.heard_lately(), pr.inflights().Count()});
    }
  }
  return s;
}

}  // namespace nds::raft
