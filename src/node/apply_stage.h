// ApplyStage: the committed entries of the Raft log, applied to the engine off the Raft loop
// (docs/design.md "What runs on the Raft loop").
//
// The loop saves and sends a Ready, hands its committed entries to Push (in log order) and goes
// on; the stage applies them to the engine in that order, exactly once, one batch at a time, and
// keeps what each batch produced (the answers of this node's writes, whether a member or system
// record changed) for the loop to take with TakeApplied. The loop answers the writes after it
// published its status, so the order of answers and /status is the same as before the stage.
//
// Who runs the batches: a thread of the stage's own (Config::run empty and threaded), at once
// inside Push (not threaded: a driven node, deterministic), or the closures handed to Config::run
// (a test holds them to make an apply slow). Each closure applies the oldest batch waiting, under
// one lock, so the order holds whoever runs them and when. Drain applies what waits on the
// caller's thread (the loop, before installing a snapshot).
//
// A full disk (the engine's kNoSpace) keeps the batch at the head of the queue and stalls the
// stage until Retry; Stalled() says why meanwhile.
//
// Thread-safe: Push, TakeApplied, Drain, Retry, Close from the loop; the batches on any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "node/off_loop_runner.h"
#include "raft/types.h"
#include "store/applier.h"
#include "store/lease_feed.h"
#include "store/token_cache.h"
#include "util/status.h"

namespace nds::node {

class ApplyStage {
 public:
  struct Config {
    std::shared_ptr<engine::Engine> engine;
    // The node's cache of token records over `engine` (store::BatchApplier); must outlive every
    // batch run before Close.
    store::TokenCache* token_cache = nullptr;
    // Told which lease records each batch wrote (store::BatchApplier); the same lifetime.
    store::LeaseFeed* lease_feed = nullptr;
    uint64_t history_revisions = 1;
    uint64_t history_bytes = 1;
    uint64_t self_id = 0;  // the node: the writes whose envelope names it as origin are answered
    // After each batch reached the engine, on the thread that ran it, with the batch's history
    // events when they were kept (capture_events_bytes), else nullptr; must not block.
    std::function<void(store::AppliedEvents* events)> on_applied;
    // Asked before each batch: how many bytes of its history events to keep in memory for
    // on_applied (0: none; a batch with more keeps none).
    std::function<size_t()> capture_events_bytes;
    // After each batch (applied or stalled), on the thread that ran it: wakes the loop.
    std::function<void()> wake;
    // A storage failure other than kNoSpace: must not return.
    std::function<void(std::string_view what, const Status& s)> die;
    // See above; with `threaded` and no `run`, the stage starts a thread of its own.
    std::function<void(std::function<void()> work)> run;
    bool threaded = false;
  };

  // One of this node's writes in a batch, with its result.
  struct Mine {
    uint64_t request_id = 0;
    store::ApplyResult result;
    uint64_t removed_member = 0;  // kRemoveMember: the member named
  };
  // What one batch did.
  struct Applied {
    LogIndex first;  // the batch's first and last log index
    LogIndex last;
    uint64_t bytes = 0;               // entry bytes applied
    bool membership_changed = false;  // a member or system record was written
    std::vector<Mine> mine;
    std::chrono::nanoseconds took{0};  // applying it (NodeMetrics::apply)
  };

  explicit ApplyStage(Config config);
  ~ApplyStage();
  ApplyStage(const ApplyStage&) = delete;
  ApplyStage& operator=(const ApplyStage&) = delete;

  // Queues `entries` (committed, contiguous, starting right after the last index pushed).
  void Push(std::vector<raft::Entry> entries);
  // The batches applied since the last call, in log order.
  std::deque<Applied> TakeApplied();
  // Whether TakeApplied has something (any thread).
  bool HasApplied() const;
  // Applies every batch waiting on the caller's thread. Ok, or the kNoSpace that stalled it.
  Status Drain();
  // After a snapshot replaced the engine (the queue drained): the next push starts after `index`.
  void StartAfter(LogIndex index) { pushed_ = index; }
  // Forgets the batches waiting (after a failed Drain, before a snapshot replaces them all).
  void DropQueued();
  // Entries (and their bytes) pushed and not yet applied (any thread).
  uint64_t backlog_entries() const;
  uint64_t backlog_bytes() const;
  // Ok, or the kNoSpace the head batch failed with; cleared once it applies.
  Status Stalled() const;
  // After a stall: tries the head batch again.
  void Retry();
  // No batch runs after this returns (a held closure run later does nothing); the thread joined.
  void Close();

 private:
  struct Shared;
  static void RunOne(const std::shared_ptr<Shared>& s);
  static Status ApplyBatch(Shared& s, const std::vector<raft::Entry>& entries, Applied* out,
                           std::optional<store::AppliedEvents>* events);

  std::shared_ptr<Shared> shared_;
  LogIndex pushed_;  // the last index pushed (loop)
  OffLoopRunner runner_;
};

}  // namespace nds::node
