// PosixFileSystem (open/pread/pwrite/fdatasync/posix_fallocate/rename/fsync of directories) and
// the small helpers shared by every FileSystem user.
#include "util/file_system.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>

namespace nds {
namespace {

Status ErrnoStatus(int err, std::string_view op, const std::string& path) {
  std::string msg = fmt::format("{} {}: {}", op, path, std::strerror(err));
  switch (err) {
    case ENOENT:
      return NotFound(std::move(msg));
    case EEXIST:
      return AlreadyExists(std::move(msg));
    case ENOSPC:
    case EDQUOT:
      return NoSpace(std::move(msg));
    default:
      return IoError(std::move(msg));
  }
}

class PosixFile final : public File {
 public:
  PosixFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixFile() override { ::close(fd_); }
  PosixFile(const PosixFile&) = delete;
  PosixFile& operator=(const PosixFile&) = delete;

  Status WriteAt(uint64_t offset, std::string_view data) override {
    const char* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      ssize_t n = ::pwrite(fd_, p, left, static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus(errno, fmt::format("pwrite at {}", offset), path_);
      }
      p += n;
      left -= static_cast<size_t>(n);
      offset += static_cast<uint64_t>(n);
    }
    return Status::Ok();
  }

  Status WriteAtGather(uint64_t offset, std::span<const std::string_view> pieces) override {
    std::vector<iovec> iov;
    iov.reserve(pieces.size());
    for (std::string_view p : pieces) {
      // iovec's base is not const; pwritev only reads through it.
      if (!p.empty()) iov.push_back({const_cast<char*>(p.data()), p.size()});  // NOLINT
    }
    size_t next = 0;  // the first iovec not yet written in full
    while (next < iov.size()) {
      const int count = static_cast<int>(std::min<size_t>(iov.size() - next, IOV_MAX));
      ssize_t n = ::pwritev(fd_, iov.data() + next, count, static_cast<off_t>(offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus(errno, fmt::format("pwritev at {}", offset), path_);
      }
      offset += static_cast<uint64_t>(n);
      auto left = static_cast<size_t>(n);
      while (next < iov.size() && left >= iov[next].iov_len) left -= iov[next++].iov_len;
      if (left > 0) {  // a short write ended inside this piece
        iov[next].iov_base = static_cast<char*>(iov[next].iov_base) + left;
        iov[next].iov_len -= left;
      }
    }
    return Status::Ok();
  }

  Result<size_t> ReadAt(uint64_t offset, size_t n, char* dst) const override {
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd_, dst + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus(errno, fmt::format("pread at {}", offset + done), path_);
      }
      if (r == 0) break;
      done += static_cast<size_t>(r);
    }
    return done;
  }

  Status Sync() override {
    // No EINTR retry: fdatasync is not interruptible on Linux, and a failed sync is final.
    if (::fdatasync(fd_) != 0) return ErrnoStatus(errno, "fdatasync", path_);
    return Status::Ok();
  }

  Status Preallocate(uint64_t size_bytes) override {
    int err = ::posix_fallocate(fd_, 0, static_cast<off_t>(size_bytes));
    if (err != 0) return ErrnoStatus(err, fmt::format("fallocate {} bytes", size_bytes), path_);
    return Status::Ok();
  }

  Status Truncate(uint64_t size_bytes) override {
    if (::ftruncate(fd_, static_cast<off_t>(size_bytes)) != 0) {
      return ErrnoStatus(errno, fmt::format("ftruncate to {}", size_bytes), path_);
    }
    return Status::Ok();
  }

  Result<uint64_t> Size() const override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return ErrnoStatus(errno, "fstat", path_);
    return static_cast<uint64_t>(st.st_size);
  }

  const std::string& path() const override { return path_; }

 private:
  const std::string path_;
  const int fd_;
};

}  // namespace

Status File::WriteAtGather(uint64_t offset, std::span<const std::string_view> pieces) {
  size_t bytes = 0;
  for (std::string_view p : pieces) bytes += p.size();
  std::string joined;
  joined.reserve(bytes);
  for (std::string_view p : pieces) joined.append(p);
  return WriteAt(offset, joined);
}

Result<std::unique_ptr<File>> PosixFileSystem::Open(const std::string& path, OpenMode mode) {
  int flags = O_CLOEXEC;
  switch (mode) {
    case OpenMode::kReadOnly:
      flags |= O_RDONLY;
      break;
    case OpenMode::kReadWrite:
      flags |= O_RDWR;
      break;
    case OpenMode::kCreateExclusive:
      flags |= O_RDWR | O_CREAT | O_EXCL;
      break;
    case OpenMode::kCreateTruncate:
      flags |= O_RDWR | O_CREAT | O_TRUNC;
      break;
  }
  int fd;
  do {
    fd = ::open(path.c_str(), flags, 0600);  // data files are the owner's only (docs/security.md)
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return ErrnoStatus(errno, "open", path);
  return std::unique_ptr<File>(std::make_unique<PosixFile>(path, fd));
}

Status PosixFileSystem::Rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return ErrnoStatus(errno, fmt::format("rename to {}", to), from);
  }
  return Status::Ok();
}

Status PosixFileSystem::Remove(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return ErrnoStatus(errno, "stat", path);
  int rc = S_ISDIR(st.st_mode) ? ::rmdir(path.c_str()) : ::unlink(path.c_str());
  if (rc != 0) return ErrnoStatus(errno, "remove", path);
  return Status::Ok();
}

Status PosixFileSystem::CreateDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0) return ErrnoStatus(errno, "mkdir", path);
  return Status::Ok();
}

Result<std::vector<DirEntry>> PosixFileSystem::ListDir(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) return ErrnoStatus(errno, "opendir", path);
  std::vector<DirEntry> out;
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    bool is_dir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) {
      struct stat st;
      std::string full = JoinPath(path, name);
      if (::lstat(full.c_str(), &st) == 0) is_dir = S_ISDIR(st.st_mode);
    }
    out.push_back({std::move(name), is_dir});
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) return ErrnoStatus(err, "readdir", path);
  std::sort(out.begin(), out.end(),
            [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  return out;
}

Status PosixFileSystem::SyncDir(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open directory", path);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus(err, "fsync directory", path);
  return Status::Ok();
}

Result<bool> PosixFileSystem::Exists(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) return true;
  if (errno == ENOENT || errno == ENOTDIR) return false;
  return ErrnoStatus(errno, "stat", path);
}

Result<uint64_t> PosixFileSystem::FreeBytes(const std::string& path) {
  struct statvfs st;
  if (::statvfs(path.c_str(), &st) != 0) return ErrnoStatus(errno, "statvfs", path);
  return static_cast<uint64_t>(st.f_bavail) * static_cast<uint64_t>(st.f_frsize);
}

FileSystem* DefaultFileSystem() {
  static PosixFileSystem* fs = new PosixFileSystem();  // never destroyed: used until exit
  return fs;
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (!out.empty() && out.back() != '/') out.push_back('/');
  out.append(name);
  return out;
}

std::string DirName(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

Status EnsureDir(FileSystem* fs, const std::string& path) {
  Status s = fs->CreateDir(path);
  if (s.ok()) return s;
  if (s.code() != StatusCode::kAlreadyExists) return s;
  return Status::Ok();
}

Result<std::string> ReadWholeFile(FileSystem* fs, const std::string& path, uint64_t bytes_max) {
  NDS_ASSIGN_OR_RETURN(auto file, fs->Open(path, OpenMode::kReadOnly));
  NDS_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  if (size > bytes_max) {
    return ResourceExhausted(
        fmt::format("{} holds {} bytes, more than the {} expected", path, size, bytes_max));
  }
  std::string out(size, '\0');
  NDS_ASSIGN_OR_RETURN(size_t n, file->ReadAt(0, size, out.data()));
  out.resize(n);
  return out;
}

Result<std::string> ReadSecretFile(const std::string& path) {
  auto bytes = ReadWholeFile(DefaultFileSystem(), path, kSecretFileBytesMax);
  if (!bytes.ok()) return InvalidArgument(path + ": " + bytes.status().message());
  std::string secret = bytes->substr(0, bytes->find_first_of("\r\n"));
  if (secret.empty()) return InvalidArgument(path + ": the first line is empty");
  return secret;
}

Status WriteFileAtomically(FileSystem* fs, const std::string& dir, const std::string& name,
                           std::string_view data) {
  const std::string tmp = JoinPath(dir, name + ".tmp");
  {
    NDS_ASSIGN_OR_RETURN(auto file, fs->Open(tmp, OpenMode::kCreateTruncate));
    NDS_RETURN_IF_ERROR(file->WriteAt(0, data));
    NDS_RETURN_IF_ERROR(file->Sync());
  }
  NDS_RETURN_IF_ERROR(fs->Rename(tmp, JoinPath(dir, name)));
  return fs->SyncDir(dir);
}

Status RemoveRecursively(FileSystem* fs, const std::string& path, int depth_max) {
  NDS_ASSIGN_OR_RETURN(bool exists, fs->Exists(path));
  if (!exists) return Status::Ok();
  Result<std::vector<DirEntry>> entries = fs->ListDir(path);
  if (!entries.ok()) return fs->Remove(path);  // a plain file (or unreadable: Remove reports it)
  if (depth_max <= 0) {
    return ResourceExhausted(fmt::format("{} is nested too deeply to remove", path));
  }
  for (const DirEntry& e : *entries) {
    NDS_RETURN_IF_ERROR(RemoveRecursively(fs, JoinPath(path, e.name), depth_max - 1));
  }
  return fs->Remove(path);
}

}  // namespace nds
