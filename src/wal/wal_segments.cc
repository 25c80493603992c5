// The Wal's segment files: the head of a new segment, spare segments allocated ahead of the writer
// (so that a full disk is met before a write, not in the middle of one), and the roll from a full
// segment to the next. The write path that uses them is in wal.cc. See docs/formats/wal.md.
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

std::string Wal::SegmentHead(uint64_t seq) const {
  std::string head;
  AppendRecord(&head, RecordType::kSegmentHeader, EncodeSegmentHeader(seq));
  MutexLock lock(mu_);
  AppendRecord(&head, RecordType::kHardState, EncodeHardState(hard_state_));
  return head;
}

Status Wal::ReserveSpares(size_t count) {
  if (active_short_) {
    // A segment written with a smaller --wal-segment-bytes: its tail is not allocated yet.
    if (Status s = active_->file->Preallocate(options_.segment_bytes); !s.ok()) return Fail(s);
    active_short_ = false;
  }
  while (spares_.size() < count) {
    auto seg = std::make_shared<Segment>();
    seg->seq =
        spares_.empty() ? (active_ == nullptr ? 1 : active_->seq + 1) : spares_.back()->seq + 1;
    seg->path = JoinPath(wal_dir_, SegmentName(seg->seq));
    seg->max_index = LogIndex(0);
    const std::string spare = seg->path + std::string(kSpareSuffix);
    auto file = fs_->Open(spare, OpenMode::kCreateTruncate);
    if (!file.ok()) return Fail(file.status());
    if (Status s = (*file)->Preallocate(options_.segment_bytes); !s.ok()) {
      file->reset();
      IgnoreError(fs_->Remove(spare), "best effort: Open() removes leftover spare segments");
      return Fail(s);
    }
    seg->file = std::move(*file);
    spares_.push_back(std::move(seg));
  }
  return Status::Ok();
}

void Wal::KeepReserve() {
  if (!spares_.empty() && !active_short_) {
    space_low_ = false;
    return;
  }
  // Right after a roll used the spare, try at once; after a failed try, every
  // kReserveRetrySaves Saves (a full disk fails fast, but each try creates and removes a file).
  if (space_low_ && ++saves_since_reserve_try_ < kReserveRetrySaves) return;
  IgnoreError(RetryReserve(), "SpaceLow() reports it; an I/O error made the Wal unusable");
}

Status Wal::RetryReserve() {
  NDS_RETURN_IF_ERROR(CheckUsable());
  rolled_in_save_ = false;  // no Save is writing: a full disk here is clean
  saves_since_reserve_try_ = 0;
  Status s = ReserveSpares(1);
  if (s.code() == StatusCode::kNoSpace && !space_low_) {
    spdlog::warn("{}: cannot preallocate the next WAL segment of {} bytes: {}", wal_dir_,
                 options_.segment_bytes, s.message());
  }
  if (s.ok() && space_low_) spdlog::info("{}: the next WAL segment is reserved again", wal_dir_);
  space_low_ = !s.ok();
  return s;
}

Status Wal::ReserveForRecords(const std::vector<uint64_t>& framed_bytes) {
  const uint64_t head_bytes = SegmentHead(0).size();
  uint64_t offset = write_offset_;
  size_t rolls = 0;
  for (uint64_t framed : framed_bytes) {
    if (offset + framed > options_.segment_bytes) {  // the test MakeRoom makes
      ++rolls;
      offset = head_bytes;
    }
    offset += framed;
  }
  if (rolls <= spares_.size()) return Status::Ok();
  Status s = ReserveSpares(rolls);
  if (s.ok()) {
    space_low_ = false;  // there was room: reserve the next segment as soon as these are used
  } else if (s.code() == StatusCode::kNoSpace) {
    space_low_ = true;
  }
  return s;
}

void Wal::DropSpare(const std::shared_ptr<Segment>& seg) {
  seg->file.reset();
  IgnoreError(fs_->Remove(seg->path + std::string(kSpareSuffix)),
              "best effort: Open() removes leftover spare segments");
}

void Wal::DropSpares() {
  for (const auto& seg : spares_) DropSpare(seg);
  spares_.clear();
}

Status Wal::StartSegment(const std::shared_ptr<Segment>& seg) {
  std::string head = SegmentHead(seg->seq);
  if (Status s = seg->file->WriteAt(0, head); !s.ok()) {
    // A spare must hold only zeros, and spares are numbered on from the active segment without
    // gaps: drop them all (freeing their space); the next Save reserves again.
    DropSpare(seg);
    DropSpares();
    return Fail(s);
  }
  if (Status sync = seg->file->Sync(); !sync.ok()) return FailHard(sync);
  seg->head_bytes = head.size();
  return Status::Ok();
}

Status Wal::PublishSegment(std::shared_ptr<Segment> seg) {
  const std::string spare = seg->path + std::string(kSpareSuffix);
  if (Status s = fs_->Rename(spare, seg->path); !s.ok()) return FailHard(s);
  if (Status s = fs_->SyncDir(wal_dir_); !s.ok()) return FailHard(s);
  // Reopen under the final name so that messages name the real file.
  auto file = fs_->Open(seg->path, OpenMode::kReadWrite);
  if (!file.ok()) return FailHard(file.status());
  seg->file = std::move(*file);
  uint64_t head_bytes = seg->head_bytes;
  {
    MutexLock lock(mu_);
    segments_[seg->seq] = seg;
  }
  active_ = std::move(seg);
  write_offset_ = head_bytes;
  dirty_end_ = head_bytes;
  return Status::Ok();
}

Status Wal::MakeRoom(uint64_t framed_bytes) {
  if (write_offset_ + BufferedBytes() + framed_bytes <= options_.segment_bytes) return Status::Ok();
  // ReserveForRecords() reserved a spare for every roll of this Save.
  NDS_CHECK(!spares_.empty(), "roll for a record of {} bytes without a reserved segment",
            framed_bytes);
  std::shared_ptr<Segment> next = spares_.front();
  spares_.pop_front();
  NDS_RETURN_IF_ERROR(StartSegment(next));
  if (Status s = FlushActive(); !s.ok()) {
    if (s.code() == StatusCode::kNoSpace) {
      // Clean failure: the started segment holds a header, so it can no longer be a spare, and
      // the spares after it would leave a gap in the numbering.
      DropSpare(next);
      DropSpares();
    }
    return s;
  }
  NDS_RETURN_IF_ERROR(PublishSegment(std::move(next)));
  rolled_in_save_ = true;
  NDS_CHECK(write_offset_ + framed_bytes <= options_.segment_bytes, "record of {} bytes",
            framed_bytes);
  return Status::Ok();
}
}  // namespace nds::wal
