// OffLoopRunner: where a piece of the node's work that leaves the Raft loop runs (an apply batch,
// node/apply_stage.h; a Raft log write, node/wal_writer.h): one call of `run_one` per Schedule(),
// on a thread of the runner's own (`threaded`, no hook), in the closure handed to the hook (a test
// or the simulator holds it and runs it later, or never), or at once, inside Schedule() (a driven
// node: deterministic). `run_one` does the oldest work waiting, or nothing when none is left, so
// the order holds whoever calls it and when.
//
// Thread-safe: Schedule and Stop from the owner's thread; `run_one` on any.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "util/thread_annotations.h"

namespace nds::node {

class OffLoopRunner {
 public:
  using Work = std::function<void()>;
  // `thread_name`: the own thread's (util/thread_name.h).
  OffLoopRunner(std::string thread_name, std::function<void(Work)> hook, bool threaded,
                Work run_one);
  ~OffLoopRunner();
  OffLoopRunner(const OffLoopRunner&) = delete;
  OffLoopRunner& operator=(const OffLoopRunner&) = delete;

  void Schedule();
  // The own thread makes no further call after the one it is in; it is joined. The hook's
  // closures are the owner's to make harmless (`run_one` finds nothing to do).
  void Stop();

 private:
  const std::function<void(Work)> hook_;
  const Work run_one_;
  const bool own_thread_;
  Mutex mu_;
  std::condition_variable wake_;
  uint64_t pending_ NDS_GUARDED_BY(mu_) = 0;
  bool stopped_ NDS_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace nds::node
