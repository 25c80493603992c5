// Raft core, part 3: heartbeat rounds and what they confirm: the leader lease
// (docs/raft.md "Leader lease") and batched ReadIndex (thesis §6.4).
#include <algorithm>

#include <fmt/format.h>

#include "raft/quorum.h"
#include "raft/raft.h"
#include "util/check.h"

namespace nds::raft {

// ---- Heartbeats, lease and ReadIndex ----

void Raft::BcastHeartbeat() {
  ++round_;
  round_sent_ticks_.emplace_back(round_, now_ticks_);
  while (round_sent_ticks_.size() > kRoundsRemembered) round_sent_ticks_.pop_front();
  read_round_wanted_ = false;
  for (auto& [id, pr] : progress_) {
    if (id == config_.id) {
      pr.AckRound(round_);
      continue;
    }
    Message m;
    m.type = MessageType::kHeartbeat;
    m.to = id;
    // Never commit past what the follower is known to match: its tail may still diverge.
    m.commit = std::min(pr.match(), log_.committed());
    m.round = round_;
    Send(std::move(m));
  }
  ReleaseReads();
}

void Raft::SendReadRound() {
  if (ReadRoundWanted()) BcastHeartbeat();
}

uint64_t Raft::QuorumAckedRound() const {
  return MajorityValue(conf_.voters, [this](NodeId id) -> uint64_t {
    auto it = progress_.find(id);
    return it == progress_.end() ? 0 : it->second.acked_round();
  });
}

uint64_t Raft::LeaseTicksLeft() const {
  if (role_ != Role::kLeader || lead_transferee_ != kNoNode || transfer_term_ == term_) {
    return 0;
  }
  const uint64_t acked = QuorumAckedRound();
  // The send time of the newest remembered round <= acked: a majority heard from us after it.
  for (auto it = round_sent_ticks_.rbegin(); it != round_sent_ticks_.rend(); ++it) {
    if (it->first <= acked) {
      const uint64_t until = it->second + static_cast<uint64_t>(config_.EffectiveLeaseTicks());
      return now_ticks_ < until ? until - now_ticks_ : 0;
    }
  }
  return 0;
}

void Raft::ReleaseReads() {
  if (pending_reads_.empty()) return;
  const uint64_t acked = QuorumAckedRound();
  while (!pending_reads_.empty() && pending_reads_.front().round <= acked) {
    PendingRead& pr = pending_reads_.front();
    if (pr.from == config_.id) {
      read_states_.push_back(ReadState{pr.index, std::move(pr.context)});
    } else {
      Message m;
      m.type = MessageType::kReadIndexResponse;
      m.to = pr.from;
      m.index = pr.index;
      m.context = std::move(pr.context);
      Send(std::move(m));
    }
    pending_reads_.pop_front();
  }
}

Status Raft::ReadIndex(std::string context) {
  if (role_ == Role::kLeader) return LeaderReadIndex(config_.id, std::move(context));
  if (role_ != Role::kFollower || leader_ == kNoNode) {
    return Unavailable("read index: no leader known");
  }
  Message m;
  m.type = MessageType::kReadIndex;
  m.to = leader_;
  m.context = std::move(context);
  Send(std::move(m));
  return Status::Ok();
}

Status Raft::LeaderReadIndex(NodeId from, std::string context) {
  Status refuse;
  if (!CommittedEntryInCurrentTerm()) {
    // Thesis §6.4 step 1: until an entry of its term commits, the leader's commit index may be
    // behind the true one.
    refuse = Unavailable("read index: leader has not committed an entry of its term yet");
  } else if (pending_reads_.size() >= config_.max_pending_reads) {
    refuse = ResourceExhausted(fmt::format("read index: {} reads pending", pending_reads_.size()));
  }
  if (!refuse.ok()) {
    if (from == config_.id) return refuse;
    Message m;
    m.type = MessageType::kReadIndexResponse;
    m.to = from;
    m.reject = true;
    m.context = std::move(context);
    Send(std::move(m));
    return Status::Ok();
  }
  // The read waits for the next heartbeat round, sent when the driver takes its next Ready: all
  // reads asked in between share that one round.
  pending_reads_.push_back(PendingRead{std::move(context), log_.committed(), from, round_ + 1});
  read_round_wanted_ = true;
  if (conf_.voters.size() == 1) BcastHeartbeat();  // our own ack is the quorum
  return Status::Ok();
}

}  // namespace nds::raft
