#include "node/engine_dir.h"

#include <filesystem>

#include <spdlog/spdlog.h>

#include "util/file_system.h"

namespace nds::node {
namespace {

constexpr const char* kPointerName = "ENGINE";
constexpr const char* kFirstEngineName = "engine";

bool ValidName(const std::string& name) {
  return !name.empty() && name.size() < 256 && name.find('/') == std::string::npos &&
         name[0] != '.';
}

Result<std::string> PointedName(const std::string& data_dir, FileSystem* fs) {
  std::string path = JoinPath(data_dir, kPointerName);
  auto bytes = ReadWholeFile(fs, path, 512);
  if (!bytes.ok()) {
    if (bytes.status().code() == StatusCode::kNotFound) return std::string(kFirstEngineName);
    return bytes.status();
  }
  std::string name = *bytes;
  while (!name.empty() && name.back() == '\n') name.pop_back();
  if (!ValidName(name)) return Corruption(path + " names no valid engine directory");
  return name;
}

}  // namespace

Result<std::string> CurrentEngineDir(const std::string& data_dir, FileSystem* fs) {
  NDS_ASSIGN_OR_RETURN(std::string name, PointedName(data_dir, fs));
  return JoinPath(data_dir, name);
}

Status SetCurrentEngineDir(const std::string& data_dir, const std::string& name, FileSystem* fs) {
  if (!ValidName(name)) return InvalidArgument("bad engine directory name '" + name + "'");
  return WriteFileAtomically(fs, data_dir, kPointerName, name + "\n");
}

namespace {

// Engine checkpoints are flat (RocksDB) or one file (memory); a little depth is room enough.
constexpr int kCopyDirDepthMax = 4;
constexpr size_t kCopyChunkBytes = 1 << 20;

Status CopyFile(FileSystem* fs, const std::string& from, const std::string& to) {
  NDS_ASSIGN_OR_RETURN(auto in, fs->Open(from, OpenMode::kReadOnly));
  NDS_ASSIGN_OR_RETURN(auto out, fs->Open(to, OpenMode::kCreateExclusive));
  std::string buf(kCopyChunkBytes, '\0');
  for (uint64_t offset = 0;;) {
    NDS_ASSIGN_OR_RETURN(size_t n, in->ReadAt(offset, buf.size(), buf.data()));
    if (n == 0) return Status::Ok();
    NDS_RETURN_IF_ERROR(out->WriteAt(offset, std::string_view(buf.data(), n)));
    offset += n;
  }
}

Status CopyTree(FileSystem* fs, const std::string& from, const std::string& to, int depth) {
  if (depth > kCopyDirDepthMax) return ResourceExhausted(from + " is nested too deep to copy");
  NDS_RETURN_IF_ERROR(fs->CreateDir(to));
  NDS_ASSIGN_OR_RETURN(auto entries, fs->ListDir(from));
  for (const DirEntry& e : entries) {
    const std::string src = JoinPath(from, e.name);
    const std::string dst = JoinPath(to, e.name);
    NDS_RETURN_IF_ERROR(e.is_dir ? CopyTree(fs, src, dst, depth + 1) : CopyFile(fs, src, dst));
  }
  return Status::Ok();
}

}  // namespace

Status CopyDir(FileSystem* fs, const std::string& from, const std::string& to) {
  return CopyTree(fs, from, to, 0);
}

void RemoveStaleEngineDirs(const std::string& data_dir) {
  auto pointed = PointedName(data_dir, DefaultFileSystem());
  if (!pointed.ok()) return;
  const std::string& current = *pointed;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(data_dir, ec)) {
    std::string name = entry.path().filename().string();
    if (!name.starts_with(kFirstEngineName) || name == current || !entry.is_directory()) continue;
    std::error_code rm;
    std::filesystem::remove_all(entry.path(), rm);
    if (rm) spdlog::warn("cannot remove the old engine directory {}: {}", name, rm.message());
  }
}

}  // namespace nds::node
