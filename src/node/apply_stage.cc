// ApplyStage (apply_stage.h): the committed entries applied to the engine in log order, off the
// Raft loop.
#include "node/apply_stage.h"

#include <condition_variable>
#include <utility>

#include <spdlog/spdlog.h>

#include "node/raft_codec.h"
#include "store/command.h"
#include "util/check.h"
#include "util/thread_annotations.h"

namespace nds::node {

struct ApplyStage::Shared {
  explicit Shared(Config c) : config(std::move(c)) {}
  const Config config;
  // Held while a batch is applied: one batch at a time, the oldest first.
  Mutex run_mu;
  Mutex mu;
  std::deque<std::vector<raft::Entry>> queue NDS_GUARDED_BY(mu);
  std::deque<Applied> applied NDS_GUARDED_BY(mu);
  Status stalled NDS_GUARDED_BY(mu);
  bool closed NDS_GUARDED_BY(mu) = false;
  std::atomic<uint64_t> backlog_entries{0};
  std::atomic<uint64_t> backlog_bytes{0};
  std::atomic<bool> has_applied{false};
};

ApplyStage::ApplyStage(Config config)
    : shared_(std::make_shared<Shared>(std::move(config))),
      pushed_(shared_->config.engine->AppliedIndex()),
      runner_("nds-apply", shared_->config.run, shared_->config.threaded,
              [s = shared_] { RunOne(s); }) {
  NDS_CHECK(shared_->config.die != nullptr);
}

ApplyStage::~ApplyStage() { Close(); }

uint64_t ApplyStage::backlog_entries() const {
  return shared_->backlog_entries.load(std::memory_order_acquire);
}

uint64_t ApplyStage::backlog_bytes() const {
  return shared_->backlog_bytes.load(std::memory_order_acquire);
}

bool ApplyStage::HasApplied() const { return shared_->has_applied.load(std::memory_order_acquire); }

void ApplyStage::Push(std::vector<raft::Entry> entries) {
  if (entries.empty()) return;
  // Log order: every batch starts right after the last one, and its entries follow each other.
  for (const raft::Entry& e : entries) {
    NDS_CHECK(e.index == pushed_.Next(), "entry {} handed to apply after {}", e.index, pushed_);
    pushed_ = e.index;
  }
  uint64_t bytes = 0;
  for (const raft::Entry& e : entries) bytes += e.data.size();
  {
    MutexLock lock(shared_->mu);
    shared_->queue.push_back(std::move(entries));
    shared_->backlog_entries.fetch_add(shared_->queue.back().size(), std::memory_order_acq_rel);
    shared_->backlog_bytes.fetch_add(bytes, std::memory_order_acq_rel);
  }
  runner_.Schedule();
}

std::deque<ApplyStage::Applied> ApplyStage::TakeApplied() {
  std::deque<Applied> out;
  MutexLock lock(shared_->mu);
  out.swap(shared_->applied);
  shared_->has_applied.store(false, std::memory_order_release);
  return out;
}

Status ApplyStage::Drain() {
  for (;;) {
    {
      MutexLock lock(shared_->mu);
      if (shared_->queue.empty()) return Status::Ok();
    }
    RunOne(shared_);
    MutexLock lock(shared_->mu);
    if (!shared_->stalled.ok()) return shared_->stalled;
  }
}

void ApplyStage::DropQueued() {
  MutexLock run(shared_->run_mu);
  MutexLock lock(shared_->mu);
  shared_->queue.clear();
  shared_->backlog_entries.store(0, std::memory_order_release);
  shared_->backlog_bytes.store(0, std::memory_order_release);
  shared_->stalled = Status::Ok();
}

Status ApplyStage::Stalled() const {
  MutexLock lock(shared_->mu);
  return shared_->stalled;
}

void ApplyStage::Retry() {
  {
    MutexLock lock(shared_->mu);
    if (shared_->stalled.ok() || shared_->queue.empty()) return;
  }
  runner_.Schedule();
}

void ApplyStage::Close() {
  {
    MutexLock run(shared_->run_mu);  // a batch running on another thread finishes first
    MutexLock lock(shared_->mu);
    shared_->closed = true;
  }
  runner_.Stop();
}

void ApplyStage::RunOne(const std::shared_ptr<Shared>& s) {
  MutexLock run(s->run_mu);
  const std::vector<raft::Entry>* batch = nullptr;
  {
    MutexLock lock(s->mu);
    if (s->closed || s->queue.empty()) return;
    batch = &s->queue.front();  // only popped under run_mu: stays put while it is applied
  }
  Applied applied;
  const auto start = std::chrono::steady_clock::now();
  std::optional<store::AppliedEvents> events;
  Status st = ApplyBatch(*s, *batch, &applied, &events);
  applied.took = std::chrono::steady_clock::now() - start;
  {
    MutexLock lock(s->mu);
    if (st.ok()) {
      s->backlog_entries.fetch_sub(batch->size(), std::memory_order_acq_rel);
      s->backlog_bytes.fetch_sub(applied.bytes, std::memory_order_acq_rel);
      s->queue.pop_front();
      s->applied.push_back(std::move(applied));
      s->has_applied.store(true, std::memory_order_release);
      s->stalled = Status::Ok();
    } else {
      s->stalled = st;
    }
  }
  if (st.ok() && s->config.on_applied) s->config.on_applied(events ? &*events : nullptr);
  if (s->config.wake) s->config.wake();
}

Status ApplyStage::ApplyBatch(Shared& s, const std::vector<raft::Entry>& entries, Applied* out,
                              std::optional<store::AppliedEvents>* events) {
  const Config& c = s.config;
  store::BatchApplier applier(c.engine.get(), c.history_revisions, c.history_bytes, c.token_cache,
                              c.lease_feed);
  const size_t capture = c.capture_events_bytes ? c.capture_events_bytes() : 0;
  if (capture != 0) applier.CaptureEvents(capture);
  LogIndex applied = c.engine->AppliedIndex();
  const LogIndex before = applied;
  out->first = entries.front().index;
  out->last = entries.back().index;
  for (const raft::Entry& e : entries) {
    // Exactly once and in order: the engine is at the entry before, whichever thread runs this.
    NDS_CHECK(e.index == applied.Next(), "entry {} applied after {}", e.index, applied);
    applied = e.index;
    out->bytes += e.data.size();
    if (e.type != raft::EntryType::kNormal || e.data.empty()) {
      applier.Skip(e.index);
      continue;
    }
    auto env = DecodeEnvelopeView(e.data);
    Result<store::Command> cmd =
        env.ok() ? store::DecodeCommand(env->command) : Result<store::Command>(env.status());
    if (!cmd.ok()) {
      // A committed entry every replica sees alike: skip it the same way everywhere.
      spdlog::error("skipping undecodable log entry {}: {}", e.index.value,
                    cmd.status().ToString());
      applier.Skip(e.index);
      continue;
    }
    if (cmd->type == store::CommandType::kAddMember ||
        cmd->type == store::CommandType::kRemoveMember ||
        cmd->type == store::CommandType::kPutSystem ||
        cmd->type == store::CommandType::kDeleteSystem) {
      out->membership_changed = true;
    }
    store::ApplyResult r = applier.Apply(*cmd, e.index);
    if (env->origin == c.self_id && env->request_id != 0) {
      out->mine.push_back(Mine{env->request_id, std::move(r), cmd->member_id});
    }
  }
  // Not synced: every applied entry is durable in the Raft log first, and a restart applies again
  // every committed entry after the engine's durable applied index (Config.applied).
  Status st = applier.Commit(c.engine.get(), /*sync=*/false);
  // A full disk wrote nothing: the same entries are applied again later.
  if (st.code() == StatusCode::kNoSpace) return st;
  if (!st.ok()) c.die("cannot apply committed entries", st);
  NDS_CHECK(c.engine->AppliedIndex() == out->last, "applied {} after a batch up to {}",
            c.engine->AppliedIndex(), out->last);
  size_t bytes = 0;
  if (auto kept = applier.TakeEvents(&bytes)) {
    *events = store::AppliedEvents{before.value, out->last.value, std::move(*kept), bytes};
  }
  return Status::Ok();
}

}  // namespace nds::node
