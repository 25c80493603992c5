// Sending and receiving a snapshot in chunks (docs/formats/snapshot.md, "Transfer stream").
//
// A snapshot travels as one byte stream: fixed64 length of the metadata file, the metadata file
// (wal/snapshot_manifest.h: meta, then each checkpoint file's path, size and CRC32C, under a CRC),
// then the bytes of each file in manifest order. SnapshotReader cuts that stream into chunks of at
// most `chunk_bytes_max` (Limits::snapshot_chunk_bytes), each carrying the snapshot's index and
// term, its offset in the stream and the stream's total length. SnapshotReceiver takes the chunks
// in order, writes them into DIR/snap/tmp-*, and checks everything — chunk order and size, the
// stream's declared length against the manifest, every file's size and CRC — before Finish()
// syncs the snapshot and renames it into place. Nothing outside the tmp directory changes before
// that; a receiver dropped before Finish() removes its tmp directory.
//
// The transport (net/, node/) carries chunks; these classes never touch the network.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "raft/types.h"
#include "util/file_system.h"
#include "util/status.h"
#include "wal/snapshot_manifest.h"
#include "wal/snapshot_store.h"

namespace nds::wal {

struct SnapshotChunk {
  LogIndex index;  // the snapshot being sent
  Term term;
  uint64_t offset = 0;       // where `data` starts in the stream
  uint64_t total_bytes = 0;  // length of the whole stream
  std::string data;

  bool operator==(const SnapshotChunk&) const = default;
  bool last() const { return offset + data.size() == total_bytes; }
};

// Reads one stored snapshot as chunks. Owner: the sender of one snapshot to one follower.
// Not thread-safe. The files are opened one at a time: a snapshot pruned while it is being read
// makes Next() fail (the sender starts again with the newest snapshot).
class SnapshotReader {
 public:
  // Precondition-checked: chunk_bytes_max > 0 (kInvalidArgument).
  static Result<std::unique_ptr<SnapshotReader>> Open(FileSystem* fs, StoredSnapshot snapshot,
                                                      uint64_t chunk_bytes_max);

  // The next chunk (at most chunk_bytes_max bytes, never empty unless the stream is empty).
  // kFailedPrecondition after the last chunk; kCorruption when a local file does not match its
  // size or CRC (this node's snapshot is damaged); kIoError from the disk.
  Result<SnapshotChunk> Next();
  // Moves on to `offset` without returning the bytes before it (they are still read, so every
  // file passed is checked against its CRC): a receiver that already holds them resumes there.
  // kInvalidArgument for an offset behind the current one or past the end; Next()'s errors.
  Status SkipTo(uint64_t offset);
  bool done() const { return offset_ == total_bytes_ && started_; }
  uint64_t offset() const { return offset_; }
  const raft::SnapshotMetadata& meta() const { return snapshot_.manifest.meta; }
  const StoredSnapshot& snapshot() const { return snapshot_; }
  uint64_t total_bytes() const { return total_bytes_; }

 private:
  SnapshotReader(FileSystem* fs, StoredSnapshot snapshot, uint64_t chunk_bytes_max);
  Status FillFromFiles(uint64_t n, std::string* out);

  FileSystem* const fs_;
  const StoredSnapshot snapshot_;
  const uint64_t chunk_bytes_max_;
  std::string head_;  // fixed64 length + metadata file bytes
  uint64_t total_bytes_ = 0;
  uint64_t offset_ = 0;
  bool started_ = false;
  // The file being read: its position in the manifest, the bytes read so far and their CRC.
  size_t file_index_ = 0;
  uint64_t file_offset_ = 0;
  uint32_t file_crc_ = 0;
  std::unique_ptr<File> file_;
};

struct SnapshotReceiverOptions {
  uint64_t chunk_bytes_max = 1 << 20;            // Limits::snapshot_chunk_bytes
  uint64_t total_bytes_max = uint64_t{1} << 40;  // the largest snapshot accepted
};

// Receives one snapshot. Owner: node/, one per incoming snapshot. Not thread-safe.
class SnapshotReceiver {
 public:
  // Starts receiving into a fresh tmp dir of `store`.
  static Result<std::unique_ptr<SnapshotReceiver>> Start(SnapshotStore* store,
                                                         const SnapshotReceiverOptions& options);
  ~SnapshotReceiver();
  SnapshotReceiver(const SnapshotReceiver&) = delete;
  SnapshotReceiver& operator=(const SnapshotReceiver&) = delete;

  // Takes the next chunk. kInvalidArgument for a chunk out of order, oversized, of another
  // snapshot, or running past the declared length, and for a manifest whose paths or length do
  // not add up; kCorruption for a CRC mismatch (metadata or file); kResourceExhausted for a
  // snapshot larger than total_bytes_max; kIoError/kNoSpace from the disk. After any error the
  // receiver is dead: every later call returns that error.
  Status Accept(const SnapshotChunk& chunk);
  bool complete() const { return started_ && offset_ == total_bytes_; }
  // Whether `chunk` belongs to the stream this receiver takes (same snapshot, same length) while
  // it is still alive: then a chunk at another offset than offset() is a lost or repeated one,
  // and the sender can resume at offset() (docs/formats/snapshot.md, "Resuming").
  bool SameStream(const SnapshotChunk& chunk) const {
    return started_ && dead_.ok() && !finished_ && chunk.index == index_ && chunk.term == term_ &&
           chunk.total_bytes == total_bytes_;
  }
  uint64_t offset() const { return offset_; }

  // Seals the complete snapshot into place (synced, renamed, directory synced) and prunes older
  // ones. kFailedPrecondition when not complete(); kAlreadyExists when the store already has it.
  Result<StoredSnapshot> Finish();

 private:
  SnapshotReceiver(SnapshotStore* store, const SnapshotReceiverOptions& options,
                   std::string tmp_dir);
  Status AcceptBytes(std::string_view data);
  Status TakeManifest();
  Status WriteFileBytes(std::string_view data);
  Status OpenNextFile();
  Status Die(Status s);

  SnapshotStore* const store_;
  const SnapshotReceiverOptions options_;
  const std::string tmp_dir_;
  Status dead_;
  bool started_ = false;
  bool finished_ = false;
  LogIndex index_;
  Term term_;
  uint64_t total_bytes_ = 0;
  uint64_t offset_ = 0;
  // The stream's head: 8 length bytes, then the metadata file; the manifest once it is complete.
  std::string head_;
  uint64_t manifest_bytes_ = 0;
  bool have_manifest_ = false;
  SnapshotManifest manifest_;
  size_t file_index_ = 0;
  uint64_t file_offset_ = 0;
  uint32_t file_crc_ = 0;
  std::unique_ptr<File> file_;
};

}  // namespace nds::wal
