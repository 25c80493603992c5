// Wal: the durable Raft log of one node, and the raft::Storage the core reads it through.
//
// On disk (docs/formats/wal.md, record_format.h): DIR/wal/<seq>.wal segment files of a fixed,
// preallocated size, numbered without gaps. Each begins with a segment header and the hard state
// current at its creation, then entry, hard state and snapshot-mark records. Records are only ever
// appended: replacing a conflicting suffix appends the new entries, and replay lets a record for
// index i void every entry >= i before it. The newest snapshot lives in DIR/snap
// (wal/snapshot_store.h); whole segments at or below a snapshot's index are removed by Compact().
//
// Durability: Save() writes all its records with one pwrite per segment touched and one fdatasync
// (group commit); the hard state is a record written after the entries it depends on, so it can
// never be durable ahead of them (docs/formats/hardstate.md says why it is not a separate file). A
// new segment starts as a spare, <seq>.wal.spare, preallocated ahead of need; at the roll it is
// given its header and synced, then renamed into place and the directory synced: a segment file
// under its final name always has a valid header.
//
// Space reserve (a full disk): the Wal keeps the NEXT segment preallocated at all times. It is
// reserved at Open() and again right after a roll uses it up, at the end of that Save. While it
// exists, a Save that rolls once cannot meet ENOSPC at the roll. When it cannot be reserved,
// SpaceLow() turns true: the node then refuses new proposals (kNoSpace, HTTP 507) but keeps
// saving what it already accepted. The reserve is retried by every kReserveRetrySaves-th Save and
// by RetryReserve(); SpaceLow() turns false once a try succeeds. A Save whose records need more
// segments than are reserved preallocates them all before it writes anything, and fails cleanly
// with kNoSpace when it cannot.
//
// Crash cases handled by Open(): a torn record at the very end of the last segment (its header or
// payload partly written, nothing but zeros after it) is cut off with a warning; any other bad
// record, a missing segment, an index gap, a decreasing term, or a hard state commit index beyond
// the log is kCorruption naming the file and byte offset, and the node must not start. Leftover
// *.wal.spare and *.wal.tmp segments (reserves, or a crash during a roll) are removed, and Open
// reserves the next segment again.
//
// Errors at run time: kNoSpace from a write or a preallocation fails that Save cleanly: nothing in
// memory changes, bytes a failed write left in the active segment are zeroed and synced at once
// (recovery never sees a partial record), and the same Save retried once space is back succeeds.
// The one exception is a write into already-preallocated space failing with ENOSPC after the
// Save sealed a segment (possible only on copy-on-write or thin-provisioned file systems): part
// of the batch is then durable in a sealed segment, so it is kIoError. Any other I/O error, and
// every failed fsync, makes the Wal unusable: that call and every later one return kIoError, and
// the node must exit. An fsync is never retried.
//
// Code: wal.cc (writing), wal_segments.cc (spares and rolls), wal_reads.cc (reading),
// wal_recovery.cc (Open and replay), wal_internal.h.
//
// Owner: node/ (one per data directory). Threading: Save(), ApplySnapshot() and Compact() run on
// one writer thread at a time (the WAL thread); the raft::Storage methods may run concurrently on
// another thread (the Raft strand) and see each Save only once it is durable.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "raft/storage.h"
#include "raft/types.h"
#include "util/file_system.h"
#include "util/limits.h"
#include "util/status.h"
#include "util/thread_annotations.h"
#include "wal/record_format.h"

namespace nds::wal {

struct WalOptions {
  // Size of every segment file (Limits::wal_segment_bytes). At least kSegmentBytesMin; an entry
  // must fit in one segment with the segment's header and hard state.
  uint64_t segment_bytes = 64 << 20;

  static WalOptions FromLimits(const Limits& limits) { return {limits.wal_segment_bytes}; }
};

// What Open() found, for logs and tests.
struct RecoveryReport {
  uint64_t segments = 0;
  uint64_t records = 0;
  uint64_t bytes_scanned = 0;
  // A torn record was cut off the tail of the last segment, at this file and offset.
  bool torn_tail_cut = false;
  std::string torn_tail_file;
  uint64_t torn_tail_offset = 0;
  // The newest snapshot was ahead of the log's last snapshot mark and the log did not hold its
  // (index, term): Open() cleared the log onto the snapshot (a crash during a snapshot install).
  bool cleared_onto_snapshot = false;
};

class Wal final : public raft::Storage {
 public:
  // Opens the log of data directory `dir` (creating `dir` and DIR/wal when absent), reading the
  // newest valid snapshot's metadata from DIR/snap and replaying every segment. Errors:
  // kInvalidArgument for bad options; kCorruption (file and offset in the message) for damage
  // that is not a torn tail; kFailedPrecondition for an unknown format version; kIoError/kNoSpace
  // from the disk.
  static Result<std::unique_ptr<Wal>> Open(FileSystem* fs, const std::string& dir,
                                           const WalOptions& options);
  ~Wal() override;
  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;

  // raft::Storage (storage.h has the contracts). Entries() reads the records back from the
  // segment files and checks each one's CRC, index and term: kCorruption naming the file and
  // offset on a mismatch. Every method returns kIoError once the Wal is unusable.
  Result<raft::HardState> InitialHardState() const override;
  Result<raft::ConfState> InitialConfState() const override;
  Result<std::vector<raft::Entry>> Entries(LogIndex lo, LogIndex hi,
                                           uint64_t bytes_max) const override;
  Result<Term> TermAt(LogIndex i) const override;
  LogIndex FirstIndex() const override;
  LogIndex LastIndex() const override;
  raft::SnapshotMetadata SnapshotMeta() const override;

  // Makes `entries` and then `hs` durable with one fdatasync (per segment touched). `entries` must
  // be contiguous with non-decreasing terms, start in [FirstIndex(), LastIndex() + 1] (an index
  // <= LastIndex() replaces the log from there on) and not lower the term of the entry before
  // them; an empty `hs`, or one equal to the saved one, is not written; hs.commit may not exceed
  // the last index after the append. Errors: kInvalidArgument for input breaking those rules or an
  // entry too large for a segment (nothing written); kNoSpace (the Save failed cleanly: the Wal,
  // in memory and as recovery would read it, is as before the call; SpaceLow() is then true; call
  // Save again with the same arguments once space is back); kIoError (the Wal is now unusable).
  // After a successful Save that used up the reserve, it reserves the next segment (see
  // SpaceLow()); failing to do so does not fail the Save.
  Status Save(const raft::HardState& hs, const std::vector<raft::Entry>& entries);
  Status Append(const std::vector<raft::Entry>& entries) { return Save({}, entries); }
  Status SaveHardState(const raft::HardState& hs) { return Save(hs, {}); }

  // Moves the log onto a snapshot that is already durable in DIR/snap (Raft §7): when the log
  // holds entry (meta.index, meta.term) the entries after it are kept, otherwise the whole log is
  // discarded and FirstIndex() becomes meta.index + 1. Writes a snapshot-mark record (one
  // fdatasync). kInvalidArgument when meta.index is below the current snapshot's; errors as Save.
  Status ApplySnapshot(const raft::SnapshotMetadata& meta);

  // Drops the entries up to `index` (FirstIndex() becomes index + 1) and removes every whole
  // segment, other than the one being written, whose records are all at or below `index`.
  // Precondition checked as kInvalidArgument: FirstIndex() - 1 <= index <= min(snapshot index,
  // LastIndex()). Errors as Save.
  //
  // With `leftover`, the log forgets those segments at once but leaves their files on disk and
  // appends their paths to *leftover, oldest first, for RemoveSegmentFiles to remove on another
  // thread (a removal of a big file can take tens of milliseconds). Until then they are only
  // files a restart skips: every record in them is at or below the snapshot.
  Status Compact(LogIndex index, std::vector<std::string>* leftover = nullptr);

  // Removes segment files `paths` of DIR/wal, oldest first, each removal made durable before the
  // next, so that a crash never leaves a hole in the sequence. Thread-safe (it touches no Wal).
  static Status RemoveSegmentFiles(FileSystem* fs, const std::string& wal_dir,
                                   const std::vector<std::string>& paths);
  const std::string& dir() const { return wal_dir_; }

  // True when the next segment is not reserved: a try to preallocate it (or a Save) met a full
  // disk, so a Save that needs a new segment may fail with kNoSpace. The node must then refuse new
  // proposals but keep calling Save for what it already accepted. Turns false when a later try
  // succeeds: every kReserveRetrySaves-th Save tries, and so does RetryReserve(). Writer thread.
  bool SpaceLow() const { return space_low_; }
  // Tries now to reserve (preallocate) the next segment. Ok: SpaceLow() is false. kNoSpace: the
  // disk is still full (SpaceLow() stays true, nothing else changed). kIoError: the Wal is
  // unusable. Call it from a timer while SpaceLow() (it costs a file create, a fallocate and a
  // remove when the disk is full). Writer thread.
  Status RetryReserve();
  // While SpaceLow(), every this-many Saves try to reserve the next segment again.
  static constexpr uint64_t kReserveRetrySaves = 16;
  // An entry's data of at least this many bytes is written from where it is (one more piece of a
  // gather write) instead of being copied into the write buffer; below it a copy costs less.
  static constexpr size_t kSpliceBytesMin = 4096;
  // A write buffer that one Save grew past this is freed after it, so that a burst does not pin it.
  static constexpr size_t kBufferKeepBytes = size_t{4} << 20;

  // Checks the in-memory invariants (index contiguity, term order, segment bookkeeping) with
  // NDS_CHECK; callable from any test or simulator step, on the writer thread.
  void CheckInvariants() const;

  const RecoveryReport& recovery_report() const { return report_; }
  // Number of segment files of the log (for tests).
  size_t segment_count() const;

 private:
  struct Segment;
  struct EntryLoc;
  struct ReplayState;

  Wal(FileSystem* fs, std::string dir, const WalOptions& options);

  Status Recover(const raft::SnapshotMetadata& snapshot);
  Status ReplaySegment(uint64_t seq, bool last, ReplayState* st);
  Status ApplyRecord(Segment* seg, uint64_t offset, RecordType type, std::string_view payload,
                     uint64_t framed_bytes, ReplayState* st);
  Status Reconcile(const raft::SnapshotMetadata& snapshot, ReplayState* st);
  // The header and hard state records a new segment `seq` starts with.
  std::string SegmentHead(uint64_t seq) const;
  // Preallocates spare segments (<seq>.wal.spare, numbered on from the active segment) until
  // there are `count`, and first the rest of a short active segment. kNoSpace leaves no new
  // file behind (the spares made before stay).
  Status ReserveSpares(size_t count);
  // Reserves one spare per roll that records of these sizes, appended after buffer_ (empty),
  // would need. kNoSpace (SpaceLow() turns true) before anything is written.
  Status ReserveForRecords(const std::vector<uint64_t>& framed_bytes);
  // After a successful write: reserves the next segment again when it was used up, or retries
  // a failed reserve every kReserveRetrySaves calls.
  void KeepReserve();
  // Open() on an empty DIR/wal: segment 1, with a message naming the size on kNoSpace.
  Status CreateFirstSegment();
  // Closes and removes one spare's file (best effort), or all of spares_.
  void DropSpare(const std::shared_ptr<Segment>& seg);
  void DropSpares();
  // Writes the head into spare `seg` (under its spare name) and syncs it. On a failed write all
  // spares are dropped.
  Status StartSegment(const std::shared_ptr<Segment>& seg);
  // Renames a started segment into place, syncs the directory and makes it the active one.
  Status PublishSegment(std::shared_ptr<Segment> seg);
  // Makes room for a record of `framed_bytes` after buffer_: when it does not fit in the active
  // segment, starts the next reserved one, flushes buffer_ and publishes it.
  Status MakeRoom(uint64_t framed_bytes);
  // Writes buffer_ and what is spliced into it (padded with zeros over any bytes a failed write
  // may have left) at write_offset_ and syncs the active segment.
  Status FlushActive();
  uint64_t BufferedBytes() const { return buffer_.size() + spliced_bytes_; }
  // Empties buffer_ and spliced_ (and frees a buffer_ grown past kBufferKeepBytes).
  void ClearBuffer();
  // After a clean kNoSpace write: zeroes and syncs what the write may have left.
  void ScrubFailedWrite();
  // Turns a write-path error into the Wal's final state unless it is a clean kNoSpace.
  Status Fail(Status s);
  // Makes the Wal unusable whatever the error (a failed fsync).
  Status FailHard(const Status& s);
  Status CheckUsable() const;
  Status ValidateEntries(const std::vector<raft::Entry>& entries) const;
  Result<std::vector<raft::Entry>> ReadLocs(const std::vector<EntryLoc>& locs,
                                            const std::vector<std::shared_ptr<Segment>>& segs,
                                            LogIndex lo, uint64_t bytes_max) const;

  FileSystem* const fs_;
  const std::string dir_;
  const std::string wal_dir_;
  const WalOptions options_;
  RecoveryReport report_;

  mutable Mutex mu_;
  // The state the raft::Storage methods read; changed only by the writer after a durable write.
  // locs_[k] describes entry compacted_index_ + 1 + k.
  std::deque<EntryLoc> locs_ NDS_GUARDED_BY(mu_);
  LogIndex compacted_index_ NDS_GUARDED_BY(mu_);
  Term compacted_term_ NDS_GUARDED_BY(mu_);
  raft::SnapshotMetadata snapshot_ NDS_GUARDED_BY(mu_);
  raft::HardState hard_state_ NDS_GUARDED_BY(mu_);
  std::map<uint64_t, std::shared_ptr<Segment>> segments_ NDS_GUARDED_BY(mu_);
  // Non-ok once an I/O error made the Wal unusable; returned by every later call.
  Status failed_ NDS_GUARDED_BY(mu_);

  // Writer-thread state. The segment being written, where its data ends, and the end of the
  // highest byte a failed write may have touched (zeroed by the next write).
  std::shared_ptr<Segment> active_;
  uint64_t write_offset_ = 0;
  uint64_t dirty_end_ = 0;
  // The current Save has sealed a segment (then even kNoSpace makes the Wal unusable).
  bool rolled_in_save_ = false;
  // What the next FlushActive writes at write_offset_: buffer_'s bytes (record headers, small
  // entries), with big entries' data spliced in where it is instead of copied (one copy fewer of
  // a 16 MB value; the views are valid until the Save that made them returns, and every write
  // path clears them first). spliced_[k].data follows buffer_'s first spliced_[k].after bytes.
  struct Spliced {
    size_t after = 0;
    std::string_view data;
  };
  std::string buffer_;
  std::vector<Spliced> spliced_;
  uint64_t spliced_bytes_ = 0;
  // Preallocated segment files for the next rolls, in sequence order after active_; zeros only.
  std::deque<std::shared_ptr<Segment>> spares_;
  // The active segment's file is smaller than options_.segment_bytes (see ReserveSpares).
  bool active_short_ = false;
  // The last try to reserve failed with kNoSpace, or a Save did (see SpaceLow()).
  // Written by the writer, read by any thread (the loop asks while a write runs off it).
  std::atomic<bool> space_low_{false};
  // Saves since the last reserve try while space_low_.
  uint64_t saves_since_reserve_try_ = 0;
};

}  // namespace nds::wal
