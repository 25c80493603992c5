// The durable Raft log: the group-commit write path, snapshot marks, compaction and the checks of
// its invariants. Segment spares and rolls are in wal_segments.cc, the raft::Storage reads in
// wal_reads.cc, Open and replay in wal_recovery.cc. See wal.h for the crash cases and
// docs/formats/wal.md for the format.
#include "wal/wal.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "util/hex.h"
#include "wal/record.h"
#include "wal/wal_internal.h"

namespace nds::wal {

using internal::CheckName;
using internal::DataBytes;
using internal::kSpareSuffix;
using internal::SegmentName;

namespace internal {

std::string SegmentName(uint64_t seq) { return fmt::format("{:016x}{}", seq, kSegmentSuffix); }

std::optional<uint64_t> ParseSegmentName(std::string_view name) {
  if (name.size() != kSegmentNameDigits + kSegmentSuffix.size()) return std::nullopt;
  if (name.substr(kSegmentNameDigits) != kSegmentSuffix) return std::nullopt;
  return ParseLowerHex(name.substr(0, kSegmentNameDigits));
}

// The offset of the first non-zero byte of `buf` at or after `from`, or npos.
size_t FindNonZero(std::string_view buf, size_t from) {
  size_t i = from;
  // Eight bytes at a time over the (usually long) zero tail of a preallocated segment.
  for (; i + 8 <= buf.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, buf.data() + i, 8);
    if (word != 0) break;
  }
  for (; i < buf.size(); ++i) {
    if (buf[i] != '\0') return i;
  }
  return std::string_view::npos;
}

// Bytes of entry data in a record of `framed_bytes` holding entry (index, term).
uint64_t DataBytes(uint32_t framed_bytes, LogIndex index, Term term) {
  raft::Entry shell{term, index, raft::EntryType::kNormal, {}};
  return framed_bytes - FramedBytes(EncodedEntryBytes(shell));
}

std::string_view CheckName(RecordCheck c) {
  switch (c) {
    case RecordCheck::kOk:
      return "ok";
    case RecordCheck::kEndOfData:
      return "end of data";
    case RecordCheck::kTruncated:
      return "truncated record";
    case RecordCheck::kBadHeader:
      return "bad record header";
    case RecordCheck::kBadPayload:
      return "record payload CRC mismatch";
  }
  return "unknown";
}

}  // namespace internal

Wal::Wal(FileSystem* fs, std::string dir, const WalOptions& options)
    : fs_(fs), dir_(std::move(dir)), wal_dir_(JoinPath(dir_, "wal")), options_(options) {}

Wal::~Wal() = default;

Status Wal::FlushActive() {
  uint64_t end = write_offset_ + BufferedBytes();
  if (BufferedBytes() == 0 && dirty_end_ <= write_offset_) return Status::Ok();
  size_t pad = dirty_end_ > end ? dirty_end_ - end : 0;
  buffer_.append(pad, '\0');
  Status s;
  if (spliced_.empty()) {
    s = active_->file->WriteAt(write_offset_, buffer_);
  } else {
    std::vector<std::string_view> pieces;
    pieces.reserve(2 * spliced_.size() + 1);
    std::string_view own = buffer_;
    size_t from = 0;
    for (const Spliced& sp : spliced_) {
      pieces.push_back(own.substr(from, sp.after - from));
      pieces.push_back(sp.data);
      from = sp.after;
    }
    pieces.push_back(own.substr(from));
    s = active_->file->WriteAtGather(write_offset_, pieces);
  }
  if (!s.ok()) {
    dirty_end_ = std::max(dirty_end_, write_offset_ + BufferedBytes());
    ClearBuffer();
    s = Fail(s);
    if (s.code() == StatusCode::kNoSpace) ScrubFailedWrite();
    return s;
  }
  if (Status sync = active_->file->Sync(); !sync.ok()) return FailHard(sync);
  write_offset_ = end;
  dirty_end_ = end;
  ClearBuffer();
  return Status::Ok();
}

void Wal::ClearBuffer() {
  if (buffer_.capacity() > kBufferKeepBytes) {
    std::string().swap(buffer_);
  } else {
    buffer_.clear();
  }
  spliced_.clear();
  spliced_bytes_ = 0;
}

void Wal::ScrubFailedWrite() {
  // A failed pwrite may have written part of its records. Zero them now, over bytes that exist
  // (so no new block is needed), and sync: recovery then never sees a partial record, even
  // after a crash before the next write. If this fails too, the next write zeroes them.
  auto size = active_->file->Size();
  if (!size.ok()) return;
  uint64_t end = std::min(dirty_end_, *size);
  if (end > write_offset_) {
    if (!active_->file->WriteAt(write_offset_, std::string(end - write_offset_, '\0')).ok()) {
      return;
    }
    if (Status sync = active_->file->Sync(); !sync.ok()) {
      IgnoreError(FailHard(sync), "the Wal is unusable; the next call reports it");
      return;
    }
  }
  dirty_end_ = write_offset_;
}

Status Wal::Fail(Status s) {
  // Clean only while this Save has sealed no segment: afterwards part of the batch is durable in
  // a sealed segment, and memory and disk could disagree about the log's tail.
  if (s.code() == StatusCode::kNoSpace && !rolled_in_save_) {
    space_low_ = true;
    return s;
  }
  return FailHard(s);
}

Status Wal::FailHard(const Status& s) {
  MutexLock lock(mu_);
  if (failed_.ok()) {
    failed_ = IoError(fmt::format("WAL unusable after: {}", s.ToString()));
    spdlog::error("{}: {}", wal_dir_, failed_.message());
  }
  return failed_;
}

Status Wal::CheckUsable() const {
  MutexLock lock(mu_);
  return failed_;
}

Status Wal::ValidateEntries(const std::vector<raft::Entry>& entries) const {
  if (entries.empty()) return Status::Ok();
  MutexLock lock(mu_);
  LogIndex first = entries.front().index;
  LogIndex last(compacted_index_.value + locs_.size());
  if (first <= compacted_index_ || first > last.Next()) {
    return InvalidArgument(fmt::format("entries start at {}, outside [{}, {}]", first,
                                       compacted_index_.Next(), last.Next()));
  }
  Term prev = first.Prev() == compacted_index_
                  ? compacted_term_
                  : locs_[first.value - compacted_index_.value - 2].term;
  uint64_t head = 0;
  {
    std::string h;
    AppendRecord(&h, RecordType::kSegmentHeader, EncodeSegmentHeader(0));
    AppendRecord(
        &h, RecordType::kHardState,
        EncodeHardState({Term(UINT64_MAX / 2), NodeId(UINT64_MAX / 2), LogIndex(UINT64_MAX / 2)}));
    head = h.size();
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    const raft::Entry& e = entries[i];
    if (e.index.value != first.value + i) {
      return InvalidArgument(fmt::format("entry {} of the batch has index {}, expected {}", i,
                                         e.index, first.value + i));
    }
    if (e.term < prev) {
      return InvalidArgument(
          fmt::format("entry {} has term {}, below the term {} before it", e.index, e.term, prev));
    }
    prev = e.term;
    uint64_t framed = FramedBytes(EncodedEntryBytes(e));
    if (head + framed > options_.segment_bytes || framed > kRecordPayloadBytesMax) {
      return InvalidArgument(fmt::format("entry {} of {} bytes does not fit in a WAL segment of {}",
                                         e.index, e.data.size(), options_.segment_bytes));
    }
  }
  return Status::Ok();
}

Status Wal::Save(const raft::HardState& hs, const std::vector<raft::Entry>& entries) {
  NDS_RETURN_IF_ERROR(CheckUsable());
  NDS_RETURN_IF_ERROR(ValidateEntries(entries));
  bool write_hs;
  {
    MutexLock lock(mu_);
    write_hs = !hs.IsEmpty() && hs != hard_state_;
    LogIndex last =
        entries.empty() ? LogIndex(compacted_index_.value + locs_.size()) : entries.back().index;
    if (write_hs && hs.commit > last) {
      return InvalidArgument(
          fmt::format("hard state commit index {} beyond the last entry {}", hs.commit, last));
    }
  }
  if (entries.empty() && !write_hs) return Status::Ok();
  std::vector<uint64_t> framed_bytes;
  framed_bytes.reserve(entries.size() + 1);
  for (const raft::Entry& e : entries) framed_bytes.push_back(FramedBytes(EncodedEntryBytes(e)));
  std::string hs_payload = write_hs ? EncodeHardState(hs) : std::string();
  if (write_hs) framed_bytes.push_back(FramedBytes(hs_payload.size()));
  // Every segment this Save rolls into is preallocated before anything is written, so a full
  // disk fails it here, cleanly, however many segments it spans.
  rolled_in_save_ = false;
  NDS_RETURN_IF_ERROR(ReserveForRecords(framed_bytes));
  ClearBuffer();
  std::vector<EntryLoc> new_locs;
  new_locs.reserve(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    const raft::Entry& e = entries[i];
    uint64_t framed = framed_bytes[i];
    NDS_RETURN_IF_ERROR(MakeRoom(framed));
    new_locs.push_back(
        {e.term, active_->seq, write_offset_ + BufferedBytes(), static_cast<uint32_t>(framed)});
    if (e.data.size() < kSpliceBytesMin) {
      AppendEntryRecord(&buffer_, e);
    } else {
      AppendEntryRecordHead(&buffer_, e);
      spliced_.push_back({buffer_.size(), e.data.view()});
      spliced_bytes_ += e.data.size();
    }
    active_->max_index = std::max(active_->max_index, e.index);
  }
  if (write_hs) {
    NDS_RETURN_IF_ERROR(MakeRoom(framed_bytes.back()));
    AppendRecord(&buffer_, RecordType::kHardState, hs_payload);
  }
  NDS_RETURN_IF_ERROR(FlushActive());
  {
    MutexLock lock(mu_);
    if (!entries.empty()) {
      locs_.resize(entries.front().index.value - compacted_index_.value - 1);
      locs_.insert(locs_.end(), new_locs.begin(), new_locs.end());
    }
    if (write_hs) hard_state_ = hs;
  }
  KeepReserve();
  return Status::Ok();
}

Status Wal::ApplySnapshot(const raft::SnapshotMetadata& meta) {
  NDS_RETURN_IF_ERROR(CheckUsable());
  bool keep;
  {
    MutexLock lock(mu_);
    if (meta.index < snapshot_.index) {
      return InvalidArgument(fmt::format("snapshot at {} is older than the current one at {}",
                                         meta.index, snapshot_.index));
    }
    LogIndex last(compacted_index_.value + locs_.size());
    if (meta.index == compacted_index_) {
      keep = meta.term == compacted_term_;
    } else {
      keep = meta.index > compacted_index_ && meta.index <= last &&
             locs_[meta.index.value - compacted_index_.value - 1].term == meta.term;
    }
  }
  std::string payload = EncodeSnapshotMark({meta.index, meta.term, !keep});
  rolled_in_save_ = false;
  NDS_RETURN_IF_ERROR(ReserveForRecords({FramedBytes(payload.size())}));
  ClearBuffer();
  NDS_RETURN_IF_ERROR(MakeRoom(FramedBytes(payload.size())));
  AppendRecord(&buffer_, RecordType::kSnapshotMark, payload);
  active_->max_index = std::max(active_->max_index, meta.index);
  NDS_RETURN_IF_ERROR(FlushActive());
  {
    MutexLock lock(mu_);
    snapshot_ = meta;
    if (!keep) {
      locs_.clear();
      compacted_index_ = meta.index;
      compacted_term_ = meta.term;
    }
  }
  KeepReserve();
  return Status::Ok();
}

Status Wal::Compact(LogIndex index, std::vector<std::string>* leftover) {
  NDS_RETURN_IF_ERROR(CheckUsable());
  std::vector<std::shared_ptr<Segment>> doomed;
  {
    MutexLock lock(mu_);
    LogIndex last(compacted_index_.value + locs_.size());
    if (index < compacted_index_ || index > snapshot_.index || index > last) {
      return InvalidArgument(fmt::format("compact to {}: outside [{}, min(snapshot {}, last {})]",
                                         index, compacted_index_, snapshot_.index, last));
    }
    if (index > compacted_index_) {
      uint64_t drop = index.value - compacted_index_.value;
      compacted_term_ = locs_[drop - 1].term;
      locs_.erase(locs_.begin(), locs_.begin() + static_cast<ptrdiff_t>(drop));
      compacted_index_ = index;
    }
    for (const auto& [seq, seg] : segments_) {
      if (seg == active_ || seg->max_index > index) break;
      doomed.push_back(seg);
    }
  }
  if (leftover != nullptr) {
    MutexLock lock(mu_);
    for (const auto& seg : doomed) {
      leftover->push_back(seg->path);
      segments_.erase(seg->seq);
    }
    return Status::Ok();
  }
  // Oldest first, each removal made durable before the next, so a crash never leaves a hole in
  // the sequence of segments.
  for (const auto& seg : doomed) {
    NDS_RETURN_IF_ERROR(fs_->Remove(seg->path));
    if (Status s = fs_->SyncDir(wal_dir_); !s.ok()) return FailHard(s);
    MutexLock lock(mu_);
    segments_.erase(seg->seq);
  }
  return Status::Ok();
}

Status Wal::RemoveSegmentFiles(FileSystem* fs, const std::string& wal_dir,
                               const std::vector<std::string>& paths) {
  for (const std::string& path : paths) {
    NDS_RETURN_IF_ERROR(fs->Remove(path));
    NDS_RETURN_IF_ERROR(fs->SyncDir(wal_dir));
  }
  return Status::Ok();
}

void Wal::CheckInvariants() const {
  MutexLock lock(mu_);
  NDS_CHECK(compacted_index_ <= snapshot_.index, "compacted {} snapshot {}", compacted_index_,
            snapshot_.index);
  Term prev = compacted_term_;
  for (const EntryLoc& loc : locs_) {
    NDS_CHECK(loc.term >= prev, "term {} after {}", loc.term, prev);
    NDS_CHECK(segments_.contains(loc.seq), "entry in missing segment {}", loc.seq);
    prev = loc.term;
  }
  if (!failed_.ok()) return;
  NDS_CHECK(active_ != nullptr);
  NDS_CHECK(!segments_.empty());
  NDS_CHECK(segments_.rbegin()->second == active_);
  NDS_CHECK(write_offset_ <= options_.segment_bytes);
  NDS_CHECK(dirty_end_ >= write_offset_);
  uint64_t expect = segments_.begin()->first;
  for (const auto& [seq, seg] : segments_) {
    NDS_CHECK(seq == expect, "segment {} where {} expected", seq, expect);
    ++expect;
  }
  // Spares are numbered on from the active segment without gaps (a roll publishes the first).
  for (const auto& spare : spares_) {
    NDS_CHECK(spare->seq == expect, "spare segment {} where {} expected", spare->seq, expect);
    ++expect;
  }
}

}  // namespace nds::wal
