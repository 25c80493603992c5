// Encoding and validation of the snapshot metadata file (docs/formats/snapshot.md).
#include "wal/snapshot_manifest.h"

#include <set>

#include <fmt/format.h>

#include "util/coding.h"
#include "util/crc32c.h"

namespace nds::wal {
namespace {

void PutIds(std::string* out, const std::vector<NodeId>& ids) {
  PutVarint64(out, ids.size());
  for (NodeId id : ids) PutVarint64(out, id.value);
}

Result<std::vector<NodeId>> GetIds(Decoder* d) {
  NDS_ASSIGN_OR_RETURN(uint64_t n, d->Varint64());
  if (n > kConfStateIdsMax) {
    return InvalidArgument(
        fmt::format("snapshot metadata: {} node ids, more than {}", n, kConfStateIdsMax));
  }
  std::vector<NodeId> ids;
  ids.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    NDS_ASSIGN_OR_RETURN(uint64_t v, d->Varint64());
    ids.emplace_back(v);
  }
  return ids;
}

Result<SnapshotManifest> DecodeBody(Decoder* d) {
  SnapshotManifest m;
  NDS_ASSIGN_OR_RETURN(m.meta.index.value, d->Varint64());
  NDS_ASSIGN_OR_RETURN(m.meta.term.value, d->Varint64());
  raft::ConfState& cs = m.meta.conf_state;
  NDS_ASSIGN_OR_RETURN(cs.voters, GetIds(d));
  NDS_ASSIGN_OR_RETURN(cs.learners, GetIds(d));
  NDS_ASSIGN_OR_RETURN(cs.voters_outgoing, GetIds(d));
  NDS_ASSIGN_OR_RETURN(cs.learners_next, GetIds(d));
  NDS_ASSIGN_OR_RETURN(std::string_view auto_leave, d->Bytes(1));
  if (auto_leave[0] != 0 && auto_leave[0] != 1) {
    return Corruption("snapshot metadata: bad auto_leave flag");
  }
  cs.auto_leave = auto_leave[0] == 1;
  NDS_ASSIGN_OR_RETURN(uint64_t count, d->Varint64());
  if (count > kSnapshotFilesMax) {
    return InvalidArgument(
        fmt::format("snapshot manifest lists {} files, more than {}", count, kSnapshotFilesMax));
  }
  std::set<std::string_view> seen;
  for (uint64_t i = 0; i < count; ++i) {
    SnapshotFile f;
    NDS_ASSIGN_OR_RETURN(std::string_view path, d->LengthPrefixed());
    NDS_RETURN_IF_ERROR(ValidateSnapshotPath(path));
    if (!seen.insert(path).second) {
      return InvalidArgument(
          fmt::format("snapshot manifest lists a path of {} bytes twice", path.size()));
    }
    f.path.assign(path);
    NDS_ASSIGN_OR_RETURN(f.size_bytes, d->Varint64());
    NDS_ASSIGN_OR_RETURN(f.crc, d->Fixed32());
    m.files.push_back(std::move(f));
  }
  if (!d->done()) return Corruption("snapshot metadata: trailing bytes");
  return m;
}

}  // namespace

uint64_t SnapshotManifest::DataBytes() const {
  uint64_t sum = 0;
  for (const SnapshotFile& f : files) sum += f.size_bytes;
  return sum;
}

std::string EncodeManifest(const SnapshotManifest& m) {
  std::string out(kSnapshotMagic);
  PutFixed32(&out, kSnapshotFormatVersion);
  PutVarint64(&out, m.meta.index.value);
  PutVarint64(&out, m.meta.term.value);
  const raft::ConfState& cs = m.meta.conf_state;
  PutIds(&out, cs.voters);
  PutIds(&out, cs.learners);
  PutIds(&out, cs.voters_outgoing);
  PutIds(&out, cs.learners_next);
  out.push_back(cs.auto_leave ? 1 : 0);
  PutVarint64(&out, m.files.size());
  for (const SnapshotFile& f : m.files) {
    PutLengthPrefixed(&out, f.path);
    PutVarint64(&out, f.size_bytes);
    PutFixed32(&out, f.crc);
  }
  PutFixed32(&out, crc32c::Value(out));
  return out;
}

Result<SnapshotManifest> DecodeManifest(std::string_view bytes) {
  if (bytes.size() < kSnapshotMagic.size() + 8 || bytes.substr(0, 8) != kSnapshotMagic) {
    return Corruption("snapshot metadata: not an nds snapshot metadata file");
  }
  if (bytes.size() > kManifestBytesMax) {
    return InvalidArgument(fmt::format("snapshot metadata of {} bytes, more than {}", bytes.size(),
                                       kManifestBytesMax));
  }
  std::string_view body = bytes.substr(0, bytes.size() - 4);
  if (crc32c::Value(body) != DecodeFixed32(bytes.data() + body.size())) {
    return Corruption("snapshot metadata: CRC mismatch");
  }
  uint32_t version = DecodeFixed32(bytes.data() + 8);
  if (version != kSnapshotFormatVersion) {
    return FailedPrecondition(
        fmt::format("snapshot metadata: format version {}, this build reads only {}", version,
                    kSnapshotFormatVersion));
  }
  Decoder d(body.substr(12));
  auto m = DecodeBody(&d);
  if (!m.ok() && m.status().code() != StatusCode::kInvalidArgument &&
      m.status().code() != StatusCode::kCorruption) {
    return Corruption("snapshot metadata: " + m.status().message());
  }
  return m;
}

Status ValidateSnapshotPath(std::string_view path) {
  if (path.empty() || path.size() > kSnapshotPathBytesMax) {
    return InvalidArgument(fmt::format("snapshot file path of {} bytes", path.size()));
  }
  if (path.front() == '/') return InvalidArgument("snapshot file path is absolute");
  int depth = 0;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view part = path.substr(i, j - i);
    if (part.empty() || part == "." || part == ".." || part.find('\0') != std::string_view::npos) {
      return InvalidArgument("snapshot file path has an empty, '.' or '..' component");
    }
    if (++depth > kSnapshotDirDepthMax) return InvalidArgument("snapshot file path too deep");
    i = j + 1;
  }
  return Status::Ok();
}

}  // namespace nds::wal
