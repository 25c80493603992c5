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
// Thread-safety: the transform is immutable; QuietPerfContext touches only the calling thread.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

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

}  // namespace nds::engine
