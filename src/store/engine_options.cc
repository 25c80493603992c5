// The engine settings of the store (store/engine_options.h).
#include "store/engine_options.h"

#include "engine/engine_factory.h"
#include "store/history.h"

namespace nds::store {

engine::RocksDbOptions StoreRocksDbOptions() {
  engine::RocksDbOptions options;
  options.disable_wal = true;
  options.insert_hint_prefixes = {HistoryEventKeyPrefix()};
  return options;
}

Result<std::unique_ptr<engine::Engine>> OpenStoreEngine(std::string_view kind,
                                                        const std::string& dir) {
  return engine::OpenEngine(kind, dir, StoreRocksDbOptions());
}

}  // namespace nds::store
