// The RocksDB engine (engine/rocksdb_engine.h): user keys in the "default" column family, the
// applied index and format version in the "meta" column family, views as RocksDB snapshots,
// checkpoints as rocksdb::Checkpoint. Every rocksdb::Status is checked and mapped to an nds Status
// by FromRocks(); after a failed write (a full disk) the next write first recovers the database
// (DB::Resume with the WAL off, a reopen with it on), so writes work again once space is freed.
#include "engine/rocksdb_engine.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/iterator.h>
#include <rocksdb/listener.h>
#include <rocksdb/metadata.h>
#include <rocksdb/options.h>
#include <rocksdb/snapshot.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/write_buffer_manager.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "engine/file_util.h"
#include "engine/rocksdb_logger.h"
#include "engine/rocksdb_tuning.h"
#include "util/coding.h"
#include "util/thread_annotations.h"

namespace nds::engine {
namespace {

constexpr std::string_view kMetaFamily = "meta";
constexpr std::string_view kAppliedIndexKey = "applied_index";
constexpr std::string_view kFormatVersionKey = "format_version";
constexpr uint32_t kFormatVersion = 1;
// The meta column family holds two small keys: a small memtable is plenty.
constexpr size_t kMetaWriteBufferBytes = 1 << 20;
// Data blocks of 16 KiB keep the index small (fewer entries per SST) and suit long scans.
constexpr size_t kBlockBytes = 16 << 10;
// A rocksdb::WriteBatch's fixed header, and what each op adds beside its key and value (a type
// byte, a column family id and two varint lengths), with the applied-index op on top: the
// batch's size is reserved from these before it is built.
constexpr size_t kBatchHeaderBytes = 64;
constexpr size_t kBatchOpOverheadBytes = 24;
// Values of at least this size are kept in blob files (MakeOptions).
constexpr uint64_t kMinBlobBytes = 64 << 10;
// How much of an SST or blob file is written before RocksDB asks the kernel to write it back
// (sync_file_range): RocksDB's own advice for this setting.
constexpr uint64_t kBytesPerSync = 1 << 20;
// A reopen after a failed write is attempted only with at least this much free space.
constexpr uint64_t kReopenFreeBytesMin = 1 << 20;

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
std::string_view ToView(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

// Maps a RocksDB status to an nds Status; `what` names the operation for the message.
Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  std::string text = s.ToString();
  std::string msg = fmt::format("rocksdb {}: {}", what, text);
  if (s.IsNoSpace() || text.find("No space left on device") != std::string::npos) {
    return NoSpace(std::move(msg));
  }
  if (s.IsCorruption()) return Corruption(std::move(msg));
  return IoError(std::move(msg));
}

// The open database and its column-family handles. Shared (shared_ptr) by the engine and every
// view and iterator, so that the database is closed only when the last of them is gone.
// Thread-safe: rocksdb::DB is.
struct Db {
  ~Db() {
    // Handles must go before the database; the last snapshot has been released by now.
    if (data != nullptr) IgnoreError(FromRocks(db->DestroyColumnFamilyHandle(data), "close"), "");
    if (meta != nullptr) IgnoreError(FromRocks(db->DestroyColumnFamilyHandle(meta), "close"), "");
    if (db != nullptr) {
      // With the WAL off, Close flushes the memtables; a failure loses only writes after the
      // last flush, which the Raft log replays from the recovered applied index.
      IgnoreError(FromRocks(db->Close(), "close"), "nothing to report to; recovery replays");
    }
  }

  std::unique_ptr<rocksdb::DB> db;
  rocksdb::ColumnFamilyHandle* data = nullptr;
  rocksdb::ColumnFamilyHandle* meta = nullptr;
};

// A RocksDB snapshot, released when the last view or iterator using it is destroyed.
struct Snapshot {
  Snapshot(std::shared_ptr<Db> d, LogIndex index)
      : db(std::move(d)), snapshot(db->db->GetSnapshot()), applied_index(index) {}
  ~Snapshot() { db->db->ReleaseSnapshot(snapshot); }
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

  std::shared_ptr<Db> db;
  const rocksdb::Snapshot* snapshot;
  LogIndex applied_index;
};

Result<std::optional<std::string>> GetFrom(const Db& db, const rocksdb::ReadOptions& options,
                                           std::string_view key) {
  QuietPerfContext();
  std::string value;
  rocksdb::Status s = db.db->Get(options, db.data, ToSlice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, fmt::format("get of a key of {} bytes", key.size()));
  return std::optional<std::string>(std::move(value));
}

// Not thread-safe (Iterator's contract). Holds its snapshot, so it stays usable even if its view
// is destroyed first.
class RocksIterator final : public Iterator {
 public:
  RocksIterator(std::shared_ptr<const Snapshot> snapshot, std::unique_ptr<rocksdb::Iterator> it)
      : snapshot_(std::move(snapshot)), it_(std::move(it)) {}

  void Seek(std::string_view target) override { it_->Seek(ToSlice(target)); }
  bool Valid() const override { return it_->Valid(); }
  void Next() override {
    NDS_CHECK(it_->Valid());
    it_->Next();
  }
  std::string_view key() const override {
    NDS_CHECK(it_->Valid());
    return ToView(it_->key());
  }
  std::string_view value() const override {
    NDS_CHECK(it_->Valid());
    return ToView(it_->value());
  }
  Status status() const override { return FromRocks(it_->status(), "iterator"); }

 private:
  // Declared first so that it is destroyed after it_, which reads through it.
  std::shared_ptr<const Snapshot> snapshot_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

// Thread-safe: immutable after construction; RocksDB reads are thread-safe.
class RocksView final : public View {
 public:
  explicit RocksView(std::shared_ptr<const Snapshot> snapshot) : snapshot_(std::move(snapshot)) {}

  Result<std::optional<std::string>> Get(std::string_view key) const override {
    rocksdb::ReadOptions options;
    options.snapshot = snapshot_->snapshot;
    return GetFrom(*snapshot_->db, options, key);
  }

  std::unique_ptr<Iterator> NewIterator() const override {
    rocksdb::ReadOptions options;
    options.snapshot = snapshot_->snapshot;
    // A scan may cover the whole store (/getAll): it must not evict the working set from the
    // block cache. Readahead is RocksDB's automatic one: it starts at 8 KiB after two reads of
    // a file and doubles up to 256 KiB, so short listings read little and long scans stream.
    options.fill_cache = false;
    options.adaptive_readahead = true;
    QuietPerfContext();  // for the thread that creates it, which is the one that uses it
    const Db& db = *snapshot_->db;
    std::unique_ptr<rocksdb::Iterator> it(db.db->NewIterator(options, db.data));
    return std::make_unique<RocksIterator>(snapshot_, std::move(it));
  }

  LogIndex applied_index() const override { return snapshot_->applied_index; }

 private:
  std::shared_ptr<const Snapshot> snapshot_;
};

// Returned after the database could not be reopened: every read reports `error`.
class FailedIterator final : public Iterator {
 public:
  explicit FailedIterator(Status error) : error_(std::move(error)) {}
  void Seek(std::string_view /*target*/) override {}
  bool Valid() const override { return false; }
  void Next() override { NDS_CHECK(false, "Next on an invalid iterator"); }
  std::string_view key() const override { NDS_CHECK(false, "key of an invalid iterator"); }
  std::string_view value() const override { NDS_CHECK(false, "value of an invalid iterator"); }
  Status status() const override { return error_; }

 private:
  Status error_;
};

class FailedView final : public View {
 public:
  FailedView(Status error, LogIndex index) : error_(std::move(error)), index_(index) {}
  Result<std::optional<std::string>> Get(std::string_view /*key*/) const override { return error_; }
  std::unique_ptr<Iterator> NewIterator() const override {
    return std::make_unique<FailedIterator>(error_);
  }
  LogIndex applied_index() const override { return index_; }

 private:
  Status error_;
  LogIndex index_;
};

struct OpenedDb {
  std::shared_ptr<Db> db;
  LogIndex applied_index;
};
Result<OpenedDb> OpenDb(const std::string& dir, const RocksDbOptions& options);

// Thread-safe. Writes are serialised by write_mu_ (the caller serialises them too); NewView takes
// write_mu_ so that the snapshot and the applied index it reports belong to the same write.
// db_ changes only when the database is reopened after a failed WAL write (under write_mu_ and
// db_mu_ exclusively); readers copy it under db_mu_ shared.
class RocksDbEngine final : public Engine {
 public:
  RocksDbEngine(std::string dir, const RocksDbOptions& options, OpenedDb opened)
      : dir_(std::move(dir)),
        options_(options),
        db_(std::move(opened.db)),
        applied_index_(opened.applied_index.value) {}

  Result<std::optional<std::string>> Get(std::string_view key) const override {
    std::shared_ptr<Db> db = CurrentDb();
    if (db == nullptr) return Closed();
    return GetFrom(*db, rocksdb::ReadOptions(), key);
  }

  Status Write(const WriteBatch& batch, LogIndex applied_index, bool sync) override;
  Status WriteConsuming(WriteBatch* batch, LogIndex applied_index, bool sync) override;

  LogIndex AppliedIndex() const override {
    return LogIndex(applied_index_.load(std::memory_order_acquire));
  }

  std::unique_ptr<View> NewView() const override {
    MutexLock lock(write_mu_);
    std::shared_ptr<Db> db = CurrentDb();
    if (db == nullptr) return std::make_unique<FailedView>(Closed(), AppliedIndex());
    auto snapshot = std::make_shared<const Snapshot>(std::move(db), AppliedIndex());
    return std::make_unique<RocksView>(std::move(snapshot));
  }

  Status Checkpoint(const std::string& dir) const override;
  EngineStats Stats() const override;
  std::string_view Name() const override { return "rocksdb"; }

 private:
  std::shared_ptr<Db> CurrentDb() const {
    ReaderLock lock(db_mu_);
    return db_;
  }
  Status Closed() const {
    return IoError(fmt::format(
        "rocksdb engine {}: closed after a failed reopen; the next write tries again", dir_));
  }
  // Write and WriteConsuming: `consume` is null, or `batch` itself (its ops are freed as they
  // are copied into RocksDB's batch).
  Status WriteOps(const WriteBatch& batch, WriteBatch* consume, LogIndex applied_index, bool sync);
  Status BuildBatch(const Db& db, const WriteBatch& batch, WriteBatch* consume,
                    LogIndex applied_index, rocksdb::WriteBatch* out);
  // After a failed write RocksDB refuses writes until it recovers: with the WAL off, DB::Resume
  // (which flushes); with the WAL on, a reopen (RocksDB 7.8 cannot resume past a failed WAL
  // append: it keeps appending to the damaged WAL file). Tries once per call.
  Status RecoverIfNeeded() NDS_REQUIRES(write_mu_);
  Status Reopen() NDS_REQUIRES(write_mu_);
  // At most every options_.blob_gc_check_interval: turns blob garbage collection on or off as
  // WantBlobGarbageCollection says for the blob files now.
  void UpdateBlobGc(const Db& db) NDS_REQUIRES(write_mu_);
  Status Failed(Status status) NDS_REQUIRES(write_mu_) {
    recovery_needed_ = true;
    last_error_message_ = status.message();
    return status;
  }

  const std::string dir_;
  const RocksDbOptions options_;
  mutable SharedMutex db_mu_;
  // Null only after a failed reopen.
  std::shared_ptr<Db> db_ NDS_GUARDED_BY(db_mu_);
  mutable Mutex write_mu_;
  // Set when a write or flush failed: RocksDB may be in its background-error (read-only) state.
  bool recovery_needed_ NDS_GUARDED_BY(write_mu_) = false;
  std::string last_error_message_ NDS_GUARDED_BY(write_mu_);
  // Written under write_mu_ after each successful write; read without it by AppliedIndex().
  std::atomic<uint64_t> applied_index_;
  // Whether blob garbage collection is on in db_ (off in a database just opened); written under
  // write_mu_, read by Stats().
  std::atomic<bool> blob_gc_on_{false};
  std::chrono::steady_clock::time_point blob_gc_checked_ NDS_GUARDED_BY(write_mu_);
  // The blob files' count and garbage bytes at the last look (UpdateBlobGc).
  uint64_t blob_gc_files_ NDS_GUARDED_BY(write_mu_) = 0;
  uint64_t blob_gc_garbage_ NDS_GUARDED_BY(write_mu_) = 0;
};

// The order in which to hand `ops` to RocksDB: by key, ops on one key in the order given, unless
// the batch has a range delete (whose effect on a put depends on which comes first). RocksDB
// gives each op of a batch its own sequence number in the order added, so a later op on a key
// still wins; only ops on different keys change places. A memtable insert starts its search
// where the previous one went (its "splice"): in key order most inserts find their place near
// the last one, instead of searching every level because the applier's data keys, undo entries
// and deletes alternate (docs/benchmarks.md "A write batch in key order").
std::vector<uint32_t> KeyOrder(const std::vector<WriteBatch::Op>& ops) {
  std::vector<uint32_t> order(ops.size());
  bool ranged = false;
  for (size_t i = 0; i < ops.size(); ++i) {
    order[i] = static_cast<uint32_t>(i);
    ranged = ranged || ops[i].type == WriteBatch::OpType::kDeleteRange;
  }
  if (!ranged) {
    std::stable_sort(order.begin(), order.end(),
                     [&ops](uint32_t a, uint32_t b) { return ops[a].key < ops[b].key; });
  }
  return order;
}

Status RocksDbEngine::BuildBatch(const Db& db, const WriteBatch& batch, WriteBatch* consume,
                                 LogIndex applied_index, rocksdb::WriteBatch* out) {
  for (uint32_t i : KeyOrder(batch.ops())) {
    const WriteBatch::Op& op = batch.ops()[i];
    rocksdb::Status s;
    switch (op.type) {
      case WriteBatch::OpType::kPut:
        s = out->Put(db.data, ToSlice(op.key), ToSlice(op.value));
        break;
      case WriteBatch::OpType::kDelete:
        s = out->Delete(db.data, ToSlice(op.key));
        break;
      case WriteBatch::OpType::kDeleteRange:
        NDS_CHECK(!HasInsertHintPrefix(options_.insert_hint_prefixes, op.key),
                  "insert hint prefix");
        // An empty or inverted range removes nothing; RocksDB rejects inverted ranges.
        if (op.key < op.value) s = out->DeleteRange(db.data, ToSlice(op.key), ToSlice(op.value));
        break;
    }
    if (!s.ok()) return FromRocks(s, "building a write batch");
    if (consume != nullptr) consume->ReleaseOp(i);
  }
  std::string index;
  PutFixed64(&index, applied_index.value);
  return FromRocks(out->Put(db.meta, ToSlice(kAppliedIndexKey), ToSlice(index)),
                   "building a write batch");
}

Status RocksDbEngine::RecoverIfNeeded() {
  if (!recovery_needed_) return Status::Ok();
  std::shared_ptr<Db> db = CurrentDb();
  if (options_.disable_wal && db != nullptr) {
    rocksdb::Status s = db->db->Resume();
    if (s.IsBusy()) return NoSpace("rocksdb resume: a recovery is already in progress");
    NDS_RETURN_IF_ERROR(FromRocks(s, "resume after a failed write"));
  } else {
    db.reset();
    NDS_RETURN_IF_ERROR(Reopen());
  }
  recovery_needed_ = false;
  return Status::Ok();
}

Status RocksDbEngine::Reopen() {
  WriterLock lock(db_mu_);
  if (db_ != nullptr && db_.use_count() > 1) {
    // Views and iterators hold the old database open (and its lock file).
    return Unavailable(
        fmt::format("rocksdb engine {}: after a failed write ({}), writes resume "
                    "once the open views are closed",
                    dir_, last_error_message_));
  }
  if (db_ != nullptr) {
    // Reopening needs room for a new WAL and MANIFEST: do not close a working (readable)
    // database while the disk is still full.
    struct statvfs fs {};
    if (::statvfs(dir_.c_str(), &fs) == 0 &&
        static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize < kReopenFreeBytesMin) {
      return NoSpace(
          fmt::format("rocksdb engine {}: the disk is still full ({})", dir_, last_error_message_));
    }
  }
  db_.reset();  // closes the database: every acknowledged write is in its WAL
  Result<OpenedDb> opened = OpenDb(dir_, options_);
  if (!opened.ok()) return opened.status();
  if (opened->applied_index != AppliedIndex()) {
    return IoError(fmt::format("rocksdb engine {}: reopened at applied index {}, expected {}", dir_,
                               opened->applied_index, AppliedIndex()));
  }
  db_ = std::move(opened->db);
  blob_gc_on_.store(false, std::memory_order_relaxed);  // as MakeOptions opens it
  blob_gc_files_ = 0;
  blob_gc_garbage_ = 0;
  return Status::Ok();
}

void RocksDbEngine::UpdateBlobGc(const Db& db) {
  const auto now = std::chrono::steady_clock::now();
  if (now - blob_gc_checked_ < options_.blob_gc_check_interval) return;
  blob_gc_checked_ = now;
  // Two cheap properties first: the full metadata (every SST and blob file) is read only when the
  // blob files or their garbage changed since the last look.
  uint64_t files = 0;
  uint64_t garbage = 0;
  if (db.db->GetIntProperty(db.data, "rocksdb.num-blob-files", &files) &&
      db.db->GetIntProperty(db.data, "rocksdb.live-blob-file-garbage-size", &garbage)) {
    if (files == blob_gc_files_ && garbage == blob_gc_garbage_) return;
    blob_gc_files_ = files;
    blob_gc_garbage_ = garbage;
  }
  rocksdb::ColumnFamilyMetaData meta;
  db.db->GetColumnFamilyMetaData(db.data, &meta);
  const bool on = blob_gc_on_.load(std::memory_order_relaxed);
  const bool want = WantBlobGarbageCollection(meta.blob_files, on);
  if (want == on) return;
  rocksdb::Status s =
      db.db->SetOptions(db.data, {{"enable_blob_garbage_collection", want ? "true" : "false"}});
  // A failure leaves the setting as it was; the next check tries again.
  if (s.ok()) blob_gc_on_.store(want, std::memory_order_relaxed);
}

Status RocksDbEngine::Write(const WriteBatch& batch, LogIndex applied_index, bool sync) {
  return WriteOps(batch, nullptr, applied_index, sync);
}

Status RocksDbEngine::WriteConsuming(WriteBatch* batch, LogIndex applied_index, bool sync) {
  return WriteOps(*batch, batch, applied_index, sync);
}

Status RocksDbEngine::WriteOps(const WriteBatch& batch, WriteBatch* consume, LogIndex applied_index,
                               bool sync) {
  MutexLock lock(write_mu_);
  NDS_CHECK(applied_index >= AppliedIndex(), "applied index {} after {}", applied_index,
            AppliedIndex());
  NDS_RETURN_IF_ERROR(RecoverIfNeeded());
  std::shared_ptr<Db> db = CurrentDb();
  NDS_CHECK(db != nullptr);  // RecoverIfNeeded reopened it
  QuietPerfContext();
  // Sized up front: a batch that grew by doubling copied its big values once per growth step.
  size_t reserve = kBatchHeaderBytes;
  for (const WriteBatch::Op& op : batch.ops()) {
    reserve += op.key.size() + op.value.size() + kBatchOpOverheadBytes;
  }
  rocksdb::WriteBatch rocks_batch(reserve);
  NDS_RETURN_IF_ERROR(BuildBatch(*db, batch, consume, applied_index, &rocks_batch));
  rocksdb::WriteOptions options;
  options.disableWAL = options_.disable_wal;
  options.sync = sync && !options_.disable_wal;
  rocksdb::Status s = db->db->Write(options, &rocks_batch);
  if (!s.ok()) {
    return Failed(FromRocks(s, fmt::format("write of a batch of {} ops", batch.ops().size())));
  }
  applied_index_.store(applied_index.value, std::memory_order_release);
  UpdateBlobGc(*db);
  if (sync && options_.disable_wal) {
    // No WAL: durability comes from flushing the memtables of both column families, atomically
    // (atomic_flush), so the applied index on disk always matches the data on disk. A failure
    // here leaves the batch visible but not durable; the caller must treat it as fatal.
    rocksdb::FlushOptions flush;
    flush.wait = true;
    flush.allow_write_stall = true;
    s = db->db->Flush(flush, {db->data, db->meta});
    if (!s.ok()) return Failed(FromRocks(s, "flush of a synced write"));
  }
  return Status::Ok();
}

Status RocksDbEngine::Checkpoint(const std::string& dir) const {
  std::error_code ec;
  if (std::filesystem::exists(dir, ec) || ec) {
    return ec ? IoError(fmt::format("checkpoint {}: {}", dir, ec.message()))
              : AlreadyExists(fmt::format("checkpoint {}: already exists", dir));
  }
  std::shared_ptr<Db> db = CurrentDb();
  if (db == nullptr) return Closed();
  rocksdb::Checkpoint* raw = nullptr;
  NDS_RETURN_IF_ERROR(FromRocks(rocksdb::Checkpoint::Create(db->db.get(), &raw), "checkpoint"));
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // log_size_for_flush 0: flush first, so that the copy is made of SST files (hard links when
  // on the same file system) and holds every write, even with the WAL off.
  NDS_RETURN_IF_ERROR(FromRocks(checkpoint->CreateCheckpoint(dir, /*log_size_for_flush=*/0),
                                fmt::format("checkpoint into {}", dir)));
  // RocksDB syncs the files and the new directory; the entry in the parent needs an fsync too.
  return SyncDir(ParentDir(dir));
}

EngineStats RocksDbEngine::Stats() const {
  EngineStats stats;
  std::shared_ptr<Db> db = CurrentDb();
  if (db == nullptr) return stats;
  uint64_t value = 0;
  if (db->db->GetIntProperty(db->data, "rocksdb.estimate-num-keys", &value)) {
    stats.keys_estimate = value;
  }
  if (db->db->GetIntProperty(db->data, "rocksdb.estimate-live-data-size", &value)) {
    stats.bytes_estimate = value;
  }
  if (db->db->GetIntProperty(db->data, "rocksdb.cur-size-all-mem-tables", &value)) {
    stats.bytes_estimate += value;
  }
  if (db->db->GetIntProperty(db->data, "rocksdb.live-blob-file-size", &value)) {
    stats.blob_bytes = value;
  }
  if (db->db->GetIntProperty(db->data, "rocksdb.live-blob-file-garbage-size", &value)) {
    stats.blob_garbage_bytes = value;
  }
  stats.blob_garbage_collection = blob_gc_on_.load(std::memory_order_relaxed);
  return stats;
}

// Turns RocksDB's automatic recovery from background errors off. Its recovery from a full disk
// polls for free space every few seconds in a thread of its own, and while it runs DB::Resume()
// answers Busy; with it off, the engine's next Write resumes the database itself, at once, as
// soon as space has been freed. Thread-safe (stateless).
class ManualRecoveryListener final : public rocksdb::EventListener {
 public:
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason /*reason*/, rocksdb::Status /*error*/,
                            bool* auto_recovery) override {
    *auto_recovery = false;
  }
};

rocksdb::Options MakeOptions(const RocksDbOptions& o) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  // Flushes of the two column families commit together: with the WAL off, the applied index
  // recovered after a crash always describes exactly the data recovered.
  options.atomic_flush = true;
  options.write_buffer_size = o.write_buffer_bytes;
  options.max_write_buffer_number = 2;
  options.allow_concurrent_memtable_write = false;  // one writer; with it, hints are ignored
  options.memtable_insert_with_hint_prefix_extractor = NewInsertHintPrefix(o.insert_hint_prefixes);
  // All memtables together (both column families, active and flushing) stay under this.
  options.write_buffer_manager =
      std::make_shared<rocksdb::WriteBufferManager>(2 * o.write_buffer_bytes);
  options.max_open_files = o.open_files_max;
  options.max_background_jobs = 2;
  // SST and blob files are written back to disk a MiB at a time as a flush or compaction writes
  // them, instead of all at once when each file is synced: a burst of tens of MiB of dirty pages
  // queued on the disk would hold up the Raft log's fdatasync behind it.
  options.bytes_per_sync = kBytesPerSync;
  // The info log is ours (BoundedFileLogger, set by the caller); these bound RocksDB's own
  // logger should it ever be used instead.
  options.keep_log_file_num = o.log_files_max;
  options.max_log_file_size = o.log_file_bytes_max;
  options.avoid_flush_during_shutdown = false;
  options.listeners.push_back(std::make_shared<ManualRecoveryListener>());
  // Big values (blobs) go to blob files at flush, not into SST blocks: a flush copies them once
  // instead of building and compressing blocks, and compactions move only their references.
  // Garbage collection rewrites the oldest blob files' live values so that the files can go: on
  // only while those files hold enough garbage (engine/rocksdb_tuning.h).
  options.enable_blob_files = true;
  options.min_blob_size = kMinBlobBytes;
  // Off until the oldest blob files hold enough garbage (RocksDbEngine::UpdateBlobGc).
  options.enable_blob_garbage_collection = false;
  options.blob_garbage_collection_age_cutoff = kBlobGcAgeCutoff;
  options.blob_garbage_collection_force_threshold = kBlobGcGarbageShareOn;

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(o.block_cache_bytes);
  // Index and filter blocks are charged to the block cache instead of living in each table
  // reader: memory stays bounded however many SST files there are.
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  table.block_size = kBlockBytes;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

// The applied index in the meta keys of `db` (0 when none was written yet).
Result<LogIndex> GetAppliedIndex(const Db& db, const std::string& dir) {
  std::string index;
  rocksdb::Status s =
      db.db->Get(rocksdb::ReadOptions(), db.meta, ToSlice(kAppliedIndexKey), &index);
  if (s.IsNotFound()) return LogIndex(0);
  NDS_RETURN_IF_ERROR(FromRocks(s, fmt::format("read the applied index of {}", dir)));
  if (index.size() != 8) {
    return Corruption(
        fmt::format("rocksdb engine {}: applied index of {} bytes, want 8", dir, index.size()));
  }
  return LogIndex(DecodeFixed64(index.data()));
}

// Reads the meta keys of a freshly opened database; writes the format version into a new one.
Result<LogIndex> LoadMeta(Db& db, const std::string& dir) {
  std::string version;
  rocksdb::Status s =
      db.db->Get(rocksdb::ReadOptions(), db.meta, ToSlice(kFormatVersionKey), &version);
  if (s.IsNotFound()) {
    std::string index_probe;
    rocksdb::Status p =
        db.db->Get(rocksdb::ReadOptions(), db.meta, ToSlice(kAppliedIndexKey), &index_probe);
    if (!p.IsNotFound()) {
      return p.ok() ? Corruption(fmt::format("rocksdb engine {}: applied index without a format "
                                             "version",
                                             dir))
                    : FromRocks(p, fmt::format("open {}", dir));
    }
    std::string encoded;
    PutFixed32(&encoded, kFormatVersion);
    rocksdb::WriteOptions sync;
    sync.sync = true;
    NDS_RETURN_IF_ERROR(
        FromRocks(db.db->Put(sync, db.meta, ToSlice(kFormatVersionKey), ToSlice(encoded)),
                  fmt::format("write the format version into {}", dir)));
    return LogIndex(0);
  }
  NDS_RETURN_IF_ERROR(FromRocks(s, fmt::format("open {}", dir)));
  if (version.size() != 4 || DecodeFixed32(version.data()) != kFormatVersion) {
    return Corruption(
        fmt::format("rocksdb engine {}: unknown format version ({} bytes)", dir, version.size()));
  }
  return GetAppliedIndex(db, dir);
}

Result<OpenedDb> OpenDb(const std::string& dir, const RocksDbOptions& options) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoStatus(errno, "create engine directory", dir);
  }
  rocksdb::Options db_options = MakeOptions(options);
  NDS_ASSIGN_OR_RETURN(
      db_options.info_log,
      BoundedFileLogger::Open(dir, options.log_file_bytes_max, options.log_files_max,
                              rocksdb::InfoLogLevel::INFO_LEVEL));
  rocksdb::ColumnFamilyOptions meta_options(db_options);
  meta_options.write_buffer_size = kMetaWriteBufferBytes;
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      rocksdb::ColumnFamilyDescriptor(rocksdb::kDefaultColumnFamilyName,
                                      rocksdb::ColumnFamilyOptions(db_options)),
      rocksdb::ColumnFamilyDescriptor(std::string(kMetaFamily), meta_options)};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      rocksdb::DB::Open(rocksdb::DBOptions(db_options), dir, families, &handles, &raw);
  NDS_RETURN_IF_ERROR(FromRocks(s, fmt::format("open {}", dir)));
  auto db = std::make_shared<Db>();
  db->db.reset(raw);
  NDS_CHECK(handles.size() == 2);
  db->data = handles[0];
  db->meta = handles[1];
  NDS_ASSIGN_OR_RETURN(LogIndex applied_index, LoadMeta(*db, dir));
  return OpenedDb{std::move(db), applied_index};
}

// Drops RocksDB's own log lines: a read-only look at a checkpoint must not write into it.
class SilentLogger final : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const char* /*format*/, va_list /*ap*/) override {}
};

}  // namespace

Result<LogIndex> ReadRocksDbCheckpointAppliedIndex(const std::string& dir) {
  rocksdb::DBOptions db_options;
  db_options.info_log = std::make_shared<SilentLogger>();
  db_options.max_open_files = 16;
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      rocksdb::ColumnFamilyDescriptor(rocksdb::kDefaultColumnFamilyName,
                                      rocksdb::ColumnFamilyOptions()),
      rocksdb::ColumnFamilyDescriptor(std::string(kMetaFamily), rocksdb::ColumnFamilyOptions())};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  NDS_RETURN_IF_ERROR(
      FromRocks(rocksdb::DB::OpenForReadOnly(db_options, dir, families, &handles, &raw),
                fmt::format("open checkpoint {} read-only", dir)));
  auto db = std::make_shared<Db>();
  db->db.reset(raw);
  NDS_CHECK(handles.size() == 2);
  db->data = handles[0];
  db->meta = handles[1];
  return GetAppliedIndex(*db, dir);
}

Result<std::unique_ptr<Engine>> OpenRocksDbEngine(const std::string& dir,
                                                  const RocksDbOptions& options) {
  if (options.write_buffer_bytes == 0 || options.block_cache_bytes == 0 ||
      options.log_files_max == 0 || options.open_files_max <= 0) {
    return InvalidArgument("rocksdb engine options: sizes and counts must be positive");
  }
  NDS_ASSIGN_OR_RETURN(OpenedDb opened, OpenDb(dir, options));
  return std::unique_ptr<Engine>(std::make_unique<RocksDbEngine>(dir, options, std::move(opened)));
}

}  // namespace nds::engine
