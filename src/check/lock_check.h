// The analysis of the lock workload (docs/check.md "Workloads"): never two holders of the lock.
//
// Each hold is recorded from the moment Lock::Acquire returned to the moment the holder began to
// release it, with the lock's fencing revision. While holding, the holder reads a fenced register
// (a key holding the fencing revision of the last holder that wrote it) and writes its own
// revision there with a compare-and-swap on the revision it read.
//
// Problems: two holds with the same fencing revision; two holds that overlap in time (the holder's
// lease TTL is much longer than a hold, so a correct lock never lets that happen unless the
// holder's lease was found lost, which is counted instead); fencing revisions that do not grow
// in the order of the holds; a register read that shows a fencing revision at or above the
// reader's own (a later holder wrote first); a compare-and-swap that found the register changed
// under a holder, when no earlier write's outcome was unknown.
//
// Pure functions: any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "check/workload.h"

namespace nds::check {

enum class FenceWrite : uint8_t { kNone, kSwapped, kMismatch, kUnknown };

struct LockHold {
  size_t client = 0;
  uint64_t fencing_revision = 0;
  uint64_t acquired_us = 0;   // Acquire returned
  uint64_t releasing_us = 0;  // Release began
  bool lease_lost = false;    // the holder's lease was found gone before Release
  // What the register held when read (nullopt: absent or unread), and the CAS of this hold.
  bool register_read = false;
  std::optional<uint64_t> register_value;
  FenceWrite write = FenceWrite::kNone;
};

WorkloadFindings CheckLockHistory(std::vector<LockHold> holds, size_t problems_max = 50);

}  // namespace nds::check
