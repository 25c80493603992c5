// The RocksDB engine: the default state-machine storage of a node (docs/engine.md).
//
// Layout of the RocksDB directory: user keys live, unchanged, in the column family "default";
// the engine's own keys live in the column family "meta", which no user key can reach:
//   meta "applied_index"  -> fixed64 little-endian, written in the same WriteBatch as the data;
//   meta "format_version" -> fixed32 little-endian, 1; written when the directory is created and
//                            checked at open (an unknown version is refused with kCorruption).
//
// Durability of Engine::Write (docs/engine.md has the full table):
//   WAL on  (disable_wal = false, single-node mode): sync=true fsyncs RocksDB's WAL before
//     returning, so the write survives power loss; sync=false survives a process crash (the WAL
//     is in the OS page cache) but not a power loss.
//   WAL off (disable_wal = true, under Raft: the Raft log is the WAL): a write goes to the
//     memtable only. sync=true flushes every column family to SST files (atomically, with fsync)
//     before returning; sync=false is lost on any crash back to the last flush. Because flushes
//     are atomic across column families, the recovered applied index always matches the
//     recovered data, and the Raft log replays the entries after it.
//
// After a failed write (kNoSpace, kIoError) RocksDB refuses writes; the next Write recovers
// first: with the WAL off by DB::Resume (which flushes), with it on by closing and reopening the
// database (RocksDB 7.8 cannot resume past a failed WAL append). The reopen waits until no view
// or iterator is open (Write answers kUnavailable until then) and for at least 1 MiB free
// (kNoSpace until then). Should the reopen itself fail, reads answer kIoError until a later
// Write reopens it.
//
// Memory: one LRU block cache (block_cache_bytes) holds data, index and filter blocks, so table
// readers have no unbounded memory of their own; memtables are bounded by write_buffer_bytes per
// column family (two of them at most) and a WriteBufferManager caps their sum. RocksDB's info LOG
// is rotated and bounded (log_file_bytes_max x log_files_max).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "util/status.h"

namespace nds::engine {

struct RocksDbOptions {
  // The LRU cache of data, index and filter blocks (shared by both column families).
  size_t block_cache_bytes = 32 << 20;
  // One memtable of the default column family; the total of all memtables is capped at twice it.
  size_t write_buffer_bytes = 16 << 20;
  // Turn RocksDB's WAL off when something else (the Raft log) is the write-ahead log.
  bool disable_wal = false;
  // RocksDB's info LOG: rotated at log_file_bytes_max, at most log_files_max files kept.
  size_t log_file_bytes_max = 4 << 20;
  size_t log_files_max = 3;
  // SST files kept open; each costs a file descriptor and a small table reader.
  int open_files_max = 512;
  // Key prefixes (2 bytes each) whose keys are mostly written in ascending order: their memtable
  // inserts start where the last one of the same prefix went (engine/rocksdb_tuning.h). A range
  // deletion must not begin with one of them.
  std::vector<std::string> insert_hint_prefixes;
  // How often a write looks at the blob files' garbage to turn their garbage collection on or
  // off (engine/rocksdb_tuning.h); 0: at every write.
  std::chrono::milliseconds blob_gc_check_interval{1000};
};

// Opens (creating if missing) the RocksDB engine in `dir`. Errors: kCorruption when the data is
// damaged or its format version is unknown, kNoSpace when the disk is full, kIoError otherwise
// (including a directory held by another process). The engine may be used from any thread; its
// views and iterators may outlive it (they keep the database open until they are destroyed).
Result<std::unique_ptr<Engine>> OpenRocksDbEngine(const std::string& dir,
                                                  const RocksDbOptions& options);

// The applied index recorded in the RocksDB engine checkpoint in `dir` (Engine::Checkpoint), read
// from its meta keys with the database opened read-only: nothing in `dir` is changed. Errors:
// kCorruption for a damaged or unknown format, kIoError otherwise (e.g. `dir` holds no database).
Result<LogIndex> ReadRocksDbCheckpointAppliedIndex(const std::string& dir);

}  // namespace nds::engine
