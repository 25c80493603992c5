// Progress state machine (probe / replicate / snapshot) of one peer, as the leader sees it.
#include "raft/progress.h"

#include <algorithm>

#include "util/check.h"

namespace nds::raft {

std::string_view ProgressStateName(ProgressState s) {
  switch (s) {
    case ProgressState::kProbe:
      return "probe";
    case ProgressState::kReplicate:
      return "replicate";
    case ProgressState::kSnapshot:
      return "snapshot";
  }
  return "unknown";
}

Progress::Progress(LogIndex next, size_t inflight_msgs_max, uint64_t inflight_bytes_max,
                   bool is_learner)
    : next_(next), is_learner_(is_learner), inflights_(inflight_msgs_max, inflight_bytes_max) {
  NDS_CHECK(next_.value >= 1);
}

void Progress::BecomeProbe() {
  // After a snapshot, probe from just after it: the follower has at least that much once it
  // installed it; otherwise from just after the known match.
  if (state_ == ProgressState::kSnapshot) {
    next_ = LogIndex(std::max(match_.value + 1, pending_snapshot_.value + 1));
  } else {
    next_ = match_.Next();
  }
  state_ = ProgressState::kProbe;
  pending_snapshot_ = LogIndex(0);
  probe_sent_ = false;
  inflights_.Reset();
}

void Progress::BecomeReplicate() {
  state_ = ProgressState::kReplicate;
  next_ = match_.Next();
  pending_snapshot_ = LogIndex(0);
  probe_sent_ = false;
  inflights_.Reset();
}

void Progress::BecomeSnapshot(LogIndex pending_snapshot) {
  NDS_CHECK(pending_snapshot.value > 0);
  state_ = ProgressState::kSnapshot;
  pending_snapshot_ = pending_snapshot;
  probe_sent_ = false;
  inflights_.Reset();
}

bool Progress::MaybeUpdate(LogIndex n) {
  bool updated = false;
  if (match_ < n) {
    match_ = n;
    updated = true;
    probe_sent_ = false;
  }
  if (next_ < n.Next()) next_ = n.Next();
  return updated;
}

bool Progress::MaybeDecrTo(LogIndex rejected, LogIndex match_hint) {
  if (state_ == ProgressState::kReplicate) {
    // A rejection at or below match is stale: the follower has since acknowledged more.
    if (rejected <= match_) return false;
    next_ = match_.Next();
    return true;
  }
  // Probe (or snapshot): only the rejection of the append we last sent counts.
  if (next_.value == 0 || next_.Prev() != rejected) return false;
  uint64_t to = std::min(rejected.value, match_hint.value + 1);
  next_ = LogIndex(std::max<uint64_t>(to, 1));
  if (next_ <= match_) next_ = match_.Next();
  probe_sent_ = false;
  return true;
}

void Progress::SentEntries(size_t entries, LogIndex last_index, uint64_t bytes) {
  switch (state_) {
    case ProgressState::kReplicate:
      if (entries > 0) {
        next_ = last_index.Next();
        inflights_.Add(last_index, bytes);
      }
      break;
    case ProgressState::kProbe:
      probe_sent_ = true;
      break;
    case ProgressState::kSnapshot:
      NDS_CHECK(false, "sending entries to a peer in snapshot state");
  }
}

bool Progress::IsPaused() const {
  switch (state_) {
    case ProgressState::kProbe:
      return probe_sent_;
    case ProgressState::kReplicate:
      return inflights_.Full();
    case ProgressState::kSnapshot:
      return true;
  }
  return true;
}

void Progress::SetMatchForSelf(LogIndex match) {
  if (match > match_) match_ = match;
  if (next_ <= match_) next_ = match_.Next();
}

}  // namespace nds::raft
