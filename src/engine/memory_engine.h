// The memory engine (`--engine memory`): the whole state machine in RAM, for tests, the
// simulator and small deployments whose durability comes entirely from the Raft log and
// snapshots (docs/engine.md). Nothing written through Engine::Write survives the process; only
// Engine::Checkpoint writes a file (engine/memory_checkpoint.h has its format).
//
// Views are multi-version: each key keeps its newest version plus the older versions that some
// live view can still see, each tagged with the sequence number of the write that made it. A view
// is a sequence number; it reads, for each key, the newest version not newer than it. Neither a
// view nor a write copies the map; versions no view can see are garbage-collected a bounded step
// at a time, on writes and when views are released.
#pragma once

#include <memory>
#include <string>

#include "engine/engine.h"
#include "util/status.h"

namespace nds::engine {

// The file inside a memory-engine checkpoint directory.
inline constexpr char kMemoryCheckpointFileName[] = "memory.ckpt";

// A new, empty memory engine (applied index 0). Thread-safe; its views and iterators may outlive
// it.
std::unique_ptr<Engine> NewMemoryEngine();

// Loads the checkpoint that Engine::Checkpoint of a memory engine wrote into `dir`. Errors:
// kNotFound when `dir` holds no checkpoint file, kCorruption naming the file and byte offset
// when the file is damaged (bad checksum, truncated, keys out of order), kIoError otherwise.
Result<std::unique_ptr<Engine>> OpenMemoryEngineCheckpoint(const std::string& dir);

}  // namespace nds::engine
