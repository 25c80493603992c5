// POSIX durability helpers for the engines (engine/file_util.h).
#include "engine/file_util.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <string_view>
#include <unistd.h>

#include <fmt/format.h>

namespace nds::engine {

Status ErrnoStatus(int err, std::string_view what, std::string_view path) {
  std::string msg = fmt::format("{} {}: {}", what, path, std::strerror(err));
  if (err == ENOSPC || err == EDQUOT) return NoSpace(std::move(msg));
  return IoError(std::move(msg));
}

Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open directory", dir);
  Status status;
  if (::fsync(fd) != 0) status = ErrnoStatus(errno, "fsync directory", dir);
  if (::close(fd) != 0 && status.ok()) status = ErrnoStatus(errno, "close directory", dir);
  return status;
}

std::string ParentDir(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

}  // namespace nds::engine
