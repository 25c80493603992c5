// The engine of a simulated node: the real memory engine (engine/memory_engine.h), whose
// checkpoints go to the node's simulated disk (a FaultFileSystem) instead of the real one, so that
// the simulator exercises snapshots, their transfer and their installation. Checkpoint format (one
// file, CHECKPOINT in the directory): varint applied index, varint pair count, then each key and
// value length-prefixed. Simulator only.
#pragma once

#include <memory>
#include <string>

#include "engine/engine.h"
#include "util/file_system.h"

namespace nds::sim {

// A new, empty engine checkpointing into `fs` (which must outlive it).
std::unique_ptr<engine::Engine> NewSimEngine(FileSystem* fs);
// The engine a checkpoint in `dir` holds; an empty engine when `dir` holds none. kCorruption for a
// damaged checkpoint.
Result<std::unique_ptr<engine::Engine>> OpenSimEngine(FileSystem* fs, const std::string& dir);

}  // namespace nds::sim
