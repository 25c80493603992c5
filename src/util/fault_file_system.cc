// The in-memory, fault-injecting FileSystem: an inode tree with current and durable state.
#include "util/fault_file_system.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

namespace nds {

struct FaultFileSystem::Inode {
  bool is_dir = false;
  // Files: the bytes readers see, and the bytes that survive Crash().
  std::string data;
  std::string synced;
  // Directories: the names readers see, and the names that survive Crash().
  std::map<std::string, std::shared_ptr<Inode>> names;
  std::map<std::string, std::shared_ptr<Inode>> durable_names;
};

namespace {

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) parts.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

bool IsMutatingOpen(OpenMode mode) {
  return mode == OpenMode::kCreateExclusive || mode == OpenMode::kCreateTruncate;
}

}  // namespace

class FaultFileSystem::MemFile final : public File {
 public:
  MemFile(FaultFileSystem* fs, std::shared_ptr<Inode> inode, std::string path, uint64_t generation,
          bool writable)
      : fs_(fs),
        inode_(std::move(inode)),
        path_(std::move(path)),
        generation_(generation),
        writable_(writable) {}

  Status WriteAt(uint64_t offset, std::string_view data) override {
    MutexLock lock(fs_->mu_);
    if (Status s = Check(FileOp::kWrite, true); !s.ok()) {
      // A fault rule (not a crash or a freeze) failed it: maybe store a prefix, as a short write.
      bool by_rule = generation_ == fs_->generation_ && !fs_->frozen_ && writable_;
      uint64_t prefix = std::min<uint64_t>(fs_->failed_write_prefix_bytes_, data.size());
      if (by_rule && prefix > 0) Store(offset, data.substr(0, prefix));
      return s;
    }
    if (!writable_) return IoError(fmt::format("write to read-only {}", path_));
    uint64_t end = offset + data.size();
    uint64_t old_size = inode_->data.size();
    NDS_RETURN_IF_ERROR(fs_->CheckSpace(old_size, std::max(old_size, end)));
    Store(offset, data);
    return Status::Ok();
  }

  Result<size_t> ReadAt(uint64_t offset, size_t n, char* dst) const override {
    MutexLock lock(fs_->mu_);
    NDS_RETURN_IF_ERROR(Check(FileOp::kRead, false));
    const std::string& d = inode_->data;
    if (offset >= d.size()) return size_t{0};
    size_t count = std::min<uint64_t>(n, d.size() - offset);
    std::copy_n(d.data() + offset, count, dst);
    return count;
  }

  Status Sync() override {
    MutexLock lock(fs_->mu_);
    NDS_RETURN_IF_ERROR(Check(FileOp::kSync, true));
    inode_->synced = inode_->data;
    return Status::Ok();
  }

  Status Preallocate(uint64_t size_bytes) override {
    MutexLock lock(fs_->mu_);
    NDS_RETURN_IF_ERROR(Check(FileOp::kPreallocate, true));
    uint64_t old_size = inode_->data.size();
    if (size_bytes <= old_size) return Status::Ok();
    NDS_RETURN_IF_ERROR(fs_->CheckSpace(old_size, size_bytes));
    inode_->data.resize(size_bytes, '\0');
    return Status::Ok();
  }

  Status Truncate(uint64_t size_bytes) override {
    MutexLock lock(fs_->mu_);
    NDS_RETURN_IF_ERROR(Check(FileOp::kTruncate, true));
    uint64_t old_size = inode_->data.size();
    NDS_RETURN_IF_ERROR(fs_->CheckSpace(old_size, size_bytes));
    inode_->data.resize(size_bytes, '\0');
    return Status::Ok();
  }

  Result<uint64_t> Size() const override {
    MutexLock lock(fs_->mu_);
    NDS_RETURN_IF_ERROR(Check(FileOp::kSize, false));
    return static_cast<uint64_t>(inode_->data.size());
  }

  const std::string& path() const override { return path_; }

 private:
  void Store(uint64_t offset, std::string_view data) NDS_REQUIRES(fs_->mu_) {
    uint64_t end = offset + data.size();
    if (end > inode_->data.size()) inode_->data.resize(end, '\0');
    std::copy(data.begin(), data.end(), inode_->data.begin() + static_cast<ptrdiff_t>(offset));
  }

  Status Check(FileOp op, bool mutating) const NDS_REQUIRES(fs_->mu_) {
    if (generation_ != fs_->generation_) {
      return IoError(fmt::format("{} was opened before a simulated crash", path_));
    }
    return fs_->Admit(op, path_, mutating);
  }

  FaultFileSystem* const fs_;
  const std::shared_ptr<Inode> inode_;
  const std::string path_;
  const uint64_t generation_;
  const bool writable_;
};

FaultFileSystem::FaultFileSystem(uint64_t seed) : root_(std::make_shared<Inode>()), rng_(seed) {
  root_->is_dir = true;
}

FaultFileSystem::~FaultFileSystem() = default;

Status FaultFileSystem::Admit(FileOp op, const std::string& path, bool mutating) {
  if (frozen_) return IoError(fmt::format("{}: disk frozen by a simulated crash", path));
  if (mutating) {
    if (ops_until_freeze_ == 0) {
      frozen_ = true;
      return IoError(fmt::format("{}: disk frozen by a simulated crash", path));
    }
    if (ops_until_freeze_ != UINT64_MAX) --ops_until_freeze_;
    ++mutating_ops_;
  }
  for (Fault& f : faults_) {
    if (!f.any_op && f.op != op) continue;
    if (!f.path_contains.empty() && path.find(f.path_contains) == std::string::npos) continue;
    if (f.skip > 0) {
      --f.skip;
      continue;
    }
    if (f.times == 0) continue;
    --f.times;
    return Status(f.code, fmt::format("{}: injected fault", path));
  }
  return Status::Ok();
}

std::shared_ptr<FaultFileSystem::Inode> FaultFileSystem::Lookup(const std::string& path) const {
  std::shared_ptr<Inode> node = root_;
  for (const std::string& part : SplitPath(path)) {
    if (!node->is_dir) return nullptr;
    auto it = node->names.find(part);
    if (it == node->names.end()) return nullptr;
    node = it->second;
  }
  return node;
}

std::shared_ptr<FaultFileSystem::Inode> FaultFileSystem::Parent(const std::string& path,
                                                                std::string* name) const {
  std::vector<std::string> parts = SplitPath(path);
  if (parts.empty()) return nullptr;
  *name = parts.back();
  std::shared_ptr<Inode> node = root_;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    auto it = node->names.find(parts[i]);
    if (it == node->names.end() || !it->second->is_dir) return nullptr;
    node = it->second;
  }
  return node;
}

uint64_t FaultFileSystem::UsedBytes() const {
  uint64_t used = 0;
  std::vector<const Inode*> stack = {root_.get()};
  std::set<const Inode*> seen;
  while (!stack.empty()) {
    const Inode* n = stack.back();
    stack.pop_back();
    if (!seen.insert(n).second) continue;
    used += n->data.size();
    for (const auto& [name, child] : n->names) stack.push_back(child.get());
  }
  return used;
}

Status FaultFileSystem::CheckSpace(uint64_t old_size, uint64_t new_size) const {
  if (capacity_bytes_ == UINT64_MAX || new_size <= old_size) return Status::Ok();
  if (UsedBytes() + (new_size - old_size) > capacity_bytes_) {
    return NoSpace(fmt::format("simulated disk of {} bytes is full", capacity_bytes_));
  }
  return Status::Ok();
}

Result<std::unique_ptr<File>> FaultFileSystem::Open(const std::string& path, OpenMode mode) {
  MutexLock lock(mu_);
  NDS_RETURN_IF_ERROR(Admit(FileOp::kOpen, path, IsMutatingOpen(mode)));
  std::string name;
  std::shared_ptr<Inode> dir = Parent(path, &name);
  if (dir == nullptr) return NotFound(fmt::format("open {}: no parent directory", path));
  auto it = dir->names.find(name);
  std::shared_ptr<Inode> node = it == dir->names.end() ? nullptr : it->second;
  if (node != nullptr && node->is_dir) return IoError(fmt::format("open {}: a directory", path));
  switch (mode) {
    case OpenMode::kReadOnly:
    case OpenMode::kReadWrite:
      if (node == nullptr) return NotFound(fmt::format("open {}: no such file", path));
      break;
    case OpenMode::kCreateExclusive:
      if (node != nullptr) return AlreadyExists(fmt::format("open {}: exists", path));
      node = std::make_shared<Inode>();
      dir->names[name] = node;
      break;
    case OpenMode::kCreateTruncate:
      if (node == nullptr) {
        node = std::make_shared<Inode>();
        dir->names[name] = node;
      }
      node->data.clear();
      break;
  }
  return std::unique_ptr<File>(
      std::make_unique<MemFile>(this, node, path, generation_, mode != OpenMode::kReadOnly));
}

Status FaultFileSystem::Rename(const std::string& from, const std::string& to) {
  MutexLock lock(mu_);
  NDS_RETURN_IF_ERROR(Admit(FileOp::kRename, from, true));
  std::string from_name, to_name;
  std::shared_ptr<Inode> from_dir = Parent(from, &from_name);
  std::shared_ptr<Inode> to_dir = Parent(to, &to_name);
  if (from_dir == nullptr || !from_dir->names.contains(from_name)) {
    return NotFound(fmt::format("rename {}: no such file", from));
  }
  if (to_dir == nullptr) return NotFound(fmt::format("rename to {}: no parent directory", to));
  std::shared_ptr<Inode> node = from_dir->names[from_name];
  auto target = to_dir->names.find(to_name);
  if (target != to_dir->names.end() && target->second != node) {
    if (target->second->is_dir != node->is_dir) {
      return IoError(fmt::format("rename {} to {}: file and directory", from, to));
    }
    if (target->second->is_dir && !target->second->names.empty()) {
      return IoError(fmt::format("rename {} to {}: directory not empty", from, to));
    }
  }
  from_dir->names.erase(from_name);
  to_dir->names[to_name] = node;
  return Status::Ok();
}

Status FaultFileSystem::Remove(const std::string& path) {
  MutexLock lock(mu_);
  NDS_RETURN_IF_ERROR(Admit(FileOp::kRemove, path, true));
  std::string name;
  std::shared_ptr<Inode> dir = Parent(path, &name);
  if (dir == nullptr || !dir->names.contains(name)) {
    return NotFound(fmt::format("remove {}: no such file", path));
  }
  const std::shared_ptr<Inode>& node = dir->names[name];
  if (node->is_dir && !node->names.empty()) {
    return IoError(fmt::format("remove {}: directory not empty", path));
  }
  dir->names.erase(name);
  return Status::Ok();
}

Status FaultFileSystem::CreateDir(const std::string& path) {
  MutexLock lock(mu_);
  NDS_RETURN_IF_ERROR(Admit(FileOp::kCreateDir, path, true));
  std::string name;
  std::shared_ptr<Inode> dir = Parent(path, &name);
  if (dir == nullptr) return NotFound(fmt::format("mkdir {}: no parent directory", path));
  if (dir->names.contains(name)) return AlreadyExists(fmt::format("mkdir {}: exists", path));
  auto node = std::make_shared<Inode>();
  node->is_dir = true;
  dir->names[name] = node;
  return Status::Ok();
}

Result<std::vector<DirEntry>> FaultFileSystem::ListDir(const std::string& path) {
  MutexLock lock(mu_);
  NDS_RETURN_IF_ERROR(Admit(FileOp::kListDir, path, false));
  std::shared_ptr<Inode> dir = Lookup(path);
  if (dir == nullptr) return NotFound(fmt::format("list {}: no such directory", path));
  if (!dir->is_dir) return IoError(fmt::format("list {}: not a directory", path));
  std::vector<DirEntry> out;
  for (const auto& [name, node] : dir->names) out.push_back({name, node->is_dir});
  return out;  // std::map keeps names sorted
}

Status FaultFileSystem::SyncDir(const std::string& path) {
  MutexLock lock(mu_);
  NDS_RETURN_IF_ERROR(Admit(FileOp::kSyncDir, path, true));
  std::shared_ptr<Inode> dir = Lookup(path);
  if (dir == nullptr) return NotFound(fmt::format("sync {}: no such directory", path));
  if (!dir->is_dir) return IoError(fmt::format("sync {}: not a directory", path));
  dir->durable_names = dir->names;
  return Status::Ok();
}

Result<bool> FaultFileSystem::Exists(const std::string& path) {
  MutexLock lock(mu_);
  NDS_RETURN_IF_ERROR(Admit(FileOp::kExists, path, false));
  return Lookup(path) != nullptr;
}

Result<uint64_t> FaultFileSystem::FreeBytes(const std::string& path) {
  MutexLock lock(mu_);
  NDS_RETURN_IF_ERROR(Admit(FileOp::kFreeBytes, path, false));
  if (capacity_bytes_ == UINT64_MAX) return uint64_t{1} << 50;
  uint64_t used = UsedBytes();
  return used >= capacity_bytes_ ? 0 : capacity_bytes_ - used;
}

void FaultFileSystem::AddFault(Fault fault) {
  MutexLock lock(mu_);
  faults_.push_back(std::move(fault));
}

void FaultFileSystem::ClearFaults() {
  MutexLock lock(mu_);
  faults_.clear();
}

void FaultFileSystem::Crash() {
  MutexLock lock(mu_);
  ++generation_;
  faults_.clear();
  frozen_ = false;
  ops_until_freeze_ = UINT64_MAX;
  capacity_bytes_ = UINT64_MAX;
  // Walk what survives: names reachable through durable directory entries.
  std::vector<std::shared_ptr<Inode>> stack = {root_};
  std::set<Inode*> seen;
  while (!stack.empty()) {
    std::shared_ptr<Inode> n = stack.back();
    stack.pop_back();
    if (!seen.insert(n.get()).second) continue;
    if (n->is_dir) {
      n->names = n->durable_names;
      for (const auto& [name, child] : n->names) stack.push_back(child);
      continue;
    }
    if (n->data == n->synced) continue;
    std::string survived = n->synced;
    if (tear_on_crash_) {
      // Keep a random prefix of what was written since the last sync, over the durable bytes.
      size_t first_diff = 0;
      size_t common = std::min(n->data.size(), n->synced.size());
      while (first_diff < common && n->data[first_diff] == n->synced[first_diff]) ++first_diff;
      size_t unsynced = n->data.size() > first_diff ? n->data.size() - first_diff : 0;
      size_t keep = std::uniform_int_distribution<size_t>(0, unsynced)(rng_);
      if (survived.size() < first_diff + keep) survived.resize(first_diff + keep, '\0');
      std::copy_n(n->data.begin() + static_cast<ptrdiff_t>(first_diff), keep,
                  survived.begin() + static_cast<ptrdiff_t>(first_diff));
    }
    n->data = survived;
    n->synced = survived;
  }
}

void FaultFileSystem::SetTearOnCrash(bool on) {
  MutexLock lock(mu_);
  tear_on_crash_ = on;
}

void FaultFileSystem::SetCrashAfterOps(uint64_t ops) {
  MutexLock lock(mu_);
  ops_until_freeze_ = ops;
}

bool FaultFileSystem::frozen() const {
  MutexLock lock(mu_);
  return frozen_;
}

uint64_t FaultFileSystem::mutating_ops() const {
  MutexLock lock(mu_);
  return mutating_ops_;
}

void FaultFileSystem::SetFailedWritePrefixBytes(uint64_t prefix_bytes) {
  MutexLock lock(mu_);
  failed_write_prefix_bytes_ = prefix_bytes;
}

void FaultFileSystem::SetCapacityBytes(uint64_t bytes) {
  MutexLock lock(mu_);
  capacity_bytes_ = bytes;
}

Status FaultFileSystem::FlipBit(const std::string& path, uint64_t offset, int bit) {
  MutexLock lock(mu_);
  std::shared_ptr<Inode> n = Lookup(path);
  if (n == nullptr || n->is_dir) return NotFound(fmt::format("flip bit: no file {}", path));
  if (offset >= n->data.size() || bit < 0 || bit > 7) {
    return InvalidArgument(fmt::format("flip bit {} of byte {}: out of range", bit, offset));
  }
  n->data[offset] = static_cast<char>(n->data[offset] ^ (1 << bit));
  if (offset < n->synced.size()) {
    n->synced[offset] = static_cast<char>(n->synced[offset] ^ (1 << bit));
  }
  return Status::Ok();
}

Status FaultFileSystem::CutFile(const std::string& path, uint64_t size_bytes) {
  MutexLock lock(mu_);
  std::shared_ptr<Inode> n = Lookup(path);
  if (n == nullptr || n->is_dir) return NotFound(fmt::format("cut: no file {}", path));
  if (n->data.size() > size_bytes) n->data.resize(size_bytes);
  if (n->synced.size() > size_bytes) n->synced.resize(size_bytes);
  return Status::Ok();
}

Result<std::string> FaultFileSystem::Contents(const std::string& path) {
  MutexLock lock(mu_);
  std::shared_ptr<Inode> n = Lookup(path);
  if (n == nullptr || n->is_dir) return NotFound(fmt::format("no file {}", path));
  return n->data;
}

}  // namespace nds
