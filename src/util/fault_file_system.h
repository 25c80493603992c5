// FaultFileSystem: an in-memory FileSystem that models what a crash does to a disk and injects
// faults on demand, for the storage fault tests (STYLE.md §5.4) and the simulator.
//
// Model: every file has its current bytes and its durable bytes (copied at File::Sync()); every
// directory has its current names and its durable names (copied at SyncDir()). Crash() throws away
// everything not durable: files get back their durable bytes, directories their durable names
// (so a synced file whose name was never synced disappears, and an unsynced rename reverts). With
// tearing on, a file instead keeps its durable bytes plus a random prefix of the bytes written
// since its last sync: the torn last write of a real crash. Faults without a crash: FlipBit()
// damages stored bytes (durable ones too); AddFault() makes chosen operations fail with kNoSpace or
// kIoError (by kind, by path, after a number of matching operations, for a number of times);
// SetCapacityBytes() makes writes and preallocation beyond a total size fail with kNoSpace;
// SetCrashAfterOps() freezes the disk after N more mutating operations (every later operation
// fails with kIoError until Crash()), which lets a test stop a workload at each of its steps.
//
// A failed write changes nothing (unless SetFailedWritePrefixBytes). Files opened before Crash()
// fail every operation afterwards. Paths are absolute-looking strings ("/d/wal/1.wal"); "/" always
// exists. Owner: the test or simulator. Thread-safe (one mutex).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "util/file_system.h"
#include "util/thread_annotations.h"

namespace nds {

class FaultFileSystem final : public FileSystem {
 public:
  // `seed` drives the tearing PRNG.
  explicit FaultFileSystem(uint64_t seed = 1);
  ~FaultFileSystem() override;

  Result<std::unique_ptr<File>> Open(const std::string& path, OpenMode mode) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status Remove(const std::string& path) override;
  Status CreateDir(const std::string& path) override;
  Result<std::vector<DirEntry>> ListDir(const std::string& path) override;
  Status SyncDir(const std::string& path) override;
  Result<bool> Exists(const std::string& path) override;
  Result<uint64_t> FreeBytes(const std::string& path) override;

  // A rule that makes matching operations fail. An operation matches when its kind is `op` (or
  // any kind, with `any_op`) and, when `path_contains` is not empty, its path contains that
  // string. The first `skip` matches pass; the next `times` matches fail with `code` (kNoSpace or
  // kIoError). So "EIO after N operations" is {any_op = true, skip = N}.
  struct Fault {
    FileOp op = FileOp::kWrite;
    bool any_op = false;
    std::string path_contains;
    uint64_t skip = 0;
    uint64_t times = UINT64_MAX;
    StatusCode code = StatusCode::kIoError;
  };
  void AddFault(Fault fault);
  void ClearFaults();

  // Simulates power loss: everything not durable is lost (or torn, see SetTearOnCrash). Clears
  // the faults, the freeze and the capacity; handles opened before fail from now on.
  void Crash();
  // With `on`, Crash() keeps a random prefix of each file's unsynced bytes.
  void SetTearOnCrash(bool on);
  // After `ops` more mutating operations (write, sync, preallocate, truncate, rename, remove,
  // create, sync dir, open for writing) the disk freezes: every operation fails with kIoError until
  // Crash(). frozen() tells whether it fired.
  void SetCrashAfterOps(uint64_t ops);
  bool frozen() const;
  // Mutating operations done so far (for sizing SetCrashAfterOps loops).
  uint64_t mutating_ops() const;

  // A write that a fault rule fails first stores the first `prefix_bytes` of its data (a short
  // pwrite before the error), as a real disk may. 0, the default: a failed write changes nothing.
  void SetFailedWritePrefixBytes(uint64_t prefix_bytes);

  // Total bytes all files may hold (their sizes); beyond it writes and preallocation fail with
  // kNoSpace. UINT64_MAX (the default) means unlimited.
  void SetCapacityBytes(uint64_t bytes);

  // Flips bit `bit` (0-7) of byte `offset` of the file at `path`, in both its current and durable
  // bytes (damage on the medium). kNotFound / kInvalidArgument when out of range.
  Status FlipBit(const std::string& path, uint64_t offset, int bit);
  // Cuts the file at `path` to `size_bytes` in both its current and durable bytes.
  Status CutFile(const std::string& path, uint64_t size_bytes);
  // The current bytes of a file (for assertions).
  Result<std::string> Contents(const std::string& path);

  struct Inode;

 private:
  class MemFile;
  friend class MemFile;

  // Counts the operation, applies the freeze and the fault rules. kOk when it may proceed.
  Status Admit(FileOp op, const std::string& path, bool mutating) NDS_REQUIRES(mu_);
  // Resolves `path` through current names; nullptr when absent.
  std::shared_ptr<Inode> Lookup(const std::string& path) const NDS_REQUIRES(mu_);
  // The directory holding `path` and the last component; nullptr when the parent is absent.
  std::shared_ptr<Inode> Parent(const std::string& path, std::string* name) const NDS_REQUIRES(mu_);
  uint64_t UsedBytes() const NDS_REQUIRES(mu_);
  Status CheckSpace(uint64_t old_size, uint64_t new_size) const NDS_REQUIRES(mu_);

  mutable Mutex mu_;
  std::shared_ptr<Inode> root_ NDS_GUARDED_BY(mu_);
  std::vector<Fault> faults_ NDS_GUARDED_BY(mu_);
  std::mt19937_64 rng_ NDS_GUARDED_BY(mu_);
  bool tear_on_crash_ NDS_GUARDED_BY(mu_) = false;
  // Bumped by Crash(); a MemFile from an older generation fails every call.
  uint64_t generation_ NDS_GUARDED_BY(mu_) = 0;
  uint64_t mutating_ops_ NDS_GUARDED_BY(mu_) = 0;
  // Mutating operations left before the freeze; UINT64_MAX means no freeze is armed.
  uint64_t ops_until_freeze_ NDS_GUARDED_BY(mu_) = UINT64_MAX;
  bool frozen_ NDS_GUARDED_BY(mu_) = false;
  uint64_t capacity_bytes_ NDS_GUARDED_BY(mu_) = UINT64_MAX;
  uint64_t failed_write_prefix_bytes_ NDS_GUARDED_BY(mu_) = 0;
};

}  // namespace nds
