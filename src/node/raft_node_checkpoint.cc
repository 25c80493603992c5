// RaftNode's snapshots of its own engine (docs/cluster.md "Snapshots"): every --snapshot-entries
// applied entries (or --snapshot-bytes) a node checkpoints its engine into DATA/snap and drops its
// Raft log up to there.
//
// A snapshot is made in four parts, each started by the loop once the one before is done, and
// none of the slow ones on the loop:
//   1. The checkpoint (a RocksDB flush and hard links, or a memory engine's file) and the CRCs of
//      its files, off the loop (env_.run_off_loop): tens to hundreds of milliseconds while the
//      loop goes on writing, sending and applying. The snapshot is at the index the checkpoint
//      holds (read back from the checkpoint's own meta keys), which may be past the index applied
//      when it started; its term comes from the log and its configuration from the history of
//      configurations the loop keeps (ConfHistory), both read on the loop, in memory.
//   2. Its seal (its metadata file, a rename and their fsyncs), off the loop again.
//   3. Its record in the Raft log and the log's compaction up to it, by the log's writer
//      (node/wal_writer.h), after the writes handed to it before: the loop neither writes nor
//      waits for the writes in flight.
//   4. The removal of what that made obsolete (older snapshots, the log's old segment files: tens
//      of milliseconds of unlinking on a busy disk), off the loop.
// The next checkpoint starts only once all four are done, so they never overlap.
#include <spdlog/spdlog.h>

#include "engine/rocksdb_engine.h"
#include "node/raft_node.h"
#include "util/check.h"
#include "util/thread_name.h"

namespace nds::node {
namespace {

// After a failed local snapshot, the next try waits this long.
constexpr std::chrono::seconds kSnapshotRetryDelay{10};

}  // namespace

// What runs off the loop, and what it found. Holds no reference to the node: with a driver's
// run_off_loop it may run after the node is gone.
struct RaftNode::CheckpointJob {
  CheckpointPart part = CheckpointPart::kCut;  // the part running, or the last one run

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

  // The seal: set by the loop (the manifest's metadata from the log and its configurations).
  wal::SnapshotManifest manifest;
  std::string snap_dir;
  Status seal_status;                     // set by Seal
  std::chrono::nanoseconds loop_time{0};  // spent on the loop by the parts so far

  // The cleanup, set by the loop once the writer recorded the snapshot and compacted the log:
  // what to remove. Clean sets the statuses, then done again.
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

  void Seal() {
    seal_status = wal::SealSnapshot(fs, snap_dir, tmp_dir, manifest);
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
    switch (checkpoint_job_->part) {
      case CheckpointPart::kCut:
        FinishCheckpoint();
        break;
      case CheckpointPart::kSeal:
        FinishSeal();
        break;
      case CheckpointPart::kRecord:  // not done: its end comes from the writer
        NDS_CHECK(false, "a snapshot the writer records marked done");
        return;
      case CheckpointPart::kClean:
        FinishCleanup();
        break;
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
      NameThisThread("nds-snapshot");
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

std::shared_ptr<RaftNode::CheckpointJob> RaftNode::TakeFinishedPart(CheckpointPart part) {
  std::shared_ptr<CheckpointJob> job = std::move(checkpoint_job_);
  checkpoint_job_.reset();
  NDS_CHECK(job && job->part == part && job->done.load(std::memory_order_acquire));
  if (checkpoint_thread_.joinable()) checkpoint_thread_.join();
  return job;
}

void RaftNode::FinishCleanup() {
  std::shared_ptr<CheckpointJob> job = TakeFinishedPart(CheckpointPart::kClean);
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
  std::shared_ptr<CheckpointJob> job = TakeFinishedPart(CheckpointPart::kCut);
  const Clock::time_point loop_start = Now();
  if (!job->status.ok()) {
    spdlog::error("cannot snapshot: {}; retrying later", job->status.ToString());
    DiscardCheckpoint(*job, kSnapshotRetryDelay);
    return;
  }
  const LogIndex index = job->index;
  if (job->engine_installs != engine_installs_ || index <= wal_->SnapshotMeta().index) {
    // A snapshot from the leader replaced the engine meanwhile, or this one holds nothing new.
    DiscardCheckpoint(*job, std::chrono::seconds(0));
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
    DiscardCheckpoint(*job, kSnapshotRetryDelay);
    return;
  }
  job->manifest.meta.index = index;
  job->manifest.meta.term = *term;
  job->manifest.meta.conf_state = *conf;
  job->manifest.files = std::move(job->files);
  job->snap_dir = snapshots_->dir();
  job->part = CheckpointPart::kSeal;
  job->done.store(false, std::memory_order_relaxed);
  job->loop_time += Now() - loop_start;
  checkpoint_job_ = job;
  RunOffLoop([job] { job->Seal(); });
}

void RaftNode::DiscardCheckpoint(const CheckpointJob& job, std::chrono::seconds backoff) {
  IgnoreError(RemoveRecursively(env_.fs, job.tmp_dir), "best effort: Open removes tmp dirs");
  snapshot_backoff_until_ = Now() + backoff;
}

void RaftNode::FinishSeal() {
  std::shared_ptr<CheckpointJob> job = TakeFinishedPart(CheckpointPart::kSeal);
  const Clock::time_point loop_start = Now();
  const raft::SnapshotMetadata& meta = job->manifest.meta;
  const Status& s = job->seal_status;
  if (!s.ok() && s.code() != StatusCode::kAlreadyExists) {
    spdlog::error("cannot snapshot at {}: {}; retrying later", meta.index.value, s.ToString());
    DiscardCheckpoint(*job, kSnapshotRetryDelay);
    return;
  }
  if (s.code() == StatusCode::kAlreadyExists) {
    IgnoreError(RemoveRecursively(env_.fs, job->tmp_dir), "best effort: Open removes tmp dirs");
  }
  if (job->engine_installs != engine_installs_ || meta.index <= wal_->SnapshotMeta().index) {
    // A snapshot from the leader replaced the engine while this one was sealed: the log already
    // records a newer one. (What was sealed is pruned with the older snapshots.)
    snapshot_backoff_until_ = loop_start;
    return;
  }
  // The log's writer records it after the writes handed to it before, all of which hold entries
  // up to its index or past it (that index was applied, so it is durable and committed: no later
  // write replaces it). Every write of the loop's own waits for the writer first.
  NDS_CHECK(wal_writer_ != nullptr);  // made at the end of Begin
  job->part = CheckpointPart::kRecord;
  job->done.store(false, std::memory_order_relaxed);
  job->loop_time += Now() - loop_start;
  checkpoint_job_ = job;
  WalWriter::Job record;
  record.snapshot = meta;
  wal_writer_->Push(std::move(record));
}

void RaftNode::FinishRecord(WalWriter::Done& d) {
  std::shared_ptr<CheckpointJob> job = std::move(checkpoint_job_);
  checkpoint_job_.reset();
  NDS_CHECK(job && job->part == CheckpointPart::kRecord && d.snapshot &&
                d.snapshot->index == job->manifest.meta.index,
            "the log's writer recorded a snapshot the loop did not hand it");
  const Clock::time_point loop_start = Now();
  const LogIndex index = d.snapshot->index;
  if (d.status.code() == StatusCode::kNoSpace) {
    // The disk is full (the writer's other writes fail with it: CollectWrites). The snapshot is
    // sealed but the log does not record it; the next one, once there is room, will.
    snapshot_backoff_until_ = loop_start + kSnapshotRetryDelay;
    return;
  }
  if (!d.status.ok())
    Die("cannot compact the Raft log at " + std::to_string(index.value), d.status);
  conf_history_.DropBefore(index);
  // What was applied while the checkpoint ran is not in it: it counts towards the next one.
  applied_bytes_since_snapshot_ -=
      std::min(applied_bytes_since_snapshot_, job->applied_bytes_at_start);
  metrics_.snapshots_made.fetch_add(1, std::memory_order_relaxed);
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  job->loop_time += Now() - loop_start;
  spdlog::info(
      "snapshot made in {} ms off the Raft loop and {} ms on it; Raft log compacted up to it "
      "event=snapshot_made index={} term={}",
      duration_cast<milliseconds>(job->took).count(),
      duration_cast<milliseconds>(job->loop_time).count(), index.value, d.snapshot->term.value);
  // The last part, off the loop: older snapshots pruned, the compacted segments removed.
  job->part = CheckpointPart::kClean;
  job->done.store(false, std::memory_order_relaxed);
  job->snapshots_retained = snapshots_->snapshots_retained();
  job->wal_dir = wal_->dir();
  job->segment_files = std::move(d.segment_files);
  checkpoint_job_ = job;
  RunOffLoop([job] { job->Clean(); });
}

}  // namespace nds::node
