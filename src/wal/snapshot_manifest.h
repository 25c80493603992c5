// The metadata file of a snapshot (DIR/snap/<index>-<term>/SNAPSHOT): the Raft snapshot metadata
// (index, term, configuration) plus the manifest of the engine checkpoint's files (relative path,
// size, CRC32C), closed by a CRC32C over everything before it. Grammar and damage handling:
// docs/formats/snapshot.md. The same bytes open the stream a snapshot is sent as
// (wal/snapshot_transfer.h). Pure functions; thread-safe. Decoding treats its input as hostile
// (it comes from a disk or a peer).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "raft/types.h"
#include "util/status.h"

namespace nds::wal {

inline constexpr std::string_view kSnapshotMagic = "ndssnap\n";
inline constexpr uint32_t kSnapshotFormatVersion = 1;
// Bounds on what a manifest may describe (a peer's manifest is checked against them).
inline constexpr uint64_t kManifestBytesMax = 64 << 20;
inline constexpr uint64_t kSnapshotFilesMax = 100'000;
inline constexpr size_t kSnapshotPathBytesMax = 1024;
inline constexpr size_t kConfStateIdsMax = 10'000;
inline constexpr int kSnapshotDirDepthMax = 8;

struct SnapshotFile {
  std::string path;  // relative to the checkpoint directory, '/'-separated
  uint64_t size_bytes = 0;
  uint32_t crc = 0;  // CRC32C of the file's bytes

  bool operator==(const SnapshotFile&) const = default;
};

struct SnapshotManifest {
  raft::SnapshotMetadata meta;
  std::vector<SnapshotFile> files;  // in stream order

  bool operator==(const SnapshotManifest&) const = default;
  // Sum of the files' sizes.
  uint64_t DataBytes() const;
};

std::string EncodeManifest(const SnapshotManifest& manifest);
// kCorruption for a wrong magic, a CRC mismatch or malformed fields; kFailedPrecondition for an
// unknown format version; kInvalidArgument for a path that is absolute, empty, has "." or ".."
// components or is too long, duplicate paths, or more files or ids than the limits allow.
Result<SnapshotManifest> DecodeManifest(std::string_view bytes);

// Checks one relative path of a manifest (the rules of DecodeManifest).
Status ValidateSnapshotPath(std::string_view path);

}  // namespace nds::wal
