// Wal::Open: replaying the segments (torn-tail and corruption rules) and reconciling the log with
// the newest snapshot. See wal.h for the crash cases and docs/formats/wal.md for the format.
#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "wal/record.h"
#include "wal/snapshot_store.h"
#include "wal/wal.h"
#include "wal/wal_internal.h"

namespace nds::wal {

using internal::CheckName;
using internal::FindNonZero;
using internal::kSpareSuffix;
using internal::kTmpSuffix;
using internal::ParseSegmentName;
using internal::SegmentName;

Result<std::unique_ptr<Wal>> Wal::Open(FileSystem* fs, const std::string& dir,
                                       const WalOptions& options) {
  if (options.segment_bytes < kSegmentBytesMin || options.segment_bytes > (uint64_t{1} << 40)) {
    return InvalidArgument(fmt::format("WAL segment size {} is outside [{}, 2^40]",
                                       options.segment_bytes, kSegmentBytesMin));
  }
  // Both new names (DIR in its parent, wal/ in DIR) must be durable before any segment is.
  NDS_RETURN_IF_ERROR(EnsureDir(fs, dir));
  NDS_RETURN_IF_ERROR(fs->SyncDir(DirName(dir)));
  std::unique_ptr<Wal> wal(new Wal(fs, dir, options));
  NDS_RETURN_IF_ERROR(EnsureDir(fs, wal->wal_dir_));
  NDS_RETURN_IF_ERROR(fs->SyncDir(dir));
  const std::string snap_dir = JoinPath(dir, kSnapshotDirName);
  NDS_ASSIGN_OR_RETURN(bool has_snap_dir, fs->Exists(snap_dir));
  // The log may be moved onto the newest snapshot below: its name must be durable first.
  if (has_snap_dir) NDS_RETURN_IF_ERROR(fs->SyncDir(snap_dir));
  NDS_ASSIGN_OR_RETURN(raft::SnapshotMetadata snapshot, NewestSnapshotMetadata(fs, snap_dir));
  NDS_RETURN_IF_ERROR(wal->Recover(snapshot));
  wal->CheckInvariants();
  return wal;
}

Status Wal::Recover(const raft::SnapshotMetadata& snapshot) {
  NDS_ASSIGN_OR_RETURN(std::vector<DirEntry> names, fs_->ListDir(wal_dir_));
  std::vector<uint64_t> seqs;
  for (const DirEntry& e : names) {
    if (e.name.ends_with(kTmpSuffix) || e.name.ends_with(kSpareSuffix)) {
      // A reserved segment, or one whose roll did not finish: it never held a record anyone was
      // told about. Removing it frees its space for the reserve made below.
      NDS_RETURN_IF_ERROR(fs_->Remove(JoinPath(wal_dir_, e.name)));
      continue;
    }
    std::optional<uint64_t> seq = ParseSegmentName(e.name);
    if (!seq.has_value() || e.is_dir) {
      spdlog::warn("{}: ignoring {}, not a WAL segment", wal_dir_, e.name);
      continue;
    }
    seqs.push_back(*seq);
  }
  // A previous process may have died after renaming a segment into place but before syncing the
  // directory, or after writing records but before syncing them: what it left is visible now but
  // not yet durable. Make it durable before anything is built on it (the last segment is synced
  // in ReplaySegment; sealed segments were synced before their successor was created).
  NDS_RETURN_IF_ERROR(fs_->SyncDir(wal_dir_));
  std::sort(seqs.begin(), seqs.end());
  for (size_t i = 1; i < seqs.size(); ++i) {
    if (seqs[i] != seqs[i - 1] + 1) {
      return Corruption(fmt::format("{}: segment {} is missing (found {} then {})", wal_dir_,
                                    SegmentName(seqs[i - 1] + 1), SegmentName(seqs[i - 1]),
                                    SegmentName(seqs[i])));
    }
  }
  ReplayState st;
  for (size_t i = 0; i < seqs.size(); ++i) {
    NDS_RETURN_IF_ERROR(ReplaySegment(seqs[i], i + 1 == seqs.size(), &st));
  }
  report_.segments = seqs.size();
  NDS_RETURN_IF_ERROR(Reconcile(snapshot, &st));
  {
    MutexLock lock(mu_);
    locs_ = std::move(st.locs);
    compacted_index_ = st.base_index;
    compacted_term_ = st.base_term;
    snapshot_ = snapshot;
    hard_state_ = st.hs;
  }
  if (seqs.empty()) NDS_RETURN_IF_ERROR(CreateFirstSegment());
  if (report_.torn_tail_cut) {
    spdlog::warn("{}: cut a torn record off the log tail at offset {} (a crash mid-write)",
                 report_.torn_tail_file, report_.torn_tail_offset);
  }
  if (report_.cleared_onto_snapshot) {
    // Finish the snapshot install a crash interrupted: later appends must replay after it.
    ClearBuffer();
    SnapshotMark mark{snapshot.index, snapshot.term, true};
    AppendRecord(&buffer_, RecordType::kSnapshotMark, EncodeSnapshotMark(mark));
    NDS_RETURN_IF_ERROR(FlushActive());
    active_->max_index = std::max(active_->max_index, snapshot.index);
  }
  // Without a spare the Wal still opens: SpaceLow() tells the node to refuse new proposals.
  Status reserve = RetryReserve();
  if (reserve.code() != StatusCode::kNoSpace) NDS_RETURN_IF_ERROR(reserve);
  return Status::Ok();
}

Status Wal::CreateFirstSegment() {
  Status s = ReserveSpares(1);
  if (s.code() == StatusCode::kNoSpace) {
    return NoSpace(fmt::format(
        "{}: cannot preallocate the first WAL segment of {} bytes ({}); free disk space or start "
        "with a smaller --wal-segment-bytes",
        wal_dir_, options_.segment_bytes, s.message()));
  }
  NDS_RETURN_IF_ERROR(s);
  std::shared_ptr<Segment> first = spares_.front();
  spares_.pop_front();
  NDS_RETURN_IF_ERROR(StartSegment(first));
  return PublishSegment(std::move(first));
}

Status Wal::ReplaySegment(uint64_t seq, bool last, ReplayState* st) {
  auto seg = std::make_shared<Segment>();
  seg->seq = seq;
  seg->path = JoinPath(wal_dir_, SegmentName(seq));
  NDS_ASSIGN_OR_RETURN(std::unique_ptr<File> file, fs_->Open(seg->path, OpenMode::kReadWrite));
  seg->file = std::move(file);
  NDS_ASSIGN_OR_RETURN(uint64_t size, seg->file->Size());
  // One buffer for every segment: segments share a size, so it is allocated (and faulted in) once.
  if (st->buffer.size() < size) st->buffer.resize(size);
  NDS_ASSIGN_OR_RETURN(size_t got, seg->file->ReadAt(0, size, st->buffer.data()));
  if (got != size) return IoError(fmt::format("{}: short read of {} bytes", seg->path, size));
  report_.bytes_scanned += size;
  std::string_view all(st->buffer.data(), size);
  uint64_t offset = 0;
  while (true) {
    ParsedRecord r = ParseRecord(all.substr(offset));
    if (r.check == RecordCheck::kOk) {
      if (offset == 0) {
        auto header_seq = DecodeSegmentHeader(r.payload);
        if (header_seq.status().code() == StatusCode::kFailedPrecondition) {
          return FailedPrecondition(
              fmt::format("{}: {}", seg->path, header_seq.status().message()));
        }
        if (r.type != RecordType::kSegmentHeader || !header_seq.ok() || *header_seq != seq) {
          return Corruption(
              fmt::format("{}: offset 0: no valid segment header{}", seg->path,
                          header_seq.ok() ? "" : " (" + header_seq.status().message() + ")"));
        }
      } else {
        NDS_RETURN_IF_ERROR(ApplyRecord(seg.get(), offset, r.type, r.payload, r.framed_bytes, st));
      }
      ++report_.records;
      offset += r.framed_bytes;
      continue;
    }
    if (offset == 0) {
      return Corruption(
          fmt::format("{}: offset 0: no valid segment header ({})", seg->path, CheckName(r.check)));
    }
    if (r.check == RecordCheck::kEndOfData) {
      size_t junk = FindNonZero(all, offset);
      if (junk != std::string_view::npos) {
        return Corruption(
            fmt::format("{}: offset {}: non-zero bytes after the end of the log at {}", seg->path,
                        junk, offset));
      }
      break;
    }
    // A damaged record. Only a torn write at the very tail of the last segment is expected: its
    // damage ends where the record ends (or at its header when the length cannot be trusted), and
    // nothing but never-written zeros may follow.
    uint64_t damage_end = r.framed_bytes != 0 ? std::min(size, offset + r.framed_bytes)
                                              : std::min(size, offset + kRecordHeaderBytes);
    if (r.check == RecordCheck::kTruncated) damage_end = size;
    if (!last || FindNonZero(all, damage_end) != std::string_view::npos) {
      return Corruption(fmt::format("{}: offset {}: {}{}", seg->path, offset, CheckName(r.check),
                                    last ? " followed by more data" : " in a sealed segment"));
    }
    report_.torn_tail_cut = true;
    report_.torn_tail_file = seg->path;
    report_.torn_tail_offset = offset;
    dirty_end_ = damage_end;
    break;
  }
  if (last) {
    NDS_RETURN_IF_ERROR(seg->file->Sync());
    // Written with a smaller --wal-segment-bytes: ReserveSpares() allocates the rest.
    active_short_ = size < options_.segment_bytes;
    active_ = seg;
    write_offset_ = offset;
    dirty_end_ = std::max(dirty_end_, offset);
  }
  MutexLock lock(mu_);
  segments_[seq] = std::move(seg);
  return Status::Ok();
}

Status Wal::ApplyRecord(Segment* seg, uint64_t offset, RecordType type, std::string_view payload,
                        uint64_t framed_bytes, ReplayState* st) {
  auto where = [&](std::string_view what) {
    return Corruption(fmt::format("{}: offset {}: {}", seg->path, offset, what));
  };
  switch (type) {
    case RecordType::kSegmentHeader:
      return where("a segment header after the start of the segment");
    case RecordType::kHardState: {
      auto hs = DecodeHardState(payload);
      if (!hs.ok()) return where(hs.status().message());
      st->hs = *hs;
      return Status::Ok();
    }
    case RecordType::kSnapshotMark: {
      auto mark = DecodeSnapshotMark(payload);
      if (!mark.ok()) return where(mark.status().message());
      seg->max_index = std::max(seg->max_index, mark->index);
      if (mark->cleared) {
        st->locs.clear();
        st->anchored = true;
        st->base_index = mark->index;
        st->base_term = mark->term;
        st->base_term_known = true;
        return Status::Ok();
      }
      LogIndex last(st->base_index.value + st->locs.size());
      if (st->anchored && mark->index > st->base_index && mark->index <= last &&
          st->locs[mark->index.value - st->base_index.value - 1].term != mark->term) {
        return where(fmt::format("snapshot mark ({}, {}) disagrees with the log's term there",
                                 mark->index, mark->term));
      }
      return Status::Ok();
    }
    case RecordType::kEntry:
      break;
  }
  auto e = DecodeEntryHeader(payload);
  if (!e.ok()) return where(e.status().message());
  if (!st->anchored) {
    st->anchored = true;
    st->base_index = e->index.Prev();
    st->base_term_known = false;
    if (e->index.value == 0) return where("entry index 0");
  }
  LogIndex last(st->base_index.value + st->locs.size());
  if (e->index > last.Next()) {
    return where(fmt::format("entry {} leaves a gap after entry {}", e->index, last));
  }
  if (e->index <= st->base_index) {
    return where(fmt::format("entry {} rewrites the log at or below its start {}", e->index,
                             st->base_index.Next()));
  }
  st->locs.resize(e->index.value - st->base_index.value - 1);
  Term prev = !st->locs.empty()     ? st->locs.back().term
              : st->base_term_known ? st->base_term
                                    : Term(0);
  if (e->term < prev) {
    return where(
        fmt::format("entry {} has term {}, below the term {} before it", e->index, e->term, prev));
  }
  st->locs.push_back({e->term, seg->seq, offset, static_cast<uint32_t>(framed_bytes)});
  seg->max_index = std::max(seg->max_index, e->index);
  return Status::Ok();
}

Status Wal::Reconcile(const raft::SnapshotMetadata& snap, ReplayState* st) {
  if (!st->anchored) {
    st->base_index = LogIndex(0);
    st->base_term = Term(0);
    st->base_term_known = true;
  }
  auto gap = [&] {
    return Corruption(fmt::format(
        "{}: the log starts after index {} but the newest valid snapshot in {} covers only up "
        "to {}",
        wal_dir_, st->base_index, JoinPath(dir_, kSnapshotDirName), snap.index));
  };
  if (!st->base_term_known) {
    if (st->base_index == snap.index) {
      st->base_term = snap.term;
    } else if (st->base_index < snap.index) {
      // The term of the entry before the first one on disk is unknown: start one entry later.
      st->base_index = st->base_index.Next();
      st->base_term = st->locs.front().term;
      st->locs.pop_front();
    } else {
      return gap();
    }
    st->base_term_known = true;
  } else if (st->base_index > snap.index) {
    return gap();
  } else if (st->base_index == snap.index && st->base_term != snap.term) {
    return Corruption(
        fmt::format("{}: the log is based on entry {} of term {}, the snapshot on "
                    "term {}",
                    wal_dir_, snap.index, st->base_term, snap.term));
  }
  LogIndex last(st->base_index.value + st->locs.size());
  if (snap.index > st->base_index) {
    bool holds = snap.index <= last &&
                 st->locs[snap.index.value - st->base_index.value - 1].term == snap.term;
    if (!holds) {
      st->locs.clear();
      st->base_index = snap.index;
      st->base_term = snap.term;
      last = snap.index;
      report_.cleared_onto_snapshot = true;
    }
  }
  if (st->hs.commit > std::max(last, snap.index)) {
    return Corruption(
        fmt::format("{}: the hard state's commit index {} is beyond the last entry "
                    "{} of the log",
                    wal_dir_, st->hs.commit, last));
  }
  return Status::Ok();
}

}  // namespace nds::wal
