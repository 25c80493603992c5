// CPU-saving settings of the RocksDB engine's write path (engine/rocksdb_engine.cc; docs/engine.md
// "Write path").
//
// Memtable insert hints: RocksDB's skip list can start an insert where the last key of the same
// prefix went instead of searching every level from the top. The engine's caller names the
// prefixes (RocksDbOptions::insert_hint_prefixes, each kInsertHintPrefixBytes long) whose keys
// arrive in ascending order, such as store/'s history events ('h' 'e' revision seq): each such
// insert then costs a few comparisons. RocksDB 7.8 keeps one hint per prefix for both the point
// keys and the range tombstones of a memtable, so a range deletion must never begin with a hinted
// prefix (the engine checks it: a hint into the other table corrupts the skip list).
//
// Perf context: RocksDB counts every key comparison in a thread-local perf context unless the
// calling thread turned it off; nds reads none of those counters, so each engine call turns it
// off for its thread first (one thread-local store).
// Blob garbage collection: with it on, every compaction rewrites the blobs it meets in the oldest
// quarter of the blob files (RocksDB's age cutoff), garbage or not. Always on, a store of big
// values that are only ever added rewrote a quarter of its blobs at every compaction (and more as
// it grew). The engine turns it on only while the oldest quarter holds enough garbage to be worth
// rewriting (WantBlobGarbageCollection), from the blob files' own garbage counts.
// Thread-safety: the transform is immutable; QuietPerfContext touches only the calling thread.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/metadata.h>
#include <rocksdb/slice_transform.h>

namespace nds::engine {

inline constexpr size_t kInsertHintPrefixBytes = 2;

// The prefix extractor for RocksDB's memtable_insert_with_hint_prefix_extractor: keys starting
// with one of `prefixes` (each kInsertHintPrefixBytes long) get a hint; nullptr when none.
std::shared_ptr<const rocksdb::SliceTransform> NewInsertHintPrefix(
    const std::vector<std::string>& prefixes);

// Whether `key` starts with one of `prefixes` (as NewInsertHintPrefix groups keys).
bool HasInsertHintPrefix(const std::vector<std::string>& prefixes, std::string_view key);

// Turns RocksDB's per-thread perf counters off for the calling thread.
void QuietPerfContext();

// The oldest share of the blob files that garbage collection rewrites (RocksDB's
// blob_garbage_collection_age_cutoff), and the share of garbage in them that turns it on (also
// RocksDB's blob_garbage_collection_force_threshold: compactions are then scheduled for them) and
// below which it is turned off again. Rewriting files a quarter garbage costs at most three bytes
// written per byte given back.
inline constexpr double kBlobGcAgeCutoff = 0.25;
inline constexpr double kBlobGcGarbageShareOn = 0.25;
inline constexpr double kBlobGcGarbageShareOff = 0.125;

// Whether blob garbage collection should be on, given the blob files of a column family and
// whether it is on now: the garbage share of the oldest kBlobGcAgeCutoff of them (by file number;
// none with fewer than four files, as RocksDB counts them) against the two thresholds.
bool WantBlobGarbageCollection(const std::vector<rocksdb::BlobMetaData>& files, bool on_now);

}  // namespace nds::engine
