// FileSystem: the seam between the durable-storage code (wal/, snapshots, the meta file) and the
// disk, after LevelDB's Env (STYLE.md §5.4). Three implementations: PosixFileSystem (the real
// disk), and FaultFileSystem (util/fault_file_system.h), an in-memory file system that can lose
// unsynced bytes at a simulated crash, tear writes, flip bits and fail on demand.
//
// Durability model every caller must follow (it is what POSIX promises, and what FaultFileSystem
// enforces): bytes written to a file survive a crash only after File::Sync() on that file; a
// created, renamed or removed name survives only after SyncDir() on its parent directory.
//
// Errors: kNotFound (no such path), kAlreadyExists, kNoSpace (ENOSPC/EDQUOT), kIoError (anything
// else the OS reports; the message names the path and the operation).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace nds {

// Kinds of file operations; FaultFileSystem injects faults per kind.
enum class FileOp : uint8_t {
  kOpen,
  kWrite,
  kRead,
  kSync,
  kPreallocate,
  kTruncate,
  kSize,
  kRename,
  kRemove,
  kCreateDir,
  kListDir,
  kSyncDir,
  kExists,
  kFreeBytes,
};

enum class OpenMode : uint8_t {
  kReadOnly,         // must exist
  kReadWrite,        // must exist
  kCreateExclusive,  // must not exist (kAlreadyExists); read-write
  kCreateTruncate,   // created, or emptied when it exists; read-write
};

struct DirEntry {
  std::string name;
  bool is_dir = false;

  bool operator==(const DirEntry&) const = default;
};

// An open file. Owned by whoever opened it (a unique_ptr). Thread-safe for concurrent ReadAt()
// calls and one writer at a time (positional I/O, no shared cursor); the caller serialises
// writers.
class File {
 public:
  virtual ~File() = default;

  // Writes `data` at `offset`, growing the file when needed. On error nothing is promised about
  // the range [offset, offset + data.size()) (it may hold part of `data`). kNoSpace, kIoError.
  virtual Status WriteAt(uint64_t offset, std::string_view data) = 0;
  // Writes `pieces` back to back from `offset`, as WriteAt would write their concatenation, so a
  // writer can put a big value on disk from where it already is instead of copying it into one
  // buffer first. Errors as WriteAt. The default concatenates and calls WriteAt (one write, one
  // fault check for FaultFileSystem); PosixFile writes with pwritev.
  virtual Status WriteAtGather(uint64_t offset, std::span<const std::string_view> pieces);
  // Reads up to `n` bytes at `offset` into `dst`; returns how many were read, fewer than `n` only
  // at the end of the file. kIoError.
  virtual Result<size_t> ReadAt(uint64_t offset, size_t n, char* dst) const = 0;
  // fdatasync: makes the file's bytes and size durable. kIoError. A failed Sync must never be
  // retried as if it could succeed later (the kernel may have dropped the dirty pages).
  virtual Status Sync() = 0;
  // Allocates disk blocks for [0, size_bytes) and grows the file to at least that size (new bytes
  // read as zero). kNoSpace when the disk is full: this is where a preallocating writer meets
  // ENOSPC, before any record is at stake.
  virtual Status Preallocate(uint64_t size_bytes) = 0;
  // Sets the size to `size_bytes` (shrinks or zero-extends).
  virtual Status Truncate(uint64_t size_bytes) = 0;
  virtual Result<uint64_t> Size() const = 0;
  // The path given to Open(); valid while the File lives.
  virtual const std::string& path() const = 0;
};

// The file system. Implementations are thread-safe.
class FileSystem {
 public:
  virtual ~FileSystem() = default;

  virtual Result<std::unique_ptr<File>> Open(const std::string& path, OpenMode mode) = 0;
  // Atomically renames a file or directory, replacing `to` when it is a file (or an empty
  // directory). Durable after SyncDir() of both parents.
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // Removes a file or an empty directory. kNotFound when absent.
  virtual Status Remove(const std::string& path) = 0;
  // Creates one directory level. kAlreadyExists when present, kNotFound when the parent is absent.
  virtual Status CreateDir(const std::string& path) = 0;
  // The entries of a directory, sorted by name, without "." and "..".
  virtual Result<std::vector<DirEntry>> ListDir(const std::string& path) = 0;
  // fsync of a directory: makes the names created, renamed or removed in it durable.
  virtual Status SyncDir(const std::string& path) = 0;
  virtual Result<bool> Exists(const std::string& path) = 0;
  // Bytes free for an unprivileged writer on the file system holding `path`.
  virtual Result<uint64_t> FreeBytes(const std::string& path) = 0;
};

// The real disk. Thread-safe; stateless (one instance may serve the whole process).
class PosixFileSystem final : public FileSystem {
 public:
  Result<std::unique_ptr<File>> Open(const std::string& path, OpenMode mode) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status Remove(const std::string& path) override;
  Status CreateDir(const std::string& path) override;
  Result<std::vector<DirEntry>> ListDir(const std::string& path) override;
  Status SyncDir(const std::string& path) override;
  Result<bool> Exists(const std::string& path) override;
  Result<uint64_t> FreeBytes(const std::string& path) override;
};

// A process-wide PosixFileSystem; valid for the program's lifetime.
FileSystem* DefaultFileSystem();

// "a/b" from "a" and "b" (no normalisation beyond one separator).
std::string JoinPath(std::string_view dir, std::string_view name);
// The directory part of `path` ("." when there is none).
std::string DirName(std::string_view path);

// Creates `path` when it does not exist (one level). Ok when it exists as a directory.
Status EnsureDir(FileSystem* fs, const std::string& path);
// Reads a whole file. kResourceExhausted when it is larger than `bytes_max`.
Result<std::string> ReadWholeFile(FileSystem* fs, const std::string& path, uint64_t bytes_max);
// A secret kept in a file (a token given with --token-file and the like): the file's first line,
// without its line end. kInvalidArgument naming the path when the file cannot be read, is larger
// than kSecretFileBytesMax, or its first line is empty.
inline constexpr uint64_t kSecretFileBytesMax = 4096;
Result<std::string> ReadSecretFile(const std::string& path);
// Replaces DIR/NAME with `data` atomically and durably: writes DIR/NAME.tmp, syncs it, renames it
// over DIR/NAME and syncs DIR. After a crash DIR/NAME holds either the old or the new bytes.
Status WriteFileAtomically(FileSystem* fs, const std::string& dir, const std::string& name,
                           std::string_view data);
// Removes `path` and, when it is a directory, everything below it (at most `depth_max` levels
// deep, kResourceExhausted beyond). Ok when `path` does not exist.
Status RemoveRecursively(FileSystem* fs, const std::string& path, int depth_max = 8);

}  // namespace nds
