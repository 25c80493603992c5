// Progress: what the leader knows about one peer's log (Raft §5.3 match/next index) and how it
// currently replicates to it (etcd's tracker/progress):
//   probe      — one append at a time until the follower's match is found (after a rejection,
//                a restart or an unreachable report);
//   replicate  — pipelined appends, next advanced optimistically, bounded by Inflights;
//   snapshot   — a snapshot is being streamed; no appends until ReportSnapshot or an ack.
// Owned by the leader's Raft; not thread-safe (raft strand only).
#pragma once

#include <cstdint>
#include <string_view>

#include "raft/inflights.h"
#include "util/strong_id.h"

namespace nds::raft {

enum class ProgressState : uint8_t { kProbe = 0, kReplicate, kSnapshot };
std::string_view ProgressStateName(ProgressState s);

class Progress {
 public:
  Progress(LogIndex next, size_t inflight_msgs_max, uint64_t inflight_bytes_max, bool is_learner);

  void BecomeProbe();
  void BecomeReplicate();
  // Precondition: pending_snapshot > 0.
  void BecomeSnapshot(LogIndex pending_snapshot);

  // An acknowledgement that the follower's log matches up to `n`. Returns true when match moved
  // forward. next never drops below match+1.
  bool MaybeUpdate(LogIndex n);
  // A rejection of the append whose previous index was `rejected`, with the follower's hint of
  // where to probe next (`match_hint`, already capped by the leader's conflict search). Returns
  // false when the rejection is stale (out of order) and was ignored.
  bool MaybeDecrTo(LogIndex rejected, LogIndex match_hint);
  // Records that an append of `entries` entries ending at `last_index` with `bytes` of data was
  // sent. In replicate, next advances past it and the window grows; in probe, further appends
  // pause until a response (or heartbeat response) arrives.
  void SentEntries(size_t entries, LogIndex last_index, uint64_t bytes);

  // True when the leader should not send appends to this peer now.
  bool IsPaused() const;

  LogIndex match() const { return match_; }
  LogIndex next() const { return next_; }
  ProgressState state() const { return state_; }
  LogIndex pending_snapshot() const { return pending_snapshot_; }
  bool is_learner() const { return is_learner_; }
  void set_is_learner(bool v) { is_learner_ = v; }
  bool recent_active() const { return recent_active_; }
  void set_recent_active(bool v) { recent_active_ = v; }
  // Closes a check-quorum window: remembers whether the peer was heard in it, then forgets.
  void EndActivityWindow() {
    active_last_window_ = recent_active_;
    recent_active_ = false;
  }
  // Heard from in this check-quorum window or the one before: true right after a window closed
  // for a peer that answers every heartbeat, false within two windows of the peer going silent.
  bool heard_lately() const { return recent_active_ || active_last_window_; }
  // Lets a probe resume after a heartbeat response (the follower is alive again).
  void ResumeProbe() { probe_sent_ = false; }
  const Inflights& inflights() const { return inflights_; }
  Inflights& inflights_mut() { return inflights_; }
  // Pauses a probe until the next heartbeat response (after a snapshot report).
  void PauseProbe() { probe_sent_ = true; }
  // A snapshot stream failed: forget it so BecomeProbe restarts from match.
  void BecomeSnapshotFailed() { pending_snapshot_ = LogIndex(0); }
  // Leader-only: the newest heartbeat round this peer acknowledged (lease, ReadIndex).
  uint64_t acked_round() const { return acked_round_; }
  void AckRound(uint64_t round) {
    if (round > acked_round_) acked_round_ = round;
  }
  // The leader's own entry: match is set from durable state only (STYLE.md §7).
  void SetMatchForSelf(LogIndex match);

 private:
  LogIndex match_;
  LogIndex next_;  // invariant: next_ > match_
  ProgressState state_ = ProgressState::kProbe;
  LogIndex pending_snapshot_;        // valid in kSnapshot: the index of the snapshot being sent
  bool probe_sent_ = false;          // kProbe: an append is outstanding
  bool recent_active_ = false;       // heard from since the last check-quorum window
  bool active_last_window_ = false;  // ... and in the window before it
  bool is_learner_ = false;
  uint64_t acked_round_ = 0;
  Inflights inflights_;
};

}  // namespace nds::raft
