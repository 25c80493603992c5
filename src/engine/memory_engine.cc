// The memory engine (engine/memory_engine.h): an ordered map from key to a short chain of
// versions, each tagged with the sequence number of the write that made it.
//
// Invariants of the map (all under State::mu_):
//   - an Entry's `older` versions have increasing sequence numbers, all below `newest.seq`;
//   - an older version is kept only while some live view may read it (a view at sequence S reads
//     the newest version with seq <= S), or until the garbage collector reaches it;
//   - an entry whose newest version is a tombstone has at least one older version (otherwise it
//     is erased), so the map holds no dead keys that no view can see.
// Every version superseded while a view is open is queued (gc_queue_, in sequence order) and
// pruned once no live view is older than the write that superseded it.
#include "engine/memory_engine.h"

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unistd.h>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <sys/stat.h>

#include "engine/file_util.h"
#include "engine/memory_checkpoint.h"
#include "util/thread_annotations.h"

namespace nds::engine {
namespace {

// A reader of the latest state sees every version.
constexpr uint64_t kSeqLatest = std::numeric_limits<uint64_t>::max();
// An iterator copies pairs out in batches so that it holds the lock only briefly: a batch ends
// after this many pairs, or once it holds this many bytes (it always takes at least one pair),
// or after this many map entries were examined (skipping versions the view cannot see).
constexpr size_t kIteratorBatchPairsMax = 256;
constexpr size_t kIteratorBatchBytesMax = 256 << 10;
constexpr size_t kIteratorScanEntriesMax = 4096;
// Garbage-collection work, in queued keys, done by each view release and each write (a write
// also does two per op, so that collection keeps pace with the writes that create garbage).
constexpr size_t kGcKeysPerRelease = 1024;
constexpr size_t kGcKeysPerWrite = 256;

struct Version {
  uint64_t seq = 0;
  bool deleted = false;
  std::string value;
};

struct Entry {
  Version newest;
  // Increasing seq, all < newest.seq. Empty for almost every key.
  std::vector<Version> older;
};

using Map = std::map<std::string, Entry, std::less<>>;

// The version of `entry` a reader at `seq` sees; nullptr when the key is absent for it.
const Version* VisibleAt(const Entry& entry, uint64_t seq) {
  const Version* version = nullptr;
  if (entry.newest.seq <= seq) {
    version = &entry.newest;
  } else {
    for (auto it = entry.older.rbegin(); it != entry.older.rend(); ++it) {
      if (it->seq <= seq) {
        version = &*it;
        break;
      }
    }
  }
  return (version == nullptr || version->deleted) ? nullptr : version;
}

// Where an iterator resumes its scan.
struct Cursor {
  std::string key;  // the first map key not yet examined (inclusive)
  bool end = false;
};

// Pairs copied out of the map by one scan. Slots are reused to avoid allocations.
struct PairBatch {
  std::vector<std::pair<std::string, std::string>> slots;
  size_t count = 0;
};

// The map and everything about it. Shared (shared_ptr) by the engine, its views and iterators.
// Thread-safe: mu_ guards everything but applied_index_ (atomic; written under mu_).
class State {
 public:
  Result<std::optional<std::string>> Get(std::string_view key, uint64_t seq) const {
    ReaderLock lock(mu_);
    auto it = map_.find(key);
    if (it == map_.end()) return std::optional<std::string>();
    const Version* version = VisibleAt(it->second, seq);
    if (version == nullptr) return std::optional<std::string>();
    return std::optional<std::string>(version->value);
  }

  void Write(const WriteBatch& batch, LogIndex applied_index);

  // Adds the pair (key must be greater than every key already present) while loading a
  // checkpoint.
  void Append(std::string_view key, std::string_view value) {
    WriterLock lock(mu_);
    Entry entry;
    entry.newest = Version{1, false, std::string(value)};
    map_.emplace_hint(map_.end(), std::string(key), std::move(entry));
    seq_ = 1;
    ++live_keys_;
    live_bytes_ += key.size() + value.size();
  }
  void SetAppliedIndex(LogIndex index) {
    WriterLock lock(mu_);
    applied_index_.store(index.value, std::memory_order_release);
  }

  // A view at the current sequence: registers it and returns its sequence and applied index.
  std::pair<uint64_t, LogIndex> RegisterView() {
    WriterLock lock(mu_);
    view_seqs_.insert(seq_);
    return {seq_, LogIndex(applied_index_.load(std::memory_order_relaxed))};
  }
  void ReleaseView(uint64_t seq) {
    WriterLock lock(mu_);
    auto it = view_seqs_.find(seq);
    NDS_CHECK(it != view_seqs_.end(), "view at sequence {} released twice", seq);
    view_seqs_.erase(it);
    CollectGarbage(kGcKeysPerRelease);
  }

  // Copies into `batch` the next pairs visible at `seq` from `cursor` on, within the batch
  // limits, and advances `cursor`.
  void Scan(uint64_t seq, Cursor* cursor, PairBatch* batch) const;

  LogIndex applied_index() const {
    return LogIndex(applied_index_.load(std::memory_order_acquire));
  }
  EngineStats Stats() const {
    ReaderLock lock(mu_);
    return EngineStats{live_keys_, live_bytes_};
  }

 private:
  // Makes (seq, deleted, value) the newest version of `it`, keeping the old newest version if a
  // view may read it. May erase `it`.
  void SetNewest(Map::iterator it, uint64_t seq, bool deleted, std::string_view value)
      NDS_REQUIRES(mu_);
  // Drops the older versions of `it` no live view can read. May erase `it`.
  void Prune(Map::iterator it) NDS_REQUIRES(mu_);
  void CollectGarbage(size_t keys_max) NDS_REQUIRES(mu_);
  // Whether some live view has a sequence in [from, until).
  bool ViewMaySee(uint64_t from, uint64_t until) const NDS_REQUIRES(mu_) {
    auto it = view_seqs_.lower_bound(from);
    return it != view_seqs_.end() && *it < until;
  }

  mutable SharedMutex mu_;
  Map map_ NDS_GUARDED_BY(mu_);
  // The sequence of the last write; a new view reads at it.
  uint64_t seq_ NDS_GUARDED_BY(mu_) = 0;
  std::atomic<uint64_t> applied_index_{0};
  // The sequences of the live views (one element per view).
  std::multiset<uint64_t> view_seqs_ NDS_GUARDED_BY(mu_);
  // (sequence of the superseding write, key) for every version kept for a view, in sequence
  // order. Its length is bounded by the writes made while views were open.
  std::deque<std::pair<uint64_t, std::string>> gc_queue_ NDS_GUARDED_BY(mu_);
  // Keys and key-plus-value bytes of the latest state.
  uint64_t live_keys_ NDS_GUARDED_BY(mu_) = 0;
  uint64_t live_bytes_ NDS_GUARDED_BY(mu_) = 0;
};

void State::Write(const WriteBatch& batch, LogIndex applied_index) {
  WriterLock lock(mu_);
  NDS_CHECK(applied_index.value >= applied_index_.load(std::memory_order_relaxed),
            "applied index {} after {}", applied_index, applied_index_.load());
  const uint64_t seq = seq_ + 1;
  for (const WriteBatch::Op& op : batch.ops()) {
    switch (op.type) {
      case WriteBatch::OpType::kPut: {
        auto it = map_.lower_bound(op.key);
        if (it == map_.end() || it->first != op.key) {
          Entry entry;
          entry.newest = Version{seq, false, op.value};
          map_.emplace_hint(it, op.key, std::move(entry));
          ++live_keys_;
          live_bytes_ += op.key.size() + op.value.size();
        } else {
          SetNewest(it, seq, false, op.value);
        }
        break;
      }
      case WriteBatch::OpType::kDelete: {
        auto it = map_.find(op.key);
        if (it != map_.end() && !it->second.newest.deleted) SetNewest(it, seq, true, {});
        break;
      }
      case WriteBatch::OpType::kDeleteRange: {
        const std::string_view end = op.value;
        for (auto it = map_.lower_bound(op.key);
             it != map_.end() && std::string_view(it->first) < end;) {
          auto next = std::next(it);
          if (!it->second.newest.deleted) SetNewest(it, seq, true, {});
          it = next;
        }
        break;
      }
    }
  }
  seq_ = seq;
  applied_index_.store(applied_index.value, std::memory_order_release);
  CollectGarbage(kGcKeysPerWrite + 2 * batch.ops().size());
}

void State::SetNewest(Map::iterator it, uint64_t seq, bool deleted, std::string_view value) {
  Entry& entry = it->second;
  if (!entry.newest.deleted) {
    --live_keys_;
    live_bytes_ -= it->first.size() + entry.newest.value.size();
  }
  // A version made earlier in the same batch is invisible to every view: overwrite it.
  if (entry.newest.seq != seq && ViewMaySee(entry.newest.seq, seq)) {
    entry.older.push_back(std::move(entry.newest));
    gc_queue_.emplace_back(seq, it->first);
  }
  entry.newest.seq = seq;
  entry.newest.deleted = deleted;
  entry.newest.value.assign(value);
  if (!deleted) {
    ++live_keys_;
    live_bytes_ += it->first.size() + value.size();
  } else if (entry.older.empty()) {
    map_.erase(it);
  }
}

void State::Prune(Map::iterator it) {
  Entry& entry = it->second;
  std::vector<Version>& older = entry.older;
  size_t kept = 0;
  for (size_t i = 0; i < older.size(); ++i) {
    uint64_t until = i + 1 < older.size() ? older[i + 1].seq : entry.newest.seq;
    if (!ViewMaySee(older[i].seq, until)) continue;
    if (kept != i) older[kept] = std::move(older[i]);
    ++kept;
  }
  older.resize(kept);
  // A tombstone with nothing older reads the same as no version at all.
  size_t leading_tombstones = 0;
  while (leading_tombstones < older.size() && older[leading_tombstones].deleted) {
    ++leading_tombstones;
  }
  older.erase(older.begin(), older.begin() + static_cast<ptrdiff_t>(leading_tombstones));
  if (older.empty()) {
    older.shrink_to_fit();
    if (entry.newest.deleted) map_.erase(it);
  }
}

void State::CollectGarbage(size_t keys_max) {
  // A queued version was superseded at `seq`; once no view is older than that, none can read it.
  const uint64_t oldest_view = view_seqs_.empty() ? kSeqLatest : *view_seqs_.begin();
  for (size_t done = 0; done < keys_max && !gc_queue_.empty(); ++done) {
    if (gc_queue_.front().first > oldest_view) break;
    auto it = map_.find(gc_queue_.front().second);
    if (it != map_.end()) Prune(it);
    gc_queue_.pop_front();
  }
}

void State::Scan(uint64_t seq, Cursor* cursor, PairBatch* batch) const {
  ReaderLock lock(mu_);
  batch->count = 0;
  size_t batch_bytes = 0;
  size_t scanned = 0;
  auto it = map_.lower_bound(cursor->key);
  for (; it != map_.end(); ++it) {
    if (scanned == kIteratorScanEntriesMax || batch->count == kIteratorBatchPairsMax ||
        batch_bytes >= kIteratorBatchBytesMax) {
      break;
    }
    ++scanned;
    const Version* version = VisibleAt(it->second, seq);
    if (version == nullptr) continue;
    if (batch->count == batch->slots.size()) batch->slots.emplace_back();
    auto& [key, value] = batch->slots[batch->count++];
    key.assign(it->first);
    value.assign(version->value);
    batch_bytes += key.size() + value.size();
  }
  if (it == map_.end()) {
    cursor->end = true;
  } else {
    cursor->key.assign(it->first);
  }
}

// A registered view sequence; unregisters on destruction. Shared by a view and its iterators.
struct Registration {
  Registration(std::shared_ptr<State> s, std::pair<uint64_t, LogIndex> at)
      : state(std::move(s)), seq(at.first), applied_index(at.second) {}
  ~Registration() { state->ReleaseView(seq); }
  Registration(const Registration&) = delete;
  Registration& operator=(const Registration&) = delete;

  std::shared_ptr<State> state;
  uint64_t seq;
  LogIndex applied_index;
};

// Not thread-safe (Iterator's contract).
class MemoryIterator final : public Iterator {
 public:
  explicit MemoryIterator(std::shared_ptr<const Registration> registration)
      : registration_(std::move(registration)) {}

  void Seek(std::string_view target) override {
    cursor_.key.assign(target);
    cursor_.end = false;
    Refill();
  }
  bool Valid() const override { return position_ < batch_.count; }
  void Next() override {
    NDS_CHECK(Valid());
    if (++position_ == batch_.count) Refill();
  }
  std::string_view key() const override {
    NDS_CHECK(Valid());
    return batch_.slots[position_].first;
  }
  std::string_view value() const override {
    NDS_CHECK(Valid());
    return batch_.slots[position_].second;
  }
  Status status() const override { return Status::Ok(); }

 private:
  void Refill() {
    // A slot that once held a large value gives its memory back.
    for (auto& [key, value] : batch_.slots) {
      if (value.capacity() > kIteratorBatchBytesMax) std::string().swap(value);
    }
    position_ = 0;
    batch_.count = 0;
    while (batch_.count == 0 && !cursor_.end) {
      registration_->state->Scan(registration_->seq, &cursor_, &batch_);
    }
  }

  std::shared_ptr<const Registration> registration_;
  Cursor cursor_{"", true};  // not positioned until the first Seek
  PairBatch batch_;
  size_t position_ = 0;
};

// Thread-safe: immutable; State is thread-safe.
class MemoryView final : public View {
 public:
  explicit MemoryView(std::shared_ptr<const Registration> registration)
      : registration_(std::move(registration)) {}

  Result<std::optional<std::string>> Get(std::string_view key) const override {
    return registration_->state->Get(key, registration_->seq);
  }
  std::unique_ptr<Iterator> NewIterator() const override {
    return std::make_unique<MemoryIterator>(registration_);
  }
  LogIndex applied_index() const override { return registration_->applied_index; }

 private:
  std::shared_ptr<const Registration> registration_;
};

// Thread-safe (State is).
class MemoryEngine final : public Engine {
 public:
  explicit MemoryEngine(std::shared_ptr<State> state) : state_(std::move(state)) {}

  Result<std::optional<std::string>> Get(std::string_view key) const override {
    return state_->Get(key, kSeqLatest);
  }
  // Nothing is durable in this engine: `sync` has no effect (docs/engine.md).
  Status Write(const WriteBatch& batch, LogIndex applied_index, bool /*sync*/) override {
    state_->Write(batch, applied_index);
    return Status::Ok();
  }
  LogIndex AppliedIndex() const override { return state_->applied_index(); }
  std::unique_ptr<View> NewView() const override {
    auto registration = std::make_shared<const Registration>(state_, state_->RegisterView());
    return std::make_unique<MemoryView>(std::move(registration));
  }
  Status Checkpoint(const std::string& dir) const override;
  EngineStats Stats() const override { return state_->Stats(); }
  std::string_view Name() const override { return "memory"; }

 private:
  const std::shared_ptr<State> state_;
};

Status MemoryEngine::Checkpoint(const std::string& dir) const {
  if (::mkdir(dir.c_str(), 0700) != 0) {
    if (errno == EEXIST) return AlreadyExists(fmt::format("checkpoint {}: already exists", dir));
    return ErrnoStatus(errno, "create checkpoint directory", dir);
  }
  const std::string path = fmt::format("{}/{}", dir, kMemoryCheckpointFileName);
  Status status = WriteMemoryCheckpoint(path, *NewView());
  if (status.ok()) status = SyncDir(dir);
  if (status.ok()) status = SyncDir(ParentDir(dir));
  if (!status.ok()) {
    // Leave nothing half-written behind; the original error is what the caller needs.
    ::unlink(path.c_str());
    ::rmdir(dir.c_str());
  }
  return status;
}

}  // namespace

std::unique_ptr<Engine> NewMemoryEngine() {
  return std::make_unique<MemoryEngine>(std::make_shared<State>());
}

Result<std::unique_ptr<Engine>> OpenMemoryEngineCheckpoint(const std::string& dir) {
  auto state = std::make_shared<State>();
  NDS_ASSIGN_OR_RETURN(LogIndex applied_index,
                       ReadMemoryCheckpoint(fmt::format("{}/{}", dir, kMemoryCheckpointFileName),
                                            [&state](std::string_view key, std::string_view value) {
                                              state->Append(key, value);
                                            }));
  state->SetAppliedIndex(applied_index);
  return std::unique_ptr<Engine>(std::make_unique<MemoryEngine>(std::move(state)));
}

}  // namespace nds::engine
