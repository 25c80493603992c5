// RaftNode's snapshots of its own engine (docs/cluster.md "Snapshots"): every --snapshot-entries
// applied entries (or --snapshot-bytes) a node checkpoints its engine into DATA/snap and drops its
// Raft log up to there.
//
// The checkpoint (a RocksDB flush and hard links, or a memory engine's file) and the CRCs of its
// files take tens to hundreds of milliseconds, so they run off the Raft loop (env_.run_off_loop)
// while the loop goes on writing, sending and applying. The snapshot is then at the index the
// checkpoint holds (read back from the checkpoint's own meta keys), which may be past the index
// applied when it started; its term comes from the log and its configuration from the history of
// configurations the loop keeps (ConfHistory). Sealing it (its metadata file and a rename) and
// compacting the log happen back on the loop, which owns the log and the snapshot store. The
// removal of what that made obsolete (older snapshots, the log's old segment files: tens of
// milliseconds of unlinking on a busy disk) runs off the loop again, as the job's second part;
// the next checkpoint starts only once it is done, so removals never overlap.
#include <spdlog/spdlog.h>

#include "engine/rocksdb_engine.h"
#include "node/raft_node.h"
#include "util/check.h"

namespace nds::node {
namespace {

// After a failed local snapshot, the next try waits this long.
constexpr std::chrono::seconds kSnapshotRetryDelay{10};

}  // namespace

// What runs off the loop, and what it found. Holds no reference to the node: with a driver's
// run_off_loop it may run after the node is gone.
struct RaftNode::CheckpointJob {
  // Set by the loop before the work starts.
  std::shared_ptr<engine::Engine> engine;
  FileSystem* fs = nullptr;
  std::string tmp_dir;  // DIR/snap/tmp-...: the checkpoint goes into tmp_dir/data
  std::function<Result<LogIndex>(std::string_view kind, const std::string& dir)> checkpoint_index;
  uint64_t engine_installs = 0;         // RaftNode::engine_installs_ when it started
  uint64_t applied_bytes_at_start = 0;  // RaftNode::applied_bytes_since_snapshot_ then
  Clock::time_point started;

  // Set by Run, read by the loop once done is true.
  Status status;
  LogIndex index;
  std::vector<wal::SnapshotFile> files;
  std::chrono::nanoseconds took{0};
  std::atomic<bool> done{false};

  // The second part (cleaning is true), set by the loop once it sealed the snapshot and compacted
  // the log: what to remove. Clean sets the statuses, then done again.
  bool cleaning = false;
  std::string snap_dir;
  int snapshots_retained = 1;
  std::string wal_dir;
  std::vector<std::string> segment_files;  // oldest first
  Status prune_status;
  Status segments_status;

  void Run() {
    const auto start = std::chrono::steady_clock::now();
    status = Cut();
    took = std::chrono::steady_clock::now() - start;
    done.store(true, std::memory_order_release);
  }

  void Clean() {
    prune_status = wal::SnapshotStore::PruneDir(fs, snap_dir, snapshots_retained);
    segments_status = wal::Wal::RemoveSegmentFiles(fs, wal_dir, segment_files);
    done.store(true, std::memory_order_release);
  }

  Status Cut() {
    const std::string data = tmp_dir + "/" + std::string(wal::kCheckpointDirName);
    // Durable on return, and the engine with it up to the checkpoint's index.
    NDS_RETURN_IF_ERROR(engine->Checkpoint(data));
    NDS_RETURN_IF_ERROR(EnsureDir(fs, data));  // an empty engine may write nothing
    NDS_ASSIGN_OR_RETURN(index, checkpoint_index(engine->Name(), data));
    NDS_ASSIGN_OR_RETURN(files, wal::SyncAndListFiles(fs, data));
    return Status::Ok();
  }
};

bool RaftNode::CheckpointDone() const {
  return checkpoint_job_ && checkpoint_job_->done.load(std::memory_order_acquire);
}

void RaftNode::MaybeSnapshot() {
  if (checkpoint_job_) {
    FinishDoneParts();
    return;
  }
  LogIndex applied = engine_->AppliedIndex();
  LogIndex last = wal_->SnapshotMeta().index;
  const bool by_entries = applied.value >= last.value + options_.limits.snapshot_entries;
  const bool by_bytes =
      applied > last && applied_bytes_since_snapshot_ >= options_.limits.snapshot_bytes;
  if (!by_entries && !by_bytes) return;
  if (Now() < snapshot_backoff_until_) return;
  StartCheckpoint();
  // Run at once (a driven node by default): finish it in the same pass, as before.
  FinishDoneParts();
}

void RaftNode::FinishDoneParts() {
  // A checkpoint whose cleanup also ran at once is finished whole; each round either ends the
  // job or leaves a part still running.
  while (checkpoint_job_ && checkpoint_job_->done.load(std::memory_order_acquire)) {
    if (checkpoint_job_->cleaning) {
      FinishCleanup();
    } else {
      FinishCheckpoint();
    }
  }
}

void RaftNode::RunOffLoop(std::function<void()> work) {
  if (env_.run_off_loop) {
    env_.run_off_loop(std::move(work));
  } else if (transport_) {
    // Open: a thread of its own, which wakes the loop when it is done. The node joins it
    // (FinishCheckpoint, FinishCleanup, Stop) before it goes away.
    NDS_CHECK(!checkpoint_thread_.joinable());
    checkpoint_thread_ = std::thread([this, work = std::move(work)] {
      work();
      { MutexLock lock(mu_); }
      wake_.notify_one();
    });
  } else {
    work();
  }
}

void RaftNode::StartCheckpoint() {
  auto tmp = snapshots_->MakeTmpDir("checkpoint");
  if (!tmp.ok()) {
    spdlog::error("cannot snapshot: {}; retrying later", tmp.status().ToString());
    snapshot_backoff_until_ = Now() + kSnapshotRetryDelay;
    return;
  }
  auto job = std::make_shared<CheckpointJob>();
  job->engine = engine_;
  job->fs = env_.fs;
  job->tmp_dir = *tmp;
  job->checkpoint_index = env_.checkpoint_index;
  job->engine_installs = engine_installs_;
  job->applied_bytes_at_start = applied_bytes_since_snapshot_;
  job->started = Now();
  checkpoint_job_ = job;
  RunOffLoop([job] { job->Run(); });
}

void RaftNode::FinishCleanup() {
  std::shared_ptr<CheckpointJob> job = std::move(checkpoint_job_);
  checkpoint_job_.reset();
  NDS_CHECK(job && job->cleaning && job->done.load(std::memory_order_acquire));
  if (checkpoint_thread_.joinable()) checkpoint_thread_.join();
  // An old snapshot left behind is removed by the next prune; a log segment that could not be
  // removed is a storage failure, as it was when the loop removed it.
  if (!job->prune_status.ok()) {
    spdlog::error("cannot remove old snapshots: {}; retrying at the next snapshot",
                  job->prune_status.ToString());
  }
  if (!job->segments_status.ok()) {
    Die("cannot remove the Raft log's compacted segments", job->segments_status);
  }
}

void RaftNode::FinishCheckpoint() {
  std::shared_ptr<CheckpointJob> job = std::move(checkpoint_job_);
  checkpoint_job_.reset();
  NDS_CHECK(job && !job->cleaning && job->done.load(std::memory_order_acquire));
  if (checkpoint_thread_.joinable()) checkpoint_thread_.join();
  const Clock::time_point loop_start = Now();
  auto discard = [&](std::chrono::seconds backoff) {
    IgnoreError(RemoveRecursively(env_.fs, job->tmp_dir), "best effort: Open removes tmp dirs");
    snapshot_backoff_until_ = loop_start + backoff;
  };
  if (!job->status.ok()) {
    spdlog::error("cannot snapshot: {}; retrying later", job->status.ToString());
    discard(kSnapshotRetryDelay);
    return;
  }
  const LogIndex index = job->index;
  if (job->engine_installs != engine_installs_ || index <= wal_->SnapshotMeta().index) {
    // A snapshot from the leader replaced the engine meanwhile, or this one holds nothing new.
    discard(std::chrono::seconds(0));
    return;
  }
  // The checkpoint was cut from the engine the loop applies to, after the job started.
  NDS_CHECK(index <= engine_->AppliedIndex(), "checkpoint at {} past the applied index {}", index,
            engine_->AppliedIndex());
  auto term = wal_->TermAt(index);
  std::optional<raft::ConfState> conf = conf_history_.At(index);
  if (!term.ok() || !conf) {
    spdlog::warn("no snapshot at {}: {}", index.value,
                 term.ok() ? "no configuration known there" : term.status().ToString());
    discard(kSnapshotRetryDelay);
    return;
  }
  raft::SnapshotMetadata meta;
  meta.index = index;
  meta.term = *term;
  meta.conf_state = *conf;
  wal::SnapshotManifest manifest;
  manifest.meta = meta;
  manifest.files = std::move(job->files);
  Status s = wal::SealSnapshot(env_.fs, snapshots_->dir(), job->tmp_dir, manifest);
  if (!s.ok() && s.code() != StatusCode::kAlreadyExists) {
    spdlog::error("cannot snapshot at {}: {}; retrying later", index.value, s.ToString());
    discard(kSnapshotRetryDelay);
    return;
  }
  if (s.code() == StatusCode::kAlreadyExists) {
    IgnoreError(RemoveRecursively(env_.fs, job->tmp_dir), "best effort: Open removes tmp dirs");
  }
  if (wal_writer_) wal_writer_->WaitIdle();  // the Wal has one writer at a time
  s = wal_->ApplySnapshot(meta);
  std::vector<std::string> segment_files;
  if (s.ok()) s = wal_->Compact(index, &segment_files);
  if (s.code() == StatusCode::kNoSpace) {
    snapshot_backoff_until_ = loop_start + kSnapshotRetryDelay;
    return;
  }
  if (!s.ok()) Die("cannot compact the Raft log at " + std::to_string(index.value), s);
  conf_history_.DropBefore(index);
  // What was applied while the checkpoint ran is not in it: it counts towards the next one.
  applied_bytes_since_snapshot_ -=
      std::min(applied_bytes_since_snapshot_, job->applied_bytes_at_start);
  metrics_.snapshots_made.fetch_add(1, std::memory_order_relaxed);
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  spdlog::info(
      "snapshot made in {} ms off the Raft loop and {} ms on it; Raft log compacted up to it "
      "event=snapshot_made index={} term={}",
      duration_cast<milliseconds>(job->took).count(),
      duration_cast<milliseconds>(Now() - loop_start).count(), index.value, term->value);
  // The second part, off the loop: older snapshots pruned, the compacted segments removed.
  job->cleaning = true;
  job->done.store(false, std::memory_order_relaxed);
  job->snap_dir = snapshots_->dir();
  job->snapshots_retained = snapshots_->snapshots_retained();
  job->wal_dir = wal_->dir();
  job->segment_files = std::move(segment_files);
  checkpoint_job_ = job;
  RunOffLoop([job] { job->Clean(); });
}

}  // namespace nds::node
