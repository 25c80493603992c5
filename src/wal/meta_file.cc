// Encoding, writing and checking the node identity file DIR/meta (docs/formats/meta.md).
#include "wal/meta_file.h"

#include <fmt/format.h>

#include "util/coding.h"
#include "util/crc32c.h"

namespace nds::wal {

std::string EncodeNodeMeta(const NodeMeta& meta) {
  std::string out(kMetaMagic);
  PutFixed32(&out, meta.format_version);
  PutLengthPrefixed(&out, meta.cluster_id);
  PutVarint64(&out, meta.node_id.value);
  if (meta.format_version != kDataFormatVersionWithoutSecret) {
    PutLengthPrefixed(&out, meta.cluster_secret);
  }
  PutFixed32(&out, crc32c::Value(out));
  return out;
}

Result<NodeMeta> DecodeNodeMeta(std::string_view bytes, std::string_view what) {
  if (bytes.size() < kMetaMagic.size() + 8 || bytes.substr(0, kMetaMagic.size()) != kMetaMagic) {
    return Corruption(fmt::format("{}: not an nds node identity file", what));
  }
  std::string_view body = bytes.substr(0, bytes.size() - 4);
  if (crc32c::Value(body) != DecodeFixed32(bytes.data() + body.size())) {
    return Corruption(fmt::format("{}: CRC mismatch (the file is damaged)", what));
  }
  NodeMeta meta;
  meta.format_version = DecodeFixed32(bytes.data() + kMetaMagic.size());
  const bool with_secret = meta.format_version == kDataFormatVersion;
  if (!with_secret && meta.format_version != kDataFormatVersionWithoutSecret) {
    return FailedPrecondition(
        fmt::format("{}: data directory format version {}, this build supports {} and {}", what,
                    meta.format_version, kDataFormatVersionWithoutSecret, kDataFormatVersion));
  }
  Decoder d(body.substr(kMetaMagic.size() + 4));
  auto cluster = d.LengthPrefixed();
  auto node = cluster.ok() ? d.Varint64() : Result<uint64_t>(cluster.status());
  Result<std::string_view> secret = std::string_view();
  if (with_secret)
    secret = node.ok() ? d.LengthPrefixed() : Result<std::string_view>(node.status());
  if (!node.ok() || !secret.ok() || !d.done() || cluster->empty() ||
      cluster->size() > kClusterIdBytesMax || *node == 0 ||
      (with_secret &&
       (secret->size() < kClusterSecretBytesMin || secret->size() > kClusterSecretBytesMax))) {
    return Corruption(fmt::format("{}: malformed fields", what));
  }
  meta.cluster_secret.assign(*secret);
  meta.cluster_id.assign(*cluster);
  meta.node_id = NodeId(*node);
  return meta;
}

Status WriteMetaFile(FileSystem* fs, const std::string& data_dir, const NodeMeta& meta) {
  if (meta.cluster_id.empty() || meta.cluster_id.size() > kClusterIdBytesMax) {
    return InvalidArgument(fmt::format("cluster id of {} bytes (1 to {} allowed)",
                                       meta.cluster_id.size(), kClusterIdBytesMax));
  }
  if (meta.node_id == kNoNode) return InvalidArgument("node id 0 is reserved");
  if (meta.format_version != kDataFormatVersion) {
    return InvalidArgument(fmt::format("format version {} cannot be written", meta.format_version));
  }
  if (meta.cluster_secret.size() < kClusterSecretBytesMin ||
      meta.cluster_secret.size() > kClusterSecretBytesMax) {
    return InvalidArgument(fmt::format("cluster secret of {} bytes ({} to {} allowed)",
                                       meta.cluster_secret.size(), kClusterSecretBytesMin,
                                       kClusterSecretBytesMax));
  }
  const std::string path = JoinPath(data_dir, kMetaFileName);
  NDS_ASSIGN_OR_RETURN(bool exists, fs->Exists(path));
  if (exists) return AlreadyExists(fmt::format("{} exists: a node identity is written once", path));
  return WriteFileAtomically(fs, data_dir, std::string(kMetaFileName), EncodeNodeMeta(meta));
}

Result<NodeMeta> ReadMetaFile(FileSystem* fs, const std::string& data_dir) {
  const std::string path = JoinPath(data_dir, kMetaFileName);
  auto bytes = ReadWholeFile(fs, path, kMetaFileBytesMax);
  if (!bytes.ok()) {
    if (bytes.status().code() == StatusCode::kResourceExhausted) {
      return Corruption(fmt::format("{}: larger than any node identity file", path));
    }
    return bytes.status();
  }
  return DecodeNodeMeta(*bytes, path);
}

}  // namespace nds::wal
