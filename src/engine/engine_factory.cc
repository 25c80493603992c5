// OpenEngine (engine/engine_factory.h): chooses the engine implementation by name.
#include "engine/engine_factory.h"

#include <cerrno>

#include <fmt/format.h>
#include <sys/stat.h>

#include "engine/file_util.h"
#include "engine/memory_engine.h"

namespace nds::engine {

Result<std::unique_ptr<Engine>> OpenEngine(std::string_view kind, const std::string& dir,
                                           const RocksDbOptions& rocksdb_options) {
  if (kind == "rocksdb") return OpenRocksDbEngine(dir, rocksdb_options);
  if (kind == "memory") {
    const std::string path = fmt::format("{}/{}", dir, kMemoryCheckpointFileName);
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) return OpenMemoryEngineCheckpoint(dir);
    if (errno != ENOENT && errno != ENOTDIR) return ErrnoStatus(errno, "stat", path);
    return NewMemoryEngine();
  }
  return InvalidArgument(fmt::format("unknown engine kind '{}' (known: rocksdb, memory)", kind));
}

Result<std::unique_ptr<Engine>> OpenEngine(std::string_view kind, const std::string& dir) {
  return OpenEngine(kind, dir, RocksDbOptions());
}

}  // namespace nds::engine
