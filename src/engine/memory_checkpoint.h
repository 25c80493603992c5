// The file format of a memory-engine checkpoint, shared by its writer and its reader
// (grammar and recovery rules: docs/engine.md, "Memory checkpoint format").
//
//   file    = header record* trailer
//   header  = magic[8] "NDSMEMCK" | format_version fixed32 (1) | applied_index fixed64 |
//             crc fixed32                     ; CRC32C of the 20 bytes before it
//   record  = kind u8 (1) | key_bytes varint | value_bytes varint | key | value |
//             crc fixed32                     ; CRC32C of the record's bytes before it
//   trailer = kind u8 (2) | record_count fixed64 | crc fixed32
//
// Keys are strictly increasing. Nothing may follow the trailer. Any damage is kCorruption naming
// the file and the offset of the damaged part. Thread-safe (stateless functions).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "engine/engine.h"
#include "util/status.h"
#include "util/strong_id.h"

namespace nds::engine {

inline constexpr char kMemoryCheckpointMagic[] = "NDSMEMCK";
inline constexpr size_t kMemoryCheckpointMagicBytes = 8;
inline constexpr uint32_t kMemoryCheckpointFormatVersion = 1;
inline constexpr size_t kMemoryCheckpointHeaderBytes = 8 + 4 + 8 + 4;
inline constexpr uint8_t kMemoryCheckpointRecordKind = 1;
inline constexpr uint8_t kMemoryCheckpointTrailerKind = 2;
inline constexpr size_t kMemoryCheckpointTrailerBytes = 1 + 8 + 4;
static_assert(sizeof(kMemoryCheckpointMagic) == kMemoryCheckpointMagicBytes + 1);

// Writes every pair of `view`, in key order, and its applied index into the file `path` (which
// must not exist), then fsyncs the file. The caller syncs the directory. Errors: kAlreadyExists,
// kNoSpace, kIoError naming the path, or the view iterator's error. A failed write leaves a
// partial file, which the reader rejects (no trailer); the caller removes it.
Status WriteMemoryCheckpoint(const std::string& path, const View& view);

// Reads the checkpoint file `path`, calling `on_pair` for each pair in increasing key order (the
// views passed are valid during the call only), and returns its applied index. Pairs may have
// been delivered before an error is found: on error, discard what was delivered.
Result<LogIndex> ReadMemoryCheckpoint(
    const std::string& path,
    const std::function<void(std::string_view key, std::string_view value)>& on_pair);

}  // namespace nds::engine
