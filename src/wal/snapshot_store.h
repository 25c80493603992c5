// SnapshotStore: the snapshots of one node in DIR/snap (docs/formats/snapshot.md).
//
// A snapshot is a directory DIR/snap/<index>-<term> (16 hex digits each) holding the engine's
// checkpoint under data/ (opaque here: written by a callback) and the metadata file SNAPSHOT
// (wal/snapshot_manifest.h: Raft index, term, configuration, and each checkpoint file's size and
// CRC32C, under a CRC). It is built in DIR/snap/tmp-<index>-<term>, every file and directory in it
// synced, the metadata written and synced last, then renamed into place and DIR/snap synced: a
// snapshot directory under its final name is always complete. Incomplete tmp-* directories (a
// crash while building or receiving) are removed by Open(). After a new snapshot is in place, all
// but the newest `snapshots_retained` are removed.
//
// "Valid" at start means: the metadata file decodes (CRC, version), names the same index and term
// as its directory, and every listed file exists with its listed size. File CRCs are checked in
// full when a snapshot is read for sending (wal/snapshot_transfer.h) and by Verify().
//
// Owner: node/. Threading: not thread-safe; the caller serialises (the WAL thread).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "raft/types.h"
#include "util/file_system.h"
#include "util/status.h"
#include "wal/snapshot_manifest.h"

namespace nds::wal {

inline constexpr std::string_view kSnapshotDirName = "snap";  // under the data directory
inline constexpr std::string_view kCheckpointDirName = "data";
inline constexpr std::string_view kSnapshotMetaFileName = "SNAPSHOT";
inline constexpr std::string_view kSnapshotTmpPrefix = "tmp-";

// Metadata of the newest valid snapshot in `snap_dir`; index 0 when the directory is absent or
// holds none. Invalid snapshots are skipped with a warning. Errors: kIoError from the disk.
Result<raft::SnapshotMetadata> NewestSnapshotMetadata(FileSystem* fs, const std::string& snap_dir);

struct SnapshotStoreOptions {
  // How many complete snapshots to keep (the newest ones); at least 1.
  int snapshots_retained = 2;
};

// A snapshot found on disk.
struct StoredSnapshot {
  SnapshotManifest manifest;
  std::string dir;             // DIR/snap/<index>-<term>
  std::string checkpoint_dir;  // dir + "/data": what the engine opens
};

class SnapshotStore {
 public:
  // Writes the engine checkpoint into the directory it is given. The directory does not exist
  // yet (RocksDB's Checkpoint creates it); an empty engine may write nothing.
  using CheckpointWriter = std::function<Status(const std::string& dir)>;

  // Opens DIR/snap (`snap_dir`), creating it when absent, and removes incomplete tmp-* dirs.
  static Result<std::unique_ptr<SnapshotStore>> Open(FileSystem* fs, std::string snap_dir,
                                                     const SnapshotStoreOptions& options = {});

  // Builds a snapshot for `meta` from `write_checkpoint` and puts it in place durably, then
  // prunes old ones. kAlreadyExists when a snapshot with the same index and term exists; the
  // callback's error, or kIoError/kNoSpace, leave nothing behind but a tmp dir removed here or by
  // the next Open().
  Status Create(const raft::SnapshotMetadata& meta, const CheckpointWriter& write_checkpoint);

  // The newest valid snapshot (see the class comment). kNotFound when there is none.
  Result<StoredSnapshot> Newest() const;

  // Reads every file of `snap` and checks its size and CRC: kCorruption naming the file.
  Status Verify(const StoredSnapshot& snap) const;

  // Removes every complete snapshot but the newest `snapshots_retained`.
  Status Prune();
  // The same for the store in `snap_dir`, without the store (for another thread: a snapshot's
  // removal can take tens of milliseconds).
  static Status PruneDir(FileSystem* fs, const std::string& snap_dir, int snapshots_retained);
  int snapshots_retained() const { return options_.snapshots_retained; }

  // Creates a fresh, empty DIR/snap/tmp-<tag>-<n> and returns its path (Open() of a later run
  // removes it if it is never sealed).
  Result<std::string> MakeTmpDir(std::string_view tag);

  FileSystem* fs() const { return fs_; }
  const std::string& dir() const { return snap_dir_; }

  // "<16 hex index>-<16 hex term>".
  static std::string SnapshotName(LogIndex index, Term term);

 private:
  SnapshotStore(FileSystem* fs, std::string snap_dir, const SnapshotStoreOptions& options)
      : fs_(fs), snap_dir_(std::move(snap_dir)), options_(options) {}

  FileSystem* const fs_;
  const std::string snap_dir_;
  const SnapshotStoreOptions options_;
  uint64_t tmp_counter_ = 0;
};

// Shared by the store and the receiver: syncs every file and directory under `dir` (recursively,
// bounded by kSnapshotDirDepthMax) and lists its files with sizes and CRCs, sorted by path.
Result<std::vector<SnapshotFile>> SyncAndListFiles(FileSystem* fs, const std::string& dir);

// Writes SNAPSHOT into `tmp_dir`, syncs it and `tmp_dir`, renames `tmp_dir` to its final name in
// `snap_dir` and syncs `snap_dir`. kAlreadyExists when the final name is taken.
Status SealSnapshot(FileSystem* fs, const std::string& snap_dir, const std::string& tmp_dir,
                    const SnapshotManifest& manifest);

}  // namespace nds::wal
