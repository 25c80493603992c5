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

Result<std::string> PointedName(const std::string& data_dir) {
  std::string path = JoinPath(data_dir, kPointerName);
  auto bytes = ReadWholeFile(DefaultFileSystem(), path, 512);
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

Result<std::string> CurrentEngineDir(const std::string& data_dir) {
  NDS_ASSIGN_OR_RETURN(std::string name, PointedName(data_dir));
  return JoinPath(data_dir, name);
}

Status SetCurrentEngineDir(const std::string& data_dir, const std::string& name) {
  if (!ValidName(name)) return InvalidArgument("bad engine directory name '" + name + "'");
  return WriteFileAtomically(DefaultFileSystem(), data_dir, kPointerName, name + "\n");
}

void RemoveStaleEngineDirs(const std::string& data_dir) {
  auto pointed = PointedName(data_dir);
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
