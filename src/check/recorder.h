// The history recorder of `nds check`: a sim::History shared by the client threads, stamped with
// one monotonic clock (microseconds since the recorder was made), so that the linearizability
// checker (sim/linearizability.h) sees the real-time order of invocations and completions.
//
// A time is read under the lock that records it: every recorded time is >= every time recorded
// before it, which is what sim::History requires, and an operation that completed before another
// was invoked is recorded so.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sim/history.h"
#include "util/status.h"
#include "util/thread_annotations.h"

namespace nds::check {

class Recorder {
 public:
  explicit Recorder(size_t ops_max);

  // Microseconds since construction (steady clock).
  uint64_t NowMicros() const;

  // Records the invocation of `op` now; returns its handle, or kResourceExhausted when the history
  // is full (the caller stops issuing operations).
  Result<size_t> Invoke(sim::Operation op);
  // Completions, stamped now. Errors only for a handle that is not pending (a programmer error,
  // which is checked).
  void CompleteOk(size_t handle, std::optional<std::string> observed = {},
                  bool cas_swapped = false);
  void CompleteFailed(size_t handle);
  void CompleteIndeterminate(size_t handle);

  // A copy of every operation recorded so far.
  std::vector<sim::Operation> Snapshot() const;
  // History::ToText() of everything recorded so far.
  std::string ToText() const;

 private:
  const std::chrono::steady_clock::time_point start_;
  mutable Mutex mu_;
  sim::History history_ NDS_GUARDED_BY(mu_);
};

}  // namespace nds::check
