// What a data directory says about the node beyond DIR/meta (docs/formats/identity.md):
// - DIR/identity: the node's name and the addresses it listens on and advertises, so that
//   `nds start --data DIR` alone restarts the node as it was. Versioned, checksummed, 0600.
// - DIR/removed: written when the node learns it was removed from its cluster; a start on the
//   directory is then refused.
// - Whether the directory holds Raft or engine state, so that one whose meta file is missing is
//   never taken for an empty one.
// Free functions; thread-safe as far as the file system is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/file_system.h"
#include "util/status.h"

namespace nds::node {

inline constexpr std::string_view kIdentityFileName = "identity";
inline constexpr std::string_view kRemovedFileName = "removed";
inline constexpr uint32_t kIdentityVersion = 1;
inline constexpr uint64_t kIdentityFileBytesMax = 4096;

struct NodeIdentity {
  std::string name;
  std::string api;             // --api: where the API listens
  std::string peer;            // --peer: where peer traffic is accepted
  std::string advertise_api;   // what other nodes and clients dial (the member table)
  std::string advertise_peer;  // likewise for peer traffic

  bool operator==(const NodeIdentity&) const = default;
};

std::string EncodeIdentity(const NodeIdentity& id);
// kCorruption (naming `what`) for a wrong header, a checksum mismatch, a missing or repeated
// field, or a field with a line break; kFailedPrecondition for another version.
Result<NodeIdentity> DecodeIdentity(std::string_view bytes, std::string_view what);

// DIR/identity, or std::nullopt when there is none; errors of DecodeIdentity name the file.
Result<std::optional<NodeIdentity>> ReadIdentity(const std::string& data_dir);
// Replaces DIR/identity atomically (synced), readable by its owner only.
Status WriteIdentity(const std::string& data_dir, const NodeIdentity& id);

// Records that node `id` was removed from cluster `cluster_id` (DIR/removed, synced).
Status MarkRemoved(const std::string& data_dir, uint64_t id, const std::string& cluster_id,
                   FileSystem* fs = DefaultFileSystem());
// The text of DIR/removed when the node was removed, std::nullopt otherwise.
std::optional<std::string> RemovedMark(const std::string& data_dir);

// The entries of DIR that hold a Raft log or snapshots (wal/, snap/) and are not empty.
std::vector<std::string> RaftStateIn(const std::string& data_dir);

}  // namespace nds::node
