// How a node opens its state machine's engine: engine::OpenEngine with the RocksDB settings that
// suit the store's key layout (docs/formats/store.md): history events ('h' 'e' revision seq) are
// written in ascending order, so their memtable inserts take a hint (engine/rocksdb_tuning.h).
// No store range deletion begins with that prefix (/clear deletes ['d', 'e')).
// Thread-safe (stateless).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "engine/engine.h"
#include "engine/rocksdb_engine.h"
#include "util/status.h"

namespace nds::store {

engine::RocksDbOptions StoreRocksDbOptions();

// engine::OpenEngine(kind, dir, StoreRocksDbOptions()).
Result<std::unique_ptr<engine::Engine>> OpenStoreEngine(std::string_view kind,
                                                        const std::string& dir);

}  // namespace nds::store
