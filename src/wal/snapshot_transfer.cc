// The chunked snapshot stream: SnapshotReader (sender side) and SnapshotReceiver.
#include "wal/snapshot_transfer.h"

#include <algorithm>

#include <fmt/format.h>

#include "util/coding.h"
#include "util/crc32c.h"

namespace nds::wal {
namespace {

constexpr uint64_t kHeadLengthBytes = 8;

Status FileCrcMismatch(const std::string& path, uint32_t got, uint32_t want) {
  return Corruption(fmt::format("{}: CRC {:08x}, the manifest says {:08x}", path, got, want));
}

}  // namespace

SnapshotReader::SnapshotReader(FileSystem* fs, StoredSnapshot snapshot, uint64_t chunk_bytes_max)
    : fs_(fs), snapshot_(std::move(snapshot)), chunk_bytes_max_(chunk_bytes_max) {
  std::string manifest = EncodeManifest(snapshot_.manifest);
  PutFixed64(&head_, manifest.size());
  head_ += manifest;
  total_bytes_ = head_.size() + snapshot_.manifest.DataBytes();
}

Result<std::unique_ptr<SnapshotReader>> SnapshotReader::Open(FileSystem* fs,
                                                             StoredSnapshot snapshot,
                                                             uint64_t chunk_bytes_max) {
  if (chunk_bytes_max == 0) return InvalidArgument("snapshot chunk size must be positive");
  return std::unique_ptr<SnapshotReader>(
      new SnapshotReader(fs, std::move(snapshot), chunk_bytes_max));
}

Result<SnapshotChunk> SnapshotReader::Next() {
  if (done()) return FailedPrecondition("snapshot stream already fully read");
  started_ = true;
  SnapshotChunk chunk;
  chunk.index = snapshot_.manifest.meta.index;
  chunk.term = snapshot_.manifest.meta.term;
  chunk.offset = offset_;
  chunk.total_bytes = total_bytes_;
  uint64_t n = std::min(chunk_bytes_max_, total_bytes_ - offset_);
  if (offset_ < head_.size()) {
    uint64_t from_head = std::min<uint64_t>(n, head_.size() - offset_);
    chunk.data.append(head_, offset_, from_head);
    n -= from_head;
  }
  NDS_RETURN_IF_ERROR(FillFromFiles(n, &chunk.data));
  offset_ += chunk.data.size();
  return chunk;
}

Status SnapshotReader::SkipTo(uint64_t offset) {
  if (offset < offset_ || offset > total_bytes_) {
    return InvalidArgument(fmt::format("cannot resume a snapshot stream of {} bytes at {} from {}",
                                       total_bytes_, offset, offset_));
  }
  started_ = true;
  std::string scratch;
  while (offset_ < offset) {
    uint64_t n = std::min(chunk_bytes_max_, offset - offset_);
    scratch.clear();
    if (offset_ < head_.size()) {
      uint64_t from_head = std::min<uint64_t>(n, head_.size() - offset_);
      offset_ += from_head;
      n -= from_head;
    }
    NDS_RETURN_IF_ERROR(FillFromFiles(n, &scratch));
    if (scratch.size() != n) return Corruption("snapshot files shorter than the stream's length");
    offset_ += scratch.size();
  }
  return Status::Ok();
}

Status SnapshotReader::FillFromFiles(uint64_t n, std::string* out) {
  const auto& files = snapshot_.manifest.files;
  while (file_index_ < files.size()) {
    const SnapshotFile& f = files[file_index_];
    const std::string path = JoinPath(snapshot_.checkpoint_dir, f.path);
    if (file_offset_ == f.size_bytes) {
      // The whole file was read: its CRC must match before anything more is sent.
      if (file_crc_ != f.crc) return FileCrcMismatch(path, file_crc_, f.crc);
      file_.reset();
      ++file_index_;
      file_offset_ = 0;
      file_crc_ = 0;
      continue;
    }
    if (n == 0) break;
    if (file_ == nullptr) {
      NDS_ASSIGN_OR_RETURN(file_, fs_->Open(path, OpenMode::kReadOnly));
    }
    uint64_t want = std::min(n, f.size_bytes - file_offset_);
    size_t start = out->size();
    out->resize(start + want);
    NDS_ASSIGN_OR_RETURN(size_t got, file_->ReadAt(file_offset_, want, out->data() + start));
    if (got != want) {
      return Corruption(
          fmt::format("{}: shorter than the {} bytes the manifest says", path, f.size_bytes));
    }
    file_crc_ = crc32c::Extend(file_crc_, out->data() + start, got);
    file_offset_ += got;
    n -= got;
  }
  return Status::Ok();
}

SnapshotReceiver::SnapshotReceiver(SnapshotStore* store, const SnapshotReceiverOptions& options,
                                   std::string tmp_dir)
    : store_(store), options_(options), tmp_dir_(std::move(tmp_dir)) {}

SnapshotReceiver::~SnapshotReceiver() {
  if (finished_) return;
  file_.reset();
  IgnoreError(RemoveRecursively(store_->fs(), tmp_dir_),
              "best effort: SnapshotStore::Open() removes leftover tmp dirs");
}

Result<std::unique_ptr<SnapshotReceiver>> SnapshotReceiver::Start(
    SnapshotStore* store, const SnapshotReceiverOptions& options) {
  if (options.chunk_bytes_max == 0) return InvalidArgument("snapshot chunk size must be positive");
  NDS_ASSIGN_OR_RETURN(std::string tmp, store->MakeTmpDir("recv"));
  NDS_RETURN_IF_ERROR(store->fs()->CreateDir(JoinPath(tmp, kCheckpointDirName)));
  return std::unique_ptr<SnapshotReceiver>(new SnapshotReceiver(store, options, std::move(tmp)));
}

Status SnapshotReceiver::Die(Status s) {
  dead_ = std::move(s);
  file_.reset();
  return dead_;
}

Status SnapshotReceiver::Accept(const SnapshotChunk& chunk) {
  NDS_RETURN_IF_ERROR(dead_);
  if (finished_) return FailedPrecondition("snapshot already sealed");
  if (chunk.data.size() > options_.chunk_bytes_max) {
    return Die(InvalidArgument(fmt::format("snapshot chunk of {} bytes exceeds the limit of {}",
                                           chunk.data.size(), options_.chunk_bytes_max)));
  }
  if (!started_) {
    if (chunk.offset != 0) {
      return Die(InvalidArgument(fmt::format("first snapshot chunk at offset {}", chunk.offset)));
    }
    if (chunk.total_bytes > options_.total_bytes_max) {
      return Die(ResourceExhausted(fmt::format("snapshot of {} bytes exceeds the limit of {}",
                                               chunk.total_bytes, options_.total_bytes_max)));
    }
    started_ = true;
    index_ = chunk.index;
    term_ = chunk.term;
    total_bytes_ = chunk.total_bytes;
  } else if (chunk.index != index_ || chunk.term != term_ || chunk.total_bytes != total_bytes_) {
    return Die(InvalidArgument(
        fmt::format("chunk of snapshot ({}, {}) of {} bytes inside snapshot ({}, {}) of {} bytes",
                    chunk.index, chunk.term, chunk.total_bytes, index_, term_, total_bytes_)));
  } else if (chunk.offset != offset_) {
    return Die(InvalidArgument(
        fmt::format("snapshot chunk at offset {}, expected {}", chunk.offset, offset_)));
  }
  if (chunk.data.empty() || chunk.data.size() > total_bytes_ - offset_) {
    return Die(
        InvalidArgument(fmt::format("snapshot chunk of {} bytes at offset {} in a stream of {}",
                                    chunk.data.size(), chunk.offset, total_bytes_)));
  }
  if (Status s = AcceptBytes(chunk.data); !s.ok()) return Die(std::move(s));
  offset_ += chunk.data.size();
  if (complete() && (!have_manifest_ || file_index_ != manifest_.files.size())) {
    return Die(InvalidArgument("snapshot stream ended before its files"));
  }
  return Status::Ok();
}

Status SnapshotReceiver::AcceptBytes(std::string_view data) {
  while (!data.empty()) {
    if (have_manifest_) return WriteFileBytes(data);
    uint64_t want = head_.size() < kHeadLengthBytes
                        ? kHeadLengthBytes - head_.size()
                        : kHeadLengthBytes + manifest_bytes_ - head_.size();
    uint64_t take = std::min<uint64_t>(want, data.size());
    head_.append(data.substr(0, take));
    data.remove_prefix(take);
    if (head_.size() == kHeadLengthBytes) {
      manifest_bytes_ = DecodeFixed64(head_.data());
      if (manifest_bytes_ < 16 || manifest_bytes_ > kManifestBytesMax) {
        return InvalidArgument(fmt::format("snapshot metadata of {} bytes", manifest_bytes_));
      }
    } else if (head_.size() == kHeadLengthBytes + manifest_bytes_) {
      NDS_RETURN_IF_ERROR(TakeManifest());
    }
  }
  return Status::Ok();
}

Status SnapshotReceiver::TakeManifest() {
  NDS_ASSIGN_OR_RETURN(manifest_, DecodeManifest(std::string_view(head_).substr(kHeadLengthBytes)));
  have_manifest_ = true;
  if (manifest_.meta.index != index_ || manifest_.meta.term != term_) {
    return InvalidArgument(fmt::format("snapshot metadata names ({}, {}), the chunks ({}, {})",
                                       manifest_.meta.index, manifest_.meta.term, index_, term_));
  }
  uint64_t data_bytes = 0;
  for (const SnapshotFile& f : manifest_.files) {
    if (f.size_bytes > total_bytes_ || data_bytes + f.size_bytes > total_bytes_) {
      return InvalidArgument("snapshot manifest sizes exceed the stream");
    }
    data_bytes += f.size_bytes;
  }
  if (head_.size() + data_bytes != total_bytes_) {
    return InvalidArgument(fmt::format("snapshot stream of {} bytes, its manifest adds up to {}",
                                       total_bytes_, head_.size() + data_bytes));
  }
  FileSystem* fs = store_->fs();
  const std::string data_dir = JoinPath(tmp_dir_, kCheckpointDirName);
  for (const SnapshotFile& f : manifest_.files) {
    for (size_t slash = f.path.find('/'); slash != std::string::npos;
         slash = f.path.find('/', slash + 1)) {
      NDS_RETURN_IF_ERROR(EnsureDir(fs, JoinPath(data_dir, f.path.substr(0, slash))));
    }
  }
  return OpenNextFile();
}

Status SnapshotReceiver::OpenNextFile() {
  FileSystem* fs = store_->fs();
  const std::string data_dir = JoinPath(tmp_dir_, kCheckpointDirName);
  while (file_index_ < manifest_.files.size()) {
    const SnapshotFile& f = manifest_.files[file_index_];
    NDS_ASSIGN_OR_RETURN(file_, fs->Open(JoinPath(data_dir, f.path), OpenMode::kCreateExclusive));
    file_offset_ = 0;
    file_crc_ = 0;
    if (f.size_bytes > 0) return Status::Ok();
    if (f.crc != 0) return FileCrcMismatch(file_->path(), 0, f.crc);
    NDS_RETURN_IF_ERROR(file_->Sync());
    file_.reset();
    ++file_index_;
  }
  return Status::Ok();
}

Status SnapshotReceiver::WriteFileBytes(std::string_view data) {
  while (!data.empty()) {
    if (file_index_ >= manifest_.files.size()) {
      return InvalidArgument("snapshot stream has bytes after its last file");
    }
    const SnapshotFile& f = manifest_.files[file_index_];
    uint64_t n = std::min<uint64_t>(f.size_bytes - file_offset_, data.size());
    NDS_RETURN_IF_ERROR(file_->WriteAt(file_offset_, data.substr(0, n)));
    file_crc_ = crc32c::Extend(file_crc_, data.data(), n);
    file_offset_ += n;
    data.remove_prefix(n);
    if (file_offset_ == f.size_bytes) {
      if (file_crc_ != f.crc) return FileCrcMismatch(file_->path(), file_crc_, f.crc);
      NDS_RETURN_IF_ERROR(file_->Sync());
      file_.reset();
      ++file_index_;
      NDS_RETURN_IF_ERROR(OpenNextFile());
    }
  }
  return Status::Ok();
}

Result<StoredSnapshot> SnapshotReceiver::Finish() {
  NDS_RETURN_IF_ERROR(dead_);
  if (!complete()) {
    return FailedPrecondition(
        fmt::format("snapshot incomplete: {} of {} bytes received", offset_, total_bytes_));
  }
  FileSystem* fs = store_->fs();
  const std::string data_dir = JoinPath(tmp_dir_, kCheckpointDirName);
  // Read everything back: what is sealed must be exactly what the manifest describes.
  NDS_ASSIGN_OR_RETURN(std::vector<SnapshotFile> on_disk, SyncAndListFiles(fs, data_dir));
  std::vector<SnapshotFile> want = manifest_.files;
  std::sort(want.begin(), want.end(),
            [](const SnapshotFile& a, const SnapshotFile& b) { return a.path < b.path; });
  if (on_disk != want) {
    return Die(Corruption(fmt::format("{}: received files do not match the manifest", tmp_dir_)));
  }
  if (Status s = SealSnapshot(fs, store_->dir(), tmp_dir_, manifest_); !s.ok()) return Die(s);
  finished_ = true;
  StoredSnapshot out;
  out.manifest = manifest_;
  out.dir = JoinPath(store_->dir(), SnapshotStore::SnapshotName(index_, term_));
  out.checkpoint_dir = JoinPath(out.dir, kCheckpointDirName);
  NDS_RETURN_IF_ERROR(store_->Prune());
  return out;
}

}  // namespace nds::wal
