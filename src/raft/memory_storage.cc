// MemoryStorage implementation: a vector of entries after a dummy entry at the snapshot index.
#include "raft/memory_storage.h"

#include <fmt/format.h>

namespace nds::raft {

MemoryStorage::MemoryStorage() { entries_.push_back(Entry{}); }

Result<HardState> MemoryStorage::InitialHardState() const { return hard_state_; }
Result<ConfState> MemoryStorage::InitialConfState() const { return snapshot_.conf_state; }

LogIndex MemoryStorage::FirstIndex() const { return snapshot_.index.Next(); }
LogIndex MemoryStorage::LastIndex() const {
  return LogIndex(snapshot_.index.value + entries_.size() - 1);
}
SnapshotMetadata MemoryStorage::SnapshotMeta() const { return snapshot_; }

Result<std::vector<Entry>> MemoryStorage::Entries(LogIndex lo, LogIndex hi,
                                                  uint64_t bytes_max) const {
  if (lo < FirstIndex()) return NotFound("compacted");
  if (hi > LastIndex().Next() || lo > hi) {
    return InvalidArgument(
        fmt::format("entries [{}, {}) beyond last index {}", lo, hi, LastIndex()));
  }
  std::vector<Entry> out;
  uint64_t bytes = 0;
  for (LogIndex i = lo; i < hi; i = i.Next()) {
    const Entry& e = entries_[i.value - snapshot_.index.value];
    if (!out.empty() && bytes + e.data.size() > bytes_max) break;
    bytes += e.data.size();
    out.push_back(e);
  }
  return out;
}

Result<Term> MemoryStorage::TermAt(LogIndex i) const {
  if (i < snapshot_.index) return NotFound("compacted");
  if (i > LastIndex()) return InvalidArgument(fmt::format("term of {} > last {}", i, LastIndex()));
  if (i == snapshot_.index) return snapshot_.term;
  return entries_[i.value - snapshot_.index.value].term;
}

Status MemoryStorage::Append(const std::vector<Entry>& entries) {
  if (entries.empty()) return Status::Ok();
  for (size_t k = 1; k < entries.size(); ++k) {
    if (entries[k].index != entries[k - 1].index.Next()) {
      return InvalidArgument("append: entries not contiguous");
    }
  }
  if (entries.front().index > LastIndex().Next()) {
    return InvalidArgument(
        fmt::format("append at {} leaves a gap after {}", entries.front().index, LastIndex()));
  }
  for (const Entry& e : entries) {
    if (e.index <= snapshot_.index) continue;
    size_t pos = e.index.value - snapshot_.index.value;
    entries_.resize(pos);  // truncate any conflicting suffix (no-op when appending at the end)
    entries_.push_back(e);
  }
  return Status::Ok();
}

Status MemoryStorage::ApplySnapshot(const SnapshotMetadata& meta) {
  if (meta.index < snapshot_.index) {
    return InvalidArgument(
        fmt::format("snapshot at {} older than current {}", meta.index, snapshot_.index));
  }
  snapshot_ = meta;
  entries_.clear();
  entries_.push_back(Entry{meta.term, meta.index, EntryType::kNormal, {}});
  return Status::Ok();
}

Status MemoryStorage::CreateSnapshotAndCompact(LogIndex index, const ConfState& conf_state) {
  NDS_RETURN_IF_ERROR(Compact(index));
  snapshot_.conf_state = conf_state;
  return Status::Ok();
}

Status MemoryStorage::Compact(LogIndex index) {
  if (index < snapshot_.index || index > LastIndex()) {
    return InvalidArgument(
        fmt::format("compact to {} outside [{}, {}]", index, snapshot_.index, LastIndex()));
  }
  size_t pos = index.value - snapshot_.index.value;
  Term t = entries_[pos].term;
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(pos));
  entries_[0].data = SharedBytes();
  snapshot_.index = index;
  snapshot_.term = t;
  return Status::Ok();
}

}  // namespace nds::raft
