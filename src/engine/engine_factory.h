// Opens an engine by its kind name, as `nds start --engine rocksdb|memory` names it.
// Thread-safe (stateless).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "engine/engine.h"
#include "engine/rocksdb_engine.h"
#include "util/status.h"

namespace nds::engine {

// Opens the engine of `kind` in `dir`:
//   "rocksdb": OpenRocksDbEngine(dir, rocksdb_options) (creates the database if missing);
//   "memory":  the checkpoint in `dir` (OpenMemoryEngineCheckpoint) when `dir` holds one, else a
//              new empty memory engine (nothing is created on disk).
// Errors: kInvalidArgument for an unknown kind (the message lists the known ones); otherwise the
// errors of the opener.
Result<std::unique_ptr<Engine>> OpenEngine(std::string_view kind, const std::string& dir,
                                           const RocksDbOptions& rocksdb_options);
// The same with default RocksDbOptions (RocksDB's WAL on: the single-node mode).
Result<std::unique_ptr<Engine>> OpenEngine(std::string_view kind, const std::string& dir);

}  // namespace nds::engine
