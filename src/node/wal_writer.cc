// WalWriter (wal_writer.h): the Raft log's saves, in the order the loop pushed them, off the loop.
#include "node/wal_writer.h"

#include <atomic>
#include <utility>

#include "util/check.h"
#include "util/thread_annotations.h"

namespace nds::node {

namespace {

// Entries of the jobs saved together, beyond the first job's.
constexpr uint64_t kGroupBytesMax = 16ull << 20;

// The jobs' entries and last hard state in one Wal::Save (one fdatasync). A later job's entries
// replace, from their first index on, what an earlier one held there (a leader of the same term
// overwrote entries still in flight); a job that does not follow on from the ones gathered so
// far (never expected) gets a save of its own after them. A job's snapshot is recorded once what
// came before it is saved, and the log compacted up to it (`segment_files` gets what that left).
Status SaveJobs(wal::Wal& wal, const std::vector<WalWriter::Job>& jobs,
                std::vector<std::string>* segment_files) {
  raft::HardState hard_state;
  std::vector<raft::Entry> entries;
  for (const WalWriter::Job& job : jobs) {
    if (!job.entries.empty()) {
      const LogIndex first = job.entries.front().index;
      while (!entries.empty() && entries.back().index >= first) entries.pop_back();
      if (!entries.empty() && entries.back().index.Next() != first) {
        NDS_RETURN_IF_ERROR(wal.Save(hard_state, entries));
        entries.clear();
      }
      entries.insert(entries.end(), job.entries.begin(), job.entries.end());
    }
    if (!job.hard_state.IsEmpty()) hard_state = job.hard_state;
    if (job.snapshot) {
      if (!entries.empty() || !hard_state.IsEmpty()) {
        NDS_RETURN_IF_ERROR(wal.Save(hard_state, entries));
        entries.clear();
        hard_state = raft::HardState{};
      }
      NDS_RETURN_IF_ERROR(wal.ApplySnapshot(*job.snapshot));
      NDS_RETURN_IF_ERROR(wal.Compact(job.snapshot->index, segment_files));
      if (&job == &jobs.back()) return Status::Ok();  // nothing after it to save
    }
  }
  return wal.Save(hard_state, entries);
}

}  // namespace

struct WalWriter::Shared {
  explicit Shared(Config c) : config(std::move(c)) {}
  const Config config;
  // Held while a job is saved: one at a time, the oldest first.
  Mutex run_mu;
  Mutex mu;
  std::deque<Job> queue NDS_GUARDED_BY(mu);
  std::deque<Done> done NDS_GUARDED_BY(mu);
  Status failed NDS_GUARDED_BY(mu);  // sticky until Reset: later jobs fail without a save
  bool closed NDS_GUARDED_BY(mu) = false;
  bool running NDS_GUARDED_BY(mu) = false;  // a job taken off the queue is being saved
  std::atomic<bool> has_done{false};
};

WalWriter::WalWriter(Config config)
    : shared_(std::make_shared<Shared>(std::move(config))),
      runner_("nds-log-writer", shared_->config.run, shared_->config.threaded,
              [s = shared_] { RunOne(s); }) {
  NDS_CHECK(shared_->config.wal != nullptr && shared_->config.now != nullptr &&
            shared_->config.die != nullptr);
}

WalWriter::~WalWriter() { Close(); }

void WalWriter::Push(Job job) {
  {
    MutexLock lock(shared_->mu);
    shared_->queue.push_back(std::move(job));
  }
  runner_.Schedule();
}

void WalWriter::RunOne(const std::shared_ptr<Shared>& s) {
  MutexLock run(s->run_mu);
  std::vector<Job> jobs;
  Status failed;
  {
    MutexLock lock(s->mu);
    if (s->closed || s->queue.empty()) return;
    // Every job waiting goes into one save (one fdatasync), up to kGroupBytesMax of entries
    // beyond the first job.
    uint64_t bytes = 0;
    while (!s->queue.empty()) {
      uint64_t job_bytes = 0;
      for (const raft::Entry& e : s->queue.front().entries) job_bytes += e.data.size();
      if (!jobs.empty() && bytes + job_bytes > kGroupBytesMax) break;
      bytes += job_bytes;
      jobs.push_back(std::move(s->queue.front()));
      s->queue.pop_front();
    }
    failed = s->failed;
    s->running = true;
  }
  Status status = failed;
  std::optional<std::chrono::nanoseconds> took;
  std::vector<std::string> segment_files;
  if (status.ok()) {
    const Clock::time_point start = s->config.now();
    status = SaveJobs(*s->config.wal, jobs, &segment_files);
    took = s->config.now() - start;
    if (!status.ok() && status.code() != StatusCode::kNoSpace) {
      s->config.die("cannot save the Raft log", status);
    }
  }
  std::deque<Done> done;
  for (Job& job : jobs) {
    Done d;
    if (!job.entries.empty()) {
      d.index = job.entries.back().index;
      d.term = job.entries.back().term;
    }
    for (const raft::Entry& e : job.entries) d.entry_bytes += e.data.size();
    d.after = std::move(job.after);
    if (job.snapshot) {
      d.snapshot = job.snapshot;
      d.segment_files.swap(segment_files);  // one snapshot at a time (the loop's)
    }
    d.status = status;
    d.took = took;
    took.reset();  // counted once, with the first job of the save
    done.push_back(std::move(d));
  }
  {
    MutexLock lock(s->mu);
    if (!status.ok() && s->failed.ok()) s->failed = status;
    for (Done& d : done) s->done.push_back(std::move(d));
    s->running = false;
    s->has_done.store(true, std::memory_order_release);
  }
  if (s->config.wake) s->config.wake();
}

std::deque<WalWriter::Done> WalWriter::TakeDone() {
  std::deque<Done> out;
  MutexLock lock(shared_->mu);
  out.swap(shared_->done);
  shared_->has_done.store(false, std::memory_order_release);
  return out;
}

bool WalWriter::HasDone() const { return shared_->has_done.load(std::memory_order_acquire); }

bool WalWriter::Idle() const {
  MutexLock lock(shared_->mu);
  return shared_->queue.empty() && !shared_->running;
}

void WalWriter::WaitIdle() {
  for (;;) {
    {
      MutexLock lock(shared_->mu);
      if (shared_->closed || shared_->queue.empty()) break;
    }
    RunOne(shared_);
  }
  // A job taken off the queue by another thread finishes before run_mu is free.
  MutexLock run(shared_->run_mu);
}

void WalWriter::Reset() {
  MutexLock run(shared_->run_mu);
  MutexLock lock(shared_->mu);
  NDS_CHECK(shared_->queue.empty(), "the Raft log's writer reset with jobs queued");
  shared_->failed = Status::Ok();
}

void WalWriter::Close() {
  {
    MutexLock run(shared_->run_mu);  // a job being saved on another thread finishes first
    MutexLock lock(shared_->mu);
    shared_->closed = true;
    shared_->queue.clear();
  }
  runner_.Stop();
}

}  // namespace nds::node
