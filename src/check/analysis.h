// What `nds check` concludes from a recorded history: operation counts, and the linearizability
// of each key's register history, decided by the project's one checker (sim/linearizability.h,
// Wing–Gong–Lowe). Lost acknowledged writes are found by the same check: the run ends with a
// read of every key, which no linearization can explain if an acknowledged write was lost.
//
// Pure functions: any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/history.h"
#include "sim/linearizability.h"
#include "util/status.h"

namespace nds::check {

// The memory the checker may use for its cache of explored configurations, per key. A key whose
// search needs more is inconclusive rather than a process that runs out of memory.
inline constexpr size_t kCheckerCacheBytesMax = size_t{1} << 30;

struct OpCounts {
  uint64_t ok = 0;
  uint64_t failed = 0;
  uint64_t indeterminate = 0;  // pending ones included
  uint64_t total() const { return ok + failed + indeterminate; }
};

struct HistoryCounts {
  OpCounts read;
  OpCounts write;
  OpCounts cas;
  uint64_t cas_swapped = 0;
  uint64_t cas_mismatched = 0;
  OpCounts All() const;
};

HistoryCounts CountOps(const std::vector<sim::Operation>& ops);

struct KeyViolation {
  std::string key;
  std::string explanation;          // the checker's, first line
  std::vector<sim::Operation> ops;  // the checker's excerpt (a minimal core when it could shrink)
};

struct LinearizabilityFindings {
  size_t keys_checked = 0;
  std::vector<KeyViolation> violations;   // in key order
  std::vector<std::string> unknown_keys;  // the search ran out of budget on these
};

// Checks each key of `ops` on its own (a budget of `options` per key, its cache also bounded by
// kCheckerCacheBytesMax), so that every non-linearizable key is reported, not only the first.
// kInvalidArgument for a malformed history (a completion before its invocation).
Result<LinearizabilityFindings> CheckHistory(const std::vector<sim::Operation>& ops,
                                             const sim::CheckOptions& options = {});

}  // namespace nds::check
