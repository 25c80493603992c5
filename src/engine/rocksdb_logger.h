// RocksDB's info log for the RocksDB engine: plain appends to DIR/LOG, rotated to LOG.1 ... at a
// size limit, so the log never grows without bound. It replaces RocksDB's own file logger, which
// (in the assert-enabled librocksdb build we link) aborts the process when it writes again after
// a failed write, i.e. on the first log line after the disk filled up. Here a failed write drops
// that line and nothing else: logging never fails or stops the database.
#pragma once

#include <cstdarg>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>

#include <rocksdb/env.h>

#include "util/status.h"
#include "util/thread_annotations.h"

namespace nds::engine {

// Owned (shared_ptr) by the rocksdb::Options that use it. Thread-safe (mu_).
class BoundedFileLogger final : public rocksdb::Logger {
 public:
  // Opens (appending) DIR/LOG; `dir` must exist. The log holds at most `files_max` files (LOG and
  // LOG.1 .. LOG.<files_max - 1>) of about `file_bytes_max` bytes each. Errors: kIoError or
  // kNoSpace naming the path.
  static Result<std::shared_ptr<BoundedFileLogger>> Open(const std::string& dir,
                                                         size_t file_bytes_max, size_t files_max,
                                                         rocksdb::InfoLogLevel level);

  ~BoundedFileLogger() override;

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override;
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override;
  size_t GetLogFileSize() const override;

 private:
  BoundedFileLogger(std::string dir, int fd, size_t file_bytes, size_t file_bytes_max,
                    size_t files_max, rocksdb::InfoLogLevel level);
  rocksdb::Status CloseImpl() override;
  void Write(const char* level_name, const char* format, va_list ap);
  // Shifts LOG.i to LOG.i+1 (dropping the last) and starts an empty LOG.
  void Rotate() NDS_REQUIRES(mu_);

  const std::string dir_;
  const size_t file_bytes_max_;
  const size_t files_max_;
  mutable Mutex mu_;
  int fd_ NDS_GUARDED_BY(mu_);  // -1 after Close or a failed rotation
  size_t file_bytes_ NDS_GUARDED_BY(mu_);
};

}  // namespace nds::engine
