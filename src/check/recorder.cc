// The thread-safe history recorder of `nds check` (see recorder.h).
#include "check/recorder.h"

#include <utility>

#include "util/check.h"

namespace nds::check {

Recorder::Recorder(size_t ops_max) : start_(std::chrono::steady_clock::now()), history_(ops_max) {}

uint64_t Recorder::NowMicros() const {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::steady_clock::now() - start_)
                                   .count());
}

Result<size_t> Recorder::Invoke(sim::Operation op) {
  MutexLock lock(mu_);
  return history_.Invoke(std::move(op), NowMicros());
}

void Recorder::CompleteOk(size_t handle, std::optional<std::string> observed, bool cas_swapped) {
  MutexLock lock(mu_);
  Status s = history_.CompleteOk(handle, NowMicros(), std::move(observed), cas_swapped);
  NDS_CHECK(s.ok(), "{}", s.ToString());
}

void Recorder::CompleteFailed(size_t handle) {
  MutexLock lock(mu_);
  Status s = history_.CompleteFailed(handle, NowMicros());
  NDS_CHECK(s.ok(), "{}", s.ToString());
}

void Recorder::CompleteIndeterminate(size_t handle) {
  MutexLock lock(mu_);
  Status s = history_.CompleteIndeterminate(handle, NowMicros());
  NDS_CHECK(s.ok(), "{}", s.ToString());
}

std::vector<sim::Operation> Recorder::Snapshot() const {
  MutexLock lock(mu_);
  return history_.ops();
}

std::string Recorder::ToText() const {
  MutexLock lock(mu_);
  return history_.ToText();
}

}  // namespace nds::check
