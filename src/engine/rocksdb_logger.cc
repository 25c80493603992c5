// BoundedFileLogger (engine/rocksdb_logger.h): one write(2) per line to DIR/LOG, rotation by
// renames, every error swallowed after the initial open.
#include "engine/rocksdb_logger.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <fcntl.h>
#include <string>
#include <unistd.h>
#include <utility>

#include <fmt/format.h>
#include <sys/stat.h>

#include "engine/file_util.h"

namespace nds::engine {
namespace {

// A log line longer than this is cut (RocksDB's longest lines are option dumps).
constexpr size_t kLineBytesMax = 4096;

int OpenLog(const std::string& path, bool truncate) {
  int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0);
  return ::open(path.c_str(), flags, 0600);
}

const char* LevelName(rocksdb::InfoLogLevel level) {
  switch (level) {
    case rocksdb::InfoLogLevel::DEBUG_LEVEL:
      return "DEBUG";
    case rocksdb::InfoLogLevel::INFO_LEVEL:
      return "INFO";
    case rocksdb::InfoLogLevel::WARN_LEVEL:
      return "WARN";
    case rocksdb::InfoLogLevel::ERROR_LEVEL:
      return "ERROR";
    case rocksdb::InfoLogLevel::FATAL_LEVEL:
      return "FATAL";
    default:
      return "HEADER";
  }
}

}  // namespace

Result<std::shared_ptr<BoundedFileLogger>> BoundedFileLogger::Open(const std::string& dir,
                                                                   size_t file_bytes_max,
                                                                   size_t files_max,
                                                                   rocksdb::InfoLogLevel level) {
  NDS_CHECK(files_max > 0);
  const std::string path = dir + "/LOG";
  int fd = OpenLog(path, /*truncate=*/false);
  if (fd < 0) return ErrnoStatus(errno, "open", path);
  struct stat st {};
  size_t bytes = ::fstat(fd, &st) == 0 ? static_cast<size_t>(st.st_size) : 0;
  return std::shared_ptr<BoundedFileLogger>(
      new BoundedFileLogger(dir, fd, bytes, file_bytes_max, files_max, level));
}

BoundedFileLogger::BoundedFileLogger(std::string dir, int fd, size_t file_bytes,
                                     size_t file_bytes_max, size_t files_max,
                                     rocksdb::InfoLogLevel level)
    : rocksdb::Logger(level),
      dir_(std::move(dir)),
      file_bytes_max_(file_bytes_max),
      files_max_(files_max),
      fd_(fd),
      file_bytes_(file_bytes) {}

BoundedFileLogger::~BoundedFileLogger() {
  MutexLock lock(mu_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

rocksdb::Status BoundedFileLogger::CloseImpl() {
  MutexLock lock(mu_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  return rocksdb::Status::OK();
}

void BoundedFileLogger::Logv(const char* format, va_list ap) { Write("INFO", format, ap); }

void BoundedFileLogger::Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) {
  if (level < GetInfoLogLevel()) return;
  Write(LevelName(level), format, ap);
}

size_t BoundedFileLogger::GetLogFileSize() const {
  MutexLock lock(mu_);
  return file_bytes_;
}

void BoundedFileLogger::Write(const char* level_name, const char* format, va_list ap) {
  char line[kLineBytesMax];
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  tm utc{};
  ::gmtime_r(&now.tv_sec, &utc);
  int prefix = std::snprintf(line, sizeof(line), "%04d/%02d/%02d-%02d:%02d:%02d.%06ld %s ",
                             utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                             utc.tm_min, utc.tm_sec, now.tv_nsec / 1000, level_name);
  if (prefix < 0) return;
  size_t used = static_cast<size_t>(prefix);
  int body = std::vsnprintf(line + used, sizeof(line) - used, format, ap);
  if (body < 0) return;
  used = std::min(used + static_cast<size_t>(body), sizeof(line) - 2);
  if (line[used - 1] != '\n') line[used++] = '\n';

  MutexLock lock(mu_);
  if (file_bytes_ + used > file_bytes_max_) Rotate();
  if (fd_ < 0) return;
  // A failed or short write (a full disk) loses this line only; the next line tries again.
  ssize_t n = ::write(fd_, line, used);
  if (n > 0) file_bytes_ += static_cast<size_t>(n);
}

void BoundedFileLogger::Rotate() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  const std::string base = dir_ + "/LOG";
  for (size_t i = files_max_ - 1; i >= 1; --i) {
    std::string from = i == 1 ? base : fmt::format("{}.{}", base, i - 1);
    // Best effort: a missing older file is normal, and logging never fails the database.
    ::rename(from.c_str(), fmt::format("{}.{}", base, i).c_str());
  }
  fd_ = OpenLog(base, /*truncate=*/true);
  file_bytes_ = 0;
}

}  // namespace nds::engine
