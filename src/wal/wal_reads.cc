// The Wal's raft::Storage reads: the hard and configuration state found at open, terms, the index
// range, and entries read back from the segment files by their recorded locations. Writes are in
// wal.cc. See docs/formats/wal.md.
#include <algorithm>
#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "wal/record.h"
#include "wal/wal.h"
#include "wal/wal_internal.h"

namespace nds::wal {

using internal::CheckName;
using internal::DataBytes;
using internal::kSpareSuffix;
using internal::SegmentName;

Result<raft::HardState> Wal::InitialHardState() const {
  MutexLock lock(mu_);
  NDS_RETURN_IF_ERROR(failed_);
  return hard_state_;
}

Result<raft::ConfState> Wal::InitialConfState() const {
  MutexLock lock(mu_);
  NDS_RETURN_IF_ERROR(failed_);
  return snapshot_.conf_state;
}

Result<Term> Wal::TermAt(LogIndex i) const {
  MutexLock lock(mu_);
  NDS_RETURN_IF_ERROR(failed_);
  if (i < compacted_index_) return NotFound("compacted");
  if (i == compacted_index_) return compacted_term_;
  LogIndex last(compacted_index_.value + locs_.size());
  if (i > last) return InvalidArgument(fmt::format("term of {} > last {}", i, last));
  return locs_[i.value - compacted_index_.value - 1].term;
}

LogIndex Wal::FirstIndex() const {
  MutexLock lock(mu_);
  return compacted_index_.Next();
}

LogIndex Wal::LastIndex() const {
  MutexLock lock(mu_);
  return LogIndex(compacted_index_.value + locs_.size());
}

raft::SnapshotMetadata Wal::SnapshotMeta() const {
  MutexLock lock(mu_);
  return snapshot_;
}

size_t Wal::segment_count() const {
  MutexLock lock(mu_);
  return segments_.size();
}

Result<std::vector<raft::Entry>> Wal::Entries(LogIndex lo, LogIndex hi, uint64_t bytes_max) const {
  std::vector<EntryLoc> locs;
  std::vector<std::shared_ptr<Segment>> segs;
  {
    MutexLock lock(mu_);
    NDS_RETURN_IF_ERROR(failed_);
    if (lo <= compacted_index_) return NotFound("compacted");
    LogIndex last(compacted_index_.value + locs_.size());
    if (hi > last.Next() || lo > hi) {
      return InvalidArgument(fmt::format("entries [{}, {}) beyond last index {}", lo, hi, last));
    }
    uint64_t bytes = 0;
    for (LogIndex i = lo; i < hi; i = i.Next()) {
      const EntryLoc& loc = locs_[i.value - compacted_index_.value - 1];
      uint64_t data = DataBytes(loc.framed_bytes, i, loc.term);
      if (!locs.empty() && bytes + data > bytes_max) break;
      bytes += data;
      locs.push_back(loc);
      if (segs.empty() || segs.back()->seq != loc.seq) segs.push_back(segments_.at(loc.seq));
    }
  }
  return ReadLocs(locs, segs, lo, bytes_max);
}

Result<std::vector<raft::Entry>> Wal::ReadLocs(const std::vector<EntryLoc>& locs,
                                               const std::vector<std::shared_ptr<Segment>>& segs,
                                               LogIndex lo, uint64_t /*bytes_max*/) const {
  std::vector<raft::Entry> out;
  out.reserve(locs.size());
  std::string buf;
  size_t seg_i = 0;
  size_t i = 0;
  while (i < locs.size()) {
    while (segs[seg_i]->seq != locs[i].seq) ++seg_i;
    const Segment& seg = *segs[seg_i];
    // One read for the run of records that lie back to back in this segment.
    size_t j = i + 1;
    while (j < locs.size() && locs[j].seq == locs[i].seq &&
           locs[j].offset == locs[j - 1].offset + locs[j - 1].framed_bytes) {
      ++j;
    }
    uint64_t start = locs[i].offset;
    uint64_t len = locs[j - 1].offset + locs[j - 1].framed_bytes - start;
    buf.resize(len);
    NDS_ASSIGN_OR_RETURN(size_t got, seg.file->ReadAt(start, len, buf.data()));
    if (got != len) {
      return Corruption(fmt::format("{}: offset {}: log record cut short", seg.path, start));
    }
    for (size_t k = i; k < j; ++k) {
      uint64_t rel = locs[k].offset - start;
      LogIndex want(lo.value + k);
      auto bad = [&](std::string_view what) {
        return Corruption(
            fmt::format("{}: offset {}: entry {}: {}", seg.path, locs[k].offset, want, what));
      };
      ParsedRecord r = ParseRecord(std::string_view(buf).substr(rel, locs[k].framed_bytes));
      if (r.check != RecordCheck::kOk) return bad(CheckName(r.check));
      if (r.type != RecordType::kEntry) return bad("not an entry record");
      auto e = DecodeEntry(r.payload);
      if (!e.ok()) return bad(e.status().message());
      if (e->index != want || e->term != locs[k].term) {
        return bad(fmt::format("found entry {} of term {}, expected term {}", e->index, e->term,
                               locs[k].term));
      }
      out.push_back(std::move(*e));
    }
    i = j;
  }
  return out;
}
}  // namespace nds::wal
