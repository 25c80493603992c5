// RaftLog: stable entries read through Storage, unstable tail kept in memory.
#include "raft/log.h"

#include <algorithm>

#include <fmt/format.h>

#include "util/check.h"

namespace nds::raft {

namespace {

bool IsCompacted(const Status& s) { return s.code() == StatusCode::kNotFound; }

}  // namespace

RaftLog::RaftLog(const Storage* storage, uint64_t persisted_tail_bytes, bool apply_only_stable)
    : storage_(storage),
      persisted_tail_bytes_max_(persisted_tail_bytes),
      apply_only_stable_(apply_only_stable) {
  NDS_CHECK(storage_ != nullptr);
  unstable_offset_ = storage_->LastIndex().Next();
  in_progress_ = unstable_offset_.Prev();
  committed_ = storage_->FirstIndex().Prev();
  applying_ = committed_;
  applied_ = committed_;
}

LogIndex RaftLog::FirstIndex() const {
  if (unstable_snapshot_) return unstable_snapshot_->index.Next();
  return storage_->FirstIndex();
}

LogIndex RaftLog::LastIndex() const {
  if (!unstable_entries_.empty()) return unstable_entries_.back().index;
  if (unstable_snapshot_) return unstable_snapshot_->index;
  return storage_->LastIndex();
}

Term RaftLog::LastTerm() const {
  Result<Term> t = TermAt(LastIndex());
  NDS_CHECK(t.ok(), "term of last index {}: {}", LastIndex(), t.status().ToString());
  return *t;
}

std::optional<Term> RaftLog::UnstableTerm(LogIndex i) const {
  if (i < unstable_offset_) {
    if (unstable_snapshot_ && unstable_snapshot_->index == i) return unstable_snapshot_->term;
    return std::nullopt;
  }
  if (unstable_entries_.empty() || i > unstable_entries_.back().index) return std::nullopt;
  return unstable_entries_[i.value - unstable_offset_.value].term;
}

Result<Term> RaftLog::TermAt(LogIndex i) const {
  const LogIndex dummy = FirstIndex().Prev();
  if (i < dummy) return NotFound("compacted");
  if (i > LastIndex()) return Term(0);
  if (std::optional<Term> t = UnstableTerm(i)) return *t;
  Result<Term> t = storage_->TermAt(i);
  if (t.ok() || IsCompacted(t.status())) return t;
  NDS_CHECK(false, "storage TermAt({}): {}", i, t.status().ToString());
  return t;
}

Term RaftLog::TermOrZero(LogIndex i) const {
  Result<Term> t = TermAt(i);
  return t.ok() ? *t : Term(0);
}

bool RaftLog::MatchTerm(LogIndex i, Term t) const {
  Result<Term> got = TermAt(i);
  return got.ok() && *got == t && i <= LastIndex();
}

bool RaftLog::IsUpToDate(LogIndex last_index, Term last_term) const {
  const Term ours = LastTerm();
  return last_term > ours || (last_term == ours && last_index >= LastIndex());
}

Result<std::optional<LogIndex>> RaftLog::MaybeAppend(LogIndex index, Term log_term, LogIndex commit,
                                                     const std::vector<Entry>& entries) {
  if (!MatchTerm(index, log_term)) return std::optional<LogIndex>();
  for (size_t k = 0; k < entries.size(); ++k) {
    if (entries[k].index.value != index.value + 1 + k) {
      return Corruption(
          fmt::format("append after {}: entry {} has index {}", index, k, entries[k].index));
    }
  }
  const LogIndex last_new(index.value + entries.size());
  const LogIndex conflict = FindConflict(entries);
  if (conflict.value != 0) {
    if (conflict <= committed_) {
      return Corruption(
          fmt::format("append conflicts at {} at or below commit index {}", conflict, committed_));
    }
    std::vector<Entry> tail(
        entries.begin() + static_cast<std::ptrdiff_t>(conflict.value - index.value - 1),
        entries.end());
    Append(tail);
  }
  CommitTo(std::min(commit, last_new));
  return std::optional<LogIndex>(last_new);
}

LogIndex RaftLog::Append(const std::vector<Entry>& entries) {
  if (entries.empty()) return LastIndex();
  const LogIndex after = entries.front().index;
  NDS_CHECK(after > committed_, "append at {} <= commit {}", after, committed_);
  NDS_CHECK(after <= LastIndex().Next(), "append at {} leaves a gap after {}", after, LastIndex());
  if (after.value == unstable_offset_.value + unstable_entries_.size()) {
    unstable_entries_.insert(unstable_entries_.end(), entries.begin(), entries.end());
  } else if (after <= unstable_offset_) {
    // Replaces everything from `after`, including entries already in storage: the driver's
    // Append truncates the stable suffix.
    DropPersistedTailFrom(after);
    unstable_offset_ = after;
    unstable_entries_ = entries;
  } else {
    unstable_entries_.resize(after.value - unstable_offset_.value);
    unstable_entries_.insert(unstable_entries_.end(), entries.begin(), entries.end());
  }
  // Entries in flight from `after` on were replaced: the new ones are handed out again. (A write
  // of the old ones still completing is ignored by StableTo: their terms differ.)
  in_progress_ = std::min(in_progress_, after.Prev());
  return LastIndex();
}

LogIndex RaftLog::FindConflict(const std::vector<Entry>& entries) const {
  for (const Entry& e : entries) {
    if (!MatchTerm(e.index, e.term)) return e.index;
  }
  return LogIndex(0);
}

std::pair<LogIndex, Term> RaftLog::FindConflictByTerm(LogIndex index, Term term) const {
  if (index > LastIndex()) index = LastIndex();
  for (;;) {
    Result<Term> t = TermAt(index);
    if (!t.ok()) return {index, Term(0)};  // compacted: the leader will fall back to a snapshot
    if (*t <= term || index.value == 0) return {index, *t};
    index = index.Prev();
  }
}

Result<std::vector<Entry>> RaftLog::Slice(LogIndex lo, LogIndex hi, uint64_t bytes_max) const {
  if (lo < FirstIndex()) return NotFound("compacted");
  NDS_CHECK(hi <= LastIndex().Next(), "slice [{}, {}) beyond last {}", lo, hi, LastIndex());
  std::vector<Entry> out;
  if (lo >= hi) return out;
  uint64_t bytes = 0;
  if (lo < unstable_offset_) {
    const LogIndex stable_hi = std::min(hi, unstable_offset_);
    // The persisted tail in memory always ends right below unstable_offset_: storage is read
    // only below it.
    const LogIndex tail_lo =
        persisted_tail_.empty() ? unstable_offset_ : persisted_tail_.front().index;
    if (lo < tail_lo) {
      const LogIndex storage_hi = std::min(stable_hi, tail_lo);
      Result<std::vector<Entry>> stored = storage_->Entries(lo, storage_hi, bytes_max);
      if (!stored.ok()) {
        if (IsCompacted(stored.status())) return stored.status();
        NDS_CHECK(false, "storage Entries [{}, {}): {}", lo, storage_hi,
                  stored.status().ToString());
      }
      out = std::move(stored).value();
      for (const Entry& e : out) bytes += e.data.size();
      // Stop when storage gave fewer than asked (the byte limit was reached).
      if (out.size() < storage_hi.value - lo.value) return out;
      lo = storage_hi;
    }
    for (; lo < stable_hi; lo = lo.Next()) {
      const Entry& e = persisted_tail_[lo.value - tail_lo.value];
      if (!out.empty() && bytes + e.data.size() > bytes_max) return out;
      bytes += e.data.size();
      out.push_back(e);
    }
  }
  for (LogIndex i = std::max(lo, unstable_offset_); i < hi; i = i.Next()) {
    const Entry& e = unstable_entries_[i.value - unstable_offset_.value];
    if (!out.empty() && bytes + e.data.size() > bytes_max) break;
    bytes += e.data.size();
    out.push_back(e);
  }
  return out;
}

void RaftLog::CommitTo(LogIndex i) {
  if (i <= committed_) return;
  NDS_CHECK(i <= LastIndex(), "commit {} beyond last index {}", i, LastIndex());
  committed_ = i;
}

void RaftLog::AppliedTo(LogIndex i) {
  NDS_CHECK(i >= applied_, "applied {} moves back from {}", i, applied_);
  NDS_CHECK(i <= committed_, "applied {} beyond commit {}", i, committed_);
  applied_ = i;
  if (applying_ < i) applying_ = i;
  TrimPersistedTail();
}

void RaftLog::ApplyingTo(LogIndex i) {
  NDS_CHECK(i <= committed_);
  if (i > applying_) applying_ = i;
}

void RaftLog::SetAppliedAtStart(LogIndex i) {
  applied_ = i;
  applying_ = i;
}

LogIndex RaftLog::ApplyLimit() const {
  return apply_only_stable_ ? std::min(committed_, StableLastIndex()) : committed_;
}

bool RaftLog::HasNextCommittedEntries() const {
  return std::max(applying_.Next(), FirstIndex()) <= ApplyLimit();
}

std::vector<Entry> RaftLog::NextCommittedEntries(uint64_t bytes_max) const {
  const LogIndex lo = std::max(applying_.Next(), FirstIndex());
  const LogIndex hi = ApplyLimit();
  if (lo > hi) return {};
  Result<std::vector<Entry>> out = Slice(lo, hi.Next(), bytes_max);
  NDS_CHECK(out.ok(), "committed entries [{}, {}]: {}", lo, hi, out.status().ToString());
  return std::move(out).value();
}

std::vector<Entry> RaftLog::UnstableEntries() const {
  if (!HasUnstableEntriesToWrite()) return {};
  return std::vector<Entry>(
      unstable_entries_.begin() +
          static_cast<std::ptrdiff_t>(in_progress_.value + 1 - unstable_offset_.value),
      unstable_entries_.end());
}

bool RaftLog::HasUnstableEntriesToWrite() const {
  return !unstable_entries_.empty() && in_progress_ < unstable_entries_.back().index;
}

void RaftLog::MarkInProgress(LogIndex i, Term t) {
  std::optional<Term> got = UnstableTerm(i);
  if (!got || *got != t) return;
  in_progress_ = std::max(in_progress_, i);
}

void RaftLog::StableTo(LogIndex i, Term t) {
  std::optional<Term> got = UnstableTerm(i);
  if (!got || *got != t || i < unstable_offset_) return;
  const auto end =
      unstable_entries_.begin() + static_cast<std::ptrdiff_t>(i.value - unstable_offset_.value + 1);
  if (persisted_tail_bytes_max_ > 0) {
    for (auto it = unstable_entries_.begin(); it != end; ++it) {
      persisted_tail_bytes_ += it->data.size();
      persisted_tail_.push_back(std::move(*it));
    }
  }
  unstable_entries_.erase(unstable_entries_.begin(), end);
  unstable_offset_ = i.Next();
  in_progress_ = std::max(in_progress_, i);
  TrimPersistedTail();
}

void RaftLog::TrimPersistedTail() {
  while (!persisted_tail_.empty() && (persisted_tail_.front().index <= applied_ ||
                                      persisted_tail_bytes_ > persisted_tail_bytes_max_)) {
    persisted_tail_bytes_ -= persisted_tail_.front().data.size();
    persisted_tail_.pop_front();
  }
  NDS_CHECK(persisted_tail_.empty() || persisted_tail_.back().index.Next() == unstable_offset_,
            "persisted tail ends at {}, unstable entries start at {}", persisted_tail_.back().index,
            unstable_offset_);
}

void RaftLog::DropPersistedTailFrom(LogIndex from) {
  while (!persisted_tail_.empty() && persisted_tail_.back().index >= from) {
    persisted_tail_bytes_ -= persisted_tail_.back().data.size();
    persisted_tail_.pop_back();
  }
}

void RaftLog::StableSnapTo(LogIndex i) {
  if (unstable_snapshot_ && unstable_snapshot_->index == i) unstable_snapshot_.reset();
}

LogIndex RaftLog::StableLastIndex() const {
  if (unstable_snapshot_) return LogIndex(0);
  return unstable_offset_.Prev();
}

void RaftLog::Restore(const SnapshotMetadata& meta) {
  NDS_CHECK(meta.index > committed_, "restore to {} at or below commit {}", meta.index, committed_);
  unstable_snapshot_ = meta;
  unstable_entries_.clear();
  persisted_tail_.clear();
  persisted_tail_bytes_ = 0;
  unstable_offset_ = meta.index.Next();
  in_progress_ = meta.index;
  committed_ = meta.index;
  applying_ = meta.index;
  applied_ = meta.index;
}

}  // namespace nds::raft
