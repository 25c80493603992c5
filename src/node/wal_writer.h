// WalWriter: the Raft log's appends and fdatasyncs off the Raft loop (docs/design.md "What runs on
// the Raft loop", item 4; docs/raft.md "Asynchronous log writes").
//
// The loop hands each Ready's entries and hard state to Push, with the messages that may leave
// only once they are durable, and goes on with the next pass. The writer saves the jobs in the
// order pushed: every job waiting when it starts goes into one Wal::Save (one fdatasync), and each
// job still gets its own report for the loop to take with TakeDone: its last entry, now durable
// (for RawNode::OnAppendDurable), and its messages to send.
//
// Who runs the jobs: a thread of the writer's own (Config::run empty and threaded), at once inside
// Push (not threaded: a driven node, deterministic), or the closures handed to Config::run (the
// simulator holds them to make a write slow). Each closure saves the oldest job waiting, under
// one lock, so the order holds whoever runs them and when. WaitIdle saves what waits on the
// caller's thread (the loop, before it touches the Wal itself).
//
// A job may also carry a snapshot made at an index the log already holds durably: after its
// entries, the writer records it in the log (Wal::ApplySnapshot, one more fdatasync) and compacts
// the log up to it (Wal::Compact); the segment files that made obsolete come back in its Done for
// the loop to have removed. The loop's own snapshots are recorded there, so neither their write
// nor the wait for the writes before it holds up a pass.
//
// An I/O error stops the node (Config::die) on the thread that met it. A job failed with kNoSpace
// (a full disk) fails every job after it without
// touching the Wal, so the log never has a hole: the loop takes the failures, calls Reset once
// idle and has the core hand the unwritten entries out again.
//
// Thread-safe: Push, TakeDone, HasDone, WaitIdle, Reset and Close from the loop; the jobs on any
// thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "node/off_loop_runner.h"
#include "raft/messages.h"
#include "raft/types.h"
#include "util/status.h"
#include "wal/wal.h"

namespace nds::node {

class WalWriter {
 public:
  using Clock = std::chrono::steady_clock;
  struct Config {
    wal::Wal* wal = nullptr;  // not owned; outlives the writer
    // After each job (saved or failed), on the thread that ran it: wakes the loop.
    std::function<void()> wake;
    std::function<Clock::time_point()> now;
    // A failed save other than kNoSpace (the Wal is unusable), on the thread that ran it: must
    // not return (the core must not read the log again).
    std::function<void(std::string_view what, const Status& s)> die;
    // See above; with `threaded` and no `run`, the writer starts a thread of its own.
    std::function<void(std::function<void()> work)> run;
    bool threaded = false;
  };
  struct Job {
    raft::HardState hard_state;  // empty: none to save
    std::vector<raft::Entry> entries;
    std::vector<raft::Message> after;  // to send once the job is durable
    // Recorded after the entries, and the log compacted up to it (see above).
    std::optional<raft::SnapshotMetadata> snapshot = std::nullopt;
  };
  struct Done {
    LogIndex index;  // the job's last entry (0 when it had none)
    Term term;
    std::vector<raft::Message> after;
    Status status;
    uint64_t entry_bytes = 0;
    // The save (its writes and its fdatasync), on the first job of those saved together only.
    std::optional<std::chrono::nanoseconds> took;
    std::optional<raft::SnapshotMetadata> snapshot;  // the job's: recorded when status is ok
    std::vector<std::string> segment_files;  // ... and what its compaction left, oldest first
  };

  explicit WalWriter(Config config);
  ~WalWriter();
  WalWriter(const WalWriter&) = delete;
  WalWriter& operator=(const WalWriter&) = delete;

  void Push(Job job);
  // The jobs finished since the last call, in the order pushed.
  std::deque<Done> TakeDone();
  bool HasDone() const;
  // Nothing queued and nothing being saved (the jobs' results may still wait for TakeDone).
  bool Idle() const;
  // Nothing queued and nothing being saved: saves what waits on the caller's thread, or waits
  // for the job another thread is saving.
  void WaitIdle();
  // After a failure was taken and the writer is idle: later jobs are saved again.
  void Reset();
  // No job runs after this returns (a held closure run later does nothing); the thread joined.
  void Close();

 private:
  struct Shared;
  static void RunOne(const std::shared_ptr<Shared>& s);
  std::shared_ptr<Shared> shared_;
  OffLoopRunner runner_;
};

}  // namespace nds::node
