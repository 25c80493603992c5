// The state machine's storage: an ordered byte key-value store with atomic batches that also
// record the Raft applied index, point-in-time views for consistent reads and streaming, and
// checkpoints for snapshots. Two implementations: RocksDB (engine/rocksdb_engine.h, the default)
// and memory (engine/memory_engine.h, `--engine memory`). One test suite runs against both.
//
// The engine knows nothing of the key namespaces above it: store/ prefixes keys by namespace.
// Threading: every method is thread-safe. Writes are serialised by the caller (the apply thread);
// views and reads may run concurrently with writes from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"
#include "util/strong_id.h"

namespace nds::engine {

// A group of changes applied all-or-nothing by Engine::Write.
class WriteBatch {
 public:
  enum class OpType : uint8_t { kPut, kDelete, kDeleteRange };
  struct Op {
    OpType type;
    std::string key;    // kDeleteRange: the first key removed
    std::string value;  // kPut: the value; kDeleteRange: the end, exclusive
  };

  void Put(std::string_view key, std::string_view value);
  // The same, taking the strings' buffers instead of copying them (big values).
  void PutOwned(std::string key, std::string value);
  void Delete(std::string_view key);
  // Removes every key in [begin, end).
  void DeleteRange(std::string_view begin, std::string_view end);

  const std::vector<Op>& ops() const { return ops_; }
  // Frees op `i`'s key and value (its type stays): for an engine that consumes the batch as it
  // copies it into its own write (Engine::WriteConsuming).
  void ReleaseOp(size_t i);
  bool empty() const { return ops_.empty(); }
  size_t ByteSize() const { return bytes_; }

 private:
  std::vector<Op> ops_;
  size_t bytes_ = 0;
};

// Iterates the keys of a view in byte order. Not thread-safe: one user at a time. Valid while
// the view it came from lives.
class Iterator {
 public:
  virtual ~Iterator() = default;
  // Positions at the first key >= target.
  virtual void Seek(std::string_view target) = 0;
  virtual bool Valid() const = 0;
  virtual void Next() = 0;
  // Preconditions: Valid(). The views stay valid until the next Seek/Next or destruction.
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  // Non-ok when iteration stopped on an error rather than at the end.
  virtual Status status() const = 0;
};

// A consistent point-in-time view: later writes are invisible to it. Thread-safe.
class View {
 public:
  virtual ~View() = default;
  // std::nullopt when the key does not exist in the view.
  virtual Result<std::optional<std::string>> Get(std::string_view key) const = 0;
  virtual std::unique_ptr<Iterator> NewIterator() const = 0;
  // The applied index the view reflects.
  virtual LogIndex applied_index() const = 0;
};

struct EngineStats {
  uint64_t keys_estimate = 0;
  uint64_t bytes_estimate = 0;  // keys plus values, live data
  // Big values kept in files of their own (RocksDB's blob files; 0 in other engines): the files'
  // bytes, how many of those are garbage (overwritten or deleted, not yet given back), and whether
  // garbage collection is on now (engine/rocksdb_tuning.h).
  uint64_t blob_bytes = 0;
  uint64_t blob_garbage_bytes = 0;
  bool blob_garbage_collection = false;
};

class Engine {
 public:
  virtual ~Engine() = default;

  // Reads the latest committed state.
  virtual Result<std::optional<std::string>> Get(std::string_view key) const = 0;

  // Applies `batch` atomically and records `applied_index` in the same atomic step. With `sync`
  // the write is durable (fsync'd) before this returns. Errors: kNoSpace when the disk is full
  // (nothing of the batch is applied; later writes work again once space is freed), kIoError.
  // Precondition: applied_index >= AppliedIndex().
  virtual Status Write(const WriteBatch& batch, LogIndex applied_index, bool sync) = 0;
  // As Write, but the engine may free each op's strings once it has copied them (the batch is
  // then left with empty ops), so that a batch of big values is not held twice at once, in the
  // batch and in the engine's own write. The default is Write.
  virtual Status WriteConsuming(WriteBatch* batch, LogIndex applied_index, bool sync) {
    return Write(*batch, applied_index, sync);
  }

  // The index recorded by the last Write (0 for a new engine).
  virtual LogIndex AppliedIndex() const = 0;

  virtual std::unique_ptr<View> NewView() const = 0;

  // Writes a consistent copy of the whole engine into `dir` (which must not exist), durable on
  // return. Open the same kind of engine on `dir` to get the copy back.
  virtual Status Checkpoint(const std::string& dir) const = 0;

  virtual EngineStats Stats() const = 0;

  // "rocksdb" or "memory".
  virtual std::string_view Name() const = 0;
};

}  // namespace nds::engine
