// RaftLog: the node's log as the core sees it: the stable part through a read-only Storage view,
// plus the unstable tail (entries, or a restored snapshot) not yet handed to the driver to persist
// (etcd's raftLog + unstable). Tracks the commit index and the applied index (Raft §5.3).
//
// Index space: [FirstIndex(), LastIndex()]; FirstIndex()-1 is the snapshot (or 0) and Term() still
// answers for it. Unstable entries start at unstable_offset_; entries below it are in storage.
//
// Entries just persisted stay in memory too (the persisted tail, below unstable_offset_) until
// applied or past a byte bound: the committed entries handed to the apply and the appends to
// followers then come from memory instead of being read back from the log files. Entry data is
// shared (SharedBytes), so keeping them costs no copy.
//
// Storage errors other than "compacted" are fatal (STYLE.md §3: any storage error in the Raft loop
// stops the node): the core crashes with the message rather than continue on a log it cannot read.
//
// Owned by Raft; not thread-safe (raft strand only).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "raft/storage.h"
#include "raft/types.h"
#include "util/status.h"

namespace nds::raft {

class RaftLog {
 public:
  // `storage` is not owned and must outlive the log. The log starts with committed = applied =
  // storage's snapshot index. At most `persisted_tail_bytes` of entry data is kept in memory after
  // it was persisted (0: none).
  // With `apply_only_stable`, committed entries are handed out only up to StableLastIndex(): a
  // driver that persists entries after Advance (AdvanceAsync) must not apply what its own log
  // does not hold yet.
  explicit RaftLog(const Storage* storage, uint64_t persisted_tail_bytes = 0,
                   bool apply_only_stable = false);

  LogIndex FirstIndex() const;
  LogIndex LastIndex() const;
  Term LastTerm() const;
  // The term of entry i: kNotFound("compacted") below FirstIndex()-1, Term(0) above LastIndex().
  Result<Term> TermAt(LogIndex i) const;
  // The term, with 0 for a compacted or missing entry (only for comparisons that tolerate it).
  Term TermOrZero(LogIndex i) const;
  bool MatchTerm(LogIndex i, Term t) const;

  // Raft §5.4.1: is a candidate's log (last index/term) at least as up to date as ours?
  bool IsUpToDate(LogIndex last_index, Term last_term) const;

  // A follower's AppendEntries (§5.3): when our entry at `index` has `log_term`, appends `entries`
  // (dropping any conflicting suffix of ours), commits up to min(commit, last new index) and
  // returns the last new index; std::nullopt when the terms do not match. kCorruption when the
  // conflict lies at or below the commit index (a peer broke the Log Matching Property).
  Result<std::optional<LogIndex>> MaybeAppend(LogIndex index, Term log_term, LogIndex commit,
                                              const std::vector<Entry>& entries);
  // Appends to the unstable tail, truncating a conflicting suffix. Precondition: entries are
  // contiguous, the first is at most LastIndex()+1 and above the commit index. Returns LastIndex().
  LogIndex Append(const std::vector<Entry>& entries);

  // The index of the first entry of `entries` whose term differs from ours (or is beyond our
  // last index); 0 when all match.
  LogIndex FindConflict(const std::vector<Entry>& entries) const;
  // The largest index j <= index whose term is <= term (etcd findConflictByTerm), with its term.
  // Used by both sides of the fast back-off. Stops at FirstIndex()-1.
  std::pair<LogIndex, Term> FindConflictByTerm(LogIndex index, Term term) const;

  // Entries [lo, hi) with at most `bytes_max` of data beyond the first. kNotFound("compacted")
  // when lo < FirstIndex(). Precondition: hi <= LastIndex()+1.
  Result<std::vector<Entry>> Slice(LogIndex lo, LogIndex hi, uint64_t bytes_max) const;

  LogIndex committed() const { return committed_; }
  LogIndex applied() const { return applied_; }
  LogIndex applying() const { return applying_; }
  // Precondition: i <= LastIndex(). Never moves backwards.
  void CommitTo(LogIndex i);
  // Precondition: applied() <= i <= committed().
  void AppliedTo(LogIndex i);
  // Records that committed entries up to i were handed to the driver (not yet applied).
  void ApplyingTo(LogIndex i);
  // Used at restart: the driver's applied index. Precondition: within [snapshot, committed].
  void SetAppliedAtStart(LogIndex i);

  // Committed entries after applying() to hand out, at most `bytes_max` beyond the first.
  bool HasNextCommittedEntries() const;
  std::vector<Entry> NextCommittedEntries(uint64_t bytes_max) const;

  // The unstable tail the driver must persist and was not handed yet (entries after the ones
  // MarkInProgress recorded); and the restored snapshot it must record.
  std::vector<Entry> UnstableEntries() const;
  bool HasUnstableEntriesToWrite() const;
  // The driver took the unstable entries up to (i, t) to persist them later (StableTo when it
  // has); ignored when the entry at i has since been replaced (its term differs).
  void MarkInProgress(LogIndex i, Term t);
  // The entries in flight were not persisted after all: hand them out again.
  void ForgetInProgress() { in_progress_ = unstable_offset_.Prev(); }
  // Entries handed to the driver and not yet reported persisted (for tests and invariants).
  LogIndex InProgressIndex() const { return in_progress_; }
  const std::optional<SnapshotMetadata>& UnstableSnapshot() const { return unstable_snapshot_; }
  // The driver persisted entries up to (i, t); ignored when the unstable entry at i has since been
  // replaced (its term differs).
  void StableTo(LogIndex i, Term t);
  void StableSnapTo(LogIndex i);
  // The last index known durable in storage (entries below the unstable tail).
  LogIndex StableLastIndex() const;

  // Replaces the log by a snapshot (follower catching up): committed = applied = meta.index.
  void Restore(const SnapshotMetadata& meta);

  // Entries of the persisted tail, and its data bytes (for tests).
  size_t PersistedTailEntries() const { return persisted_tail_.size(); }
  uint64_t PersistedTailBytes() const { return persisted_tail_bytes_; }

 private:
  std::optional<Term> UnstableTerm(LogIndex i) const;
  // The last committed index that may be handed out to apply.
  LogIndex ApplyLimit() const;
  // Drops entries of the persisted tail that are applied, then the oldest while over the bound.
  void TrimPersistedTail();
  // Drops entries of the persisted tail at and after `from` (a suffix replaced in storage).
  void DropPersistedTailFrom(LogIndex from);

  const Storage* storage_;
  std::optional<SnapshotMetadata> unstable_snapshot_;
  std::vector<Entry> unstable_entries_;
  // Entries persisted in storage, contiguous and ending right below unstable_offset_ (empty when
  // not): what storage holds at those indexes, in memory.
  std::deque<Entry> persisted_tail_;
  uint64_t persisted_tail_bytes_ = 0;
  const uint64_t persisted_tail_bytes_max_;
  // Index of unstable_entries_[0] (or where it would be). Invariant: <= storage LastIndex()+1.
  LogIndex unstable_offset_;
  // The last unstable entry handed to the driver to persist (MarkInProgress); at least
  // unstable_offset_-1 (nothing in flight), at most LastIndex().
  LogIndex in_progress_;
  const bool apply_only_stable_;
  LogIndex committed_;  // invariant: applied_ <= applying_ <= committed_ <= LastIndex()
  LogIndex applying_;
  LogIndex applied_;
};

}  // namespace nds::raft
