// Building, finding, verifying and pruning the snapshots in DIR/snap.
#include "wal/snapshot_store.h"

#include <algorithm>
#include <optional>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "util/crc32c.h"
#include "util/hex.h"
#include "util/thread_annotations.h"

namespace nds::wal {
namespace {

constexpr size_t kReadBlockBytes = 1 << 20;

std::optional<std::pair<LogIndex, Term>> ParseSnapshotName(std::string_view name) {
  if (name.size() != 33 || name[16] != '-') return std::nullopt;
  const std::optional<uint64_t> index = ParseLowerHex(name.substr(0, 16));
  const std::optional<uint64_t> term = ParseLowerHex(name.substr(17, 16));
  if (!index.has_value() || !term.has_value()) return std::nullopt;
  return std::make_pair(LogIndex(*index), Term(*term));
}

// Complete snapshot directories of `snap_dir`, newest first.
Result<std::vector<std::pair<std::pair<LogIndex, Term>, std::string>>> ListSnapshots(
    FileSystem* fs, const std::string& snap_dir) {
  NDS_ASSIGN_OR_RETURN(std::vector<DirEntry> entries, fs->ListDir(snap_dir));
  std::vector<std::pair<std::pair<LogIndex, Term>, std::string>> out;
  for (const DirEntry& e : entries) {
    auto id = ParseSnapshotName(e.name);
    if (id.has_value() && e.is_dir) out.push_back({*id, e.name});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  return out;
}

Result<StoredSnapshot> LoadSnapshot(FileSystem* fs, const std::string& snap_dir,
                                    const std::string& name, LogIndex index, Term term) {
  StoredSnapshot s;
  s.dir = JoinPath(snap_dir, name);
  s.checkpoint_dir = JoinPath(s.dir, kCheckpointDirName);
  const std::string meta_path = JoinPath(s.dir, kSnapshotMetaFileName);
  NDS_ASSIGN_OR_RETURN(std::string bytes, ReadWholeFile(fs, meta_path, kManifestBytesMax));
  auto manifest = DecodeManifest(bytes);
  if (!manifest.ok()) {
    return Status(manifest.status().code(),
                  fmt::format("{}: {}", meta_path, manifest.status().message()));
  }
  s.manifest = std::move(*manifest);
  if (s.manifest.meta.index != index || s.manifest.meta.term != term) {
    return Corruption(fmt::format("{}: describes index {} term {}, not its directory's", meta_path,
                                  s.manifest.meta.index, s.manifest.meta.term));
  }
  for (const SnapshotFile& f : s.manifest.files) {
    const std::string path = JoinPath(s.checkpoint_dir, f.path);
    auto file = fs->Open(path, OpenMode::kReadOnly);
    if (!file.ok()) return Corruption(fmt::format("{}: {}", path, file.status().message()));
    NDS_ASSIGN_OR_RETURN(uint64_t size, (*file)->Size());
    if (size != f.size_bytes) {
      return Corruption(
          fmt::format("{}: {} bytes, the metadata says {}", path, size, f.size_bytes));
    }
  }
  return s;
}

Result<std::optional<StoredSnapshot>> FindNewest(FileSystem* fs, const std::string& snap_dir) {
  NDS_ASSIGN_OR_RETURN(bool exists, fs->Exists(snap_dir));
  if (!exists) return std::optional<StoredSnapshot>();
  NDS_ASSIGN_OR_RETURN(auto list, ListSnapshots(fs, snap_dir));
  for (const auto& [id, name] : list) {
    auto s = LoadSnapshot(fs, snap_dir, name, id.first, id.second);
    if (s.ok()) return std::optional<StoredSnapshot>(std::move(*s));
    if (s.status().code() == StatusCode::kIoError) return s.status();
    spdlog::warn("{}: skipping invalid snapshot {}: {}", snap_dir, name, s.status().ToString());
  }
  return std::optional<StoredSnapshot>();
}

Status ListFilesInto(FileSystem* fs, const std::string& dir, const std::string& rel, int depth,
                     std::vector<SnapshotFile>* out) {
  if (depth > kSnapshotDirDepthMax) {
    return ResourceExhausted(fmt::format("{}: checkpoint nested too deeply", dir));
  }
  NDS_ASSIGN_OR_RETURN(std::vector<DirEntry> entries, fs->ListDir(dir));
  std::string block;
  for (const DirEntry& e : entries) {
    const std::string path = JoinPath(dir, e.name);
    const std::string rel_path = rel.empty() ? e.name : rel + "/" + e.name;
    if (e.is_dir) {
      NDS_RETURN_IF_ERROR(ListFilesInto(fs, path, rel_path, depth + 1, out));
      continue;
    }
    if (out->size() >= kSnapshotFilesMax) {
      return ResourceExhausted(fmt::format("{}: more than {} files", dir, kSnapshotFilesMax));
    }
    NDS_RETURN_IF_ERROR(ValidateSnapshotPath(rel_path));
    NDS_ASSIGN_OR_RETURN(auto file, fs->Open(path, OpenMode::kReadOnly));
    SnapshotFile f{rel_path, 0, 0};
    block.resize(kReadBlockBytes);
    while (true) {
      NDS_ASSIGN_OR_RETURN(size_t n, file->ReadAt(f.size_bytes, block.size(), block.data()));
      if (n == 0) break;
      f.crc = crc32c::Extend(f.crc, block.data(), n);
      f.size_bytes += n;
    }
    NDS_RETURN_IF_ERROR(file->Sync());
    out->push_back(std::move(f));
  }
  return fs->SyncDir(dir);
}

}  // namespace

Result<raft::SnapshotMetadata> NewestSnapshotMetadata(FileSystem* fs, const std::string& snap_dir) {
  NDS_ASSIGN_OR_RETURN(auto found, FindNewest(fs, snap_dir));
  if (!found.has_value()) return raft::SnapshotMetadata{};
  return found->manifest.meta;
}

Result<std::vector<SnapshotFile>> SyncAndListFiles(FileSystem* fs, const std::string& dir) {
  std::vector<SnapshotFile> files;
  NDS_RETURN_IF_ERROR(ListFilesInto(fs, dir, "", 0, &files));
  std::sort(files.begin(), files.end(),
            [](const SnapshotFile& a, const SnapshotFile& b) { return a.path < b.path; });
  return files;
}

Status SealSnapshot(FileSystem* fs, const std::string& snap_dir, const std::string& tmp_dir,
                    const SnapshotManifest& manifest) {
  {
    NDS_ASSIGN_OR_RETURN(
        auto file, fs->Open(JoinPath(tmp_dir, kSnapshotMetaFileName), OpenMode::kCreateTruncate));
    NDS_RETURN_IF_ERROR(file->WriteAt(0, EncodeManifest(manifest)));
    NDS_RETURN_IF_ERROR(file->Sync());
  }
  NDS_RETURN_IF_ERROR(fs->SyncDir(tmp_dir));
  const std::string final_dir =
      JoinPath(snap_dir, SnapshotStore::SnapshotName(manifest.meta.index, manifest.meta.term));
  NDS_ASSIGN_OR_RETURN(bool taken, fs->Exists(final_dir));
  if (taken) return AlreadyExists(fmt::format("{} exists", final_dir));
  NDS_RETURN_IF_ERROR(fs->Rename(tmp_dir, final_dir));
  return fs->SyncDir(snap_dir);
}

std::string SnapshotStore::SnapshotName(LogIndex index, Term term) {
  return fmt::format("{:016x}-{:016x}", index.value, term.value);
}

Result<std::unique_ptr<SnapshotStore>> SnapshotStore::Open(FileSystem* fs, std::string snap_dir,
                                                           const SnapshotStoreOptions& options) {
  if (options.snapshots_retained < 1) {
    return InvalidArgument("snapshots_retained must be at least 1");
  }
  NDS_RETURN_IF_ERROR(EnsureDir(fs, snap_dir));
  NDS_RETURN_IF_ERROR(fs->SyncDir(DirName(snap_dir)));
  NDS_ASSIGN_OR_RETURN(std::vector<DirEntry> entries, fs->ListDir(snap_dir));
  for (const DirEntry& e : entries) {
    if (e.name.starts_with(kSnapshotTmpPrefix)) {
      NDS_RETURN_IF_ERROR(RemoveRecursively(fs, JoinPath(snap_dir, e.name)));
    }
  }
  // Also makes durable a rename into place whose directory sync a dead process never did.
  NDS_RETURN_IF_ERROR(fs->SyncDir(snap_dir));
  return std::unique_ptr<SnapshotStore>(new SnapshotStore(fs, std::move(snap_dir), options));
}

Status SnapshotStore::Create(const raft::SnapshotMetadata& meta,
                             const CheckpointWriter& write_checkpoint) {
  const std::string name = SnapshotName(meta.index, meta.term);
  NDS_ASSIGN_OR_RETURN(bool exists, fs_->Exists(JoinPath(snap_dir_, name)));
  if (exists) return AlreadyExists(fmt::format("snapshot {} exists", name));
  NDS_ASSIGN_OR_RETURN(const std::string tmp, MakeTmpDir(name));
  auto build = [&]() -> Status {
    const std::string data = JoinPath(tmp, kCheckpointDirName);
    NDS_RETURN_IF_ERROR(write_checkpoint(data));
    NDS_RETURN_IF_ERROR(EnsureDir(fs_, data));
    SnapshotManifest manifest;
    manifest.meta = meta;
    NDS_ASSIGN_OR_RETURN(manifest.files, SyncAndListFiles(fs_, data));
    return SealSnapshot(fs_, snap_dir_, tmp, manifest);
  };
  Status s = build();
  if (!s.ok()) {
    IgnoreError(RemoveRecursively(fs_, tmp), "best effort: Open() removes tmp dirs");
    return s;
  }
  return Prune();
}

Result<StoredSnapshot> SnapshotStore::Newest() const {
  NDS_ASSIGN_OR_RETURN(auto found, FindNewest(fs_, snap_dir_));
  if (!found.has_value()) return NotFound(fmt::format("{}: no valid snapshot", snap_dir_));
  return std::move(*found);
}

Status SnapshotStore::Verify(const StoredSnapshot& snap) const {
  std::string block(kReadBlockBytes, '\0');
  for (const SnapshotFile& f : snap.manifest.files) {
    const std::string path = JoinPath(snap.checkpoint_dir, f.path);
    NDS_ASSIGN_OR_RETURN(auto file, fs_->Open(path, OpenMode::kReadOnly));
    uint32_t crc = 0;
    uint64_t size = 0;
    while (true) {
      NDS_ASSIGN_OR_RETURN(size_t n, file->ReadAt(size, block.size(), block.data()));
      if (n == 0) break;
      crc = crc32c::Extend(crc, block.data(), n);
      size += n;
    }
    if (size != f.size_bytes || crc != f.crc) {
      return Corruption(fmt::format("{}: size {} CRC {:08x}, the metadata says size {} CRC {:08x}",
                                    path, size, crc, f.size_bytes, f.crc));
    }
  }
  return Status::Ok();
}

Result<std::string> SnapshotStore::MakeTmpDir(std::string_view tag) {
  const std::string tmp =
      JoinPath(snap_dir_, fmt::format("{}{}-{}", kSnapshotTmpPrefix, tag, tmp_counter_++));
  NDS_RETURN_IF_ERROR(RemoveRecursively(fs_, tmp));
  NDS_RETURN_IF_ERROR(fs_->CreateDir(tmp));
  return tmp;
}

Status SnapshotStore::Prune() { return PruneDir(fs_, snap_dir_, options_.snapshots_retained); }

Status SnapshotStore::PruneDir(FileSystem* fs, const std::string& snap_dir,
                               int snapshots_retained) {
  // A node prunes on its loop (a snapshot received) and off it (one of its own made): one at a
  // time, so that neither finds a directory the other is removing.
  static Mutex prune_mu;
  MutexLock lock(prune_mu);
  NDS_ASSIGN_OR_RETURN(auto list, ListSnapshots(fs, snap_dir));
  bool removed = false;
  for (size_t i = static_cast<size_t>(std::max(snapshots_retained, 1)); i < list.size(); ++i) {
    NDS_RETURN_IF_ERROR(RemoveRecursively(fs, JoinPath(snap_dir, list[i].second)));
    removed = true;
  }
  if (removed) NDS_RETURN_IF_ERROR(fs->SyncDir(snap_dir));
  return Status::Ok();
}

}  // namespace nds::wal
