// The node's identity file DIR/meta: cluster id, node id, the cluster secret peers prove they
// hold, and the data directory's format version (docs/formats/meta.md). Written once, atomically
// (temp file, fsync, rename, fsync of DIR), when a data directory is initialised; read at every
// start so that a node restarts into its own cluster without flags and refuses a directory of
// another format version or a damaged file. Free functions; thread-safe as far as the FileSystem
// is.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/file_system.h"
#include "util/status.h"
#include "util/strong_id.h"

namespace nds::wal {

inline constexpr std::string_view kMetaFileName = "meta";
inline constexpr std::string_view kMetaMagic = "ndsmeta\n";
// Version of the whole data directory layout (meta, wal/, snap/, engine/). Version 2 added the
// cluster secret; a version 1 file still decodes (without one) so that the start can say why it
// cannot go on.
inline constexpr uint32_t kDataFormatVersion = 2;
inline constexpr uint32_t kDataFormatVersionWithoutSecret = 1;
inline constexpr size_t kClusterSecretBytesMin = 16;
inline constexpr size_t kClusterSecretBytesMax = 64;
inline constexpr size_t kClusterIdBytesMax = 256;
inline constexpr uint64_t kMetaFileBytesMax = 4096;

struct NodeMeta {
  std::string cluster_id;
  NodeId node_id;
  uint32_t format_version = kDataFormatVersion;
  // kClusterSecretBytesMin..kClusterSecretBytesMax bytes; empty in a version 1 file.
  std::string cluster_secret;

  bool operator==(const NodeMeta&) const = default;
};

std::string EncodeNodeMeta(const NodeMeta& meta);
// kCorruption (with `what` in the message) for a wrong magic, a CRC mismatch or bad fields;
// kFailedPrecondition for a format version other than kDataFormatVersion and
// kDataFormatVersionWithoutSecret.
Result<NodeMeta> DecodeNodeMeta(std::string_view bytes, std::string_view what);

// Writes DIR/meta for `meta` (format_version must be kDataFormatVersion). kAlreadyExists when the
// file exists (it is never rewritten); kInvalidArgument for an empty or over-long cluster id,
// node id 0, or a cluster secret of the wrong length; kIoError/kNoSpace from the disk.
Status WriteMetaFile(FileSystem* fs, const std::string& data_dir, const NodeMeta& meta);

// Reads DIR/meta. kNotFound when the directory was never initialised; otherwise the errors of
// DecodeNodeMeta, naming the file.
Result<NodeMeta> ReadMetaFile(FileSystem* fs, const std::string& data_dir);

}  // namespace nds::wal
