// A linearizability checker for histories of a key-value register store (read, write, cas).
//
// Method: the history is split by key (operations on different keys commute, and linearizability
// is compositional, Herlihy & Wing 1990 §3.3). Each key's history is searched with the Wing & Gong
// algorithm (1993) as refined by Lowe (2017): walk the operations in order of invocation, try to
// linearize each pending one whose effect the sequential register allows, backtrack when an
// operation's completion is reached before it was linearized, and remember every
// (set of linearized operations, register value) pair already explored so that no configuration is
// explored twice.
//
// Indeterminate (and still pending) operations may take effect at any instant after their
// invocation, or never: the search treats their completion as lying after every other event, and
// succeeds as soon as every operation with a known outcome is linearized. A read without a known
// result observes nothing and is dropped, as is every failed operation.
//
// Equal times: an invocation and a completion at the same time are taken to overlap (the checker
// never invents a real-time order that the recorder could not vouch for).
//
// The search is bounded (steps and cache entries); when a bound is hit the answer is kUnknown,
// never a guess. Depends on util/ only: used by the simulator and by `nds check`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/history.h"
#include "util/status.h"

namespace nds::sim {

struct CheckOptions {
  // Search steps (an operation tried or a backtrack), summed over all keys, the minimisation
  // included.
  uint64_t steps_max = 20'000'000;
  // Configurations remembered for one key.
  size_t cache_entries_max = 2'000'000;
  // A violation on a key with at most this many operations is minimised (see CheckResult::ops);
  // beyond it the report names the operation that could not be linearized and its neighbours.
  size_t minimize_ops_max = 200;
};

enum class Verdict : uint8_t { kOk = 0, kViolation = 1, kUnknown = 2 };

std::string_view VerdictName(Verdict verdict);

struct CheckResult {
  Verdict verdict = Verdict::kOk;
  // kViolation / kUnknown: the key concerned (the first such key in key order).
  std::string key;
  // kViolation: operations of `key` that together are not linearizable, sorted by invocation.
  // When minimised, removing any one of them leaves a linearizable history (a 1-minimal core).
  std::vector<Operation> ops;
  // A readable explanation: the verdict, the key, and the operations one a line.
  std::string explanation;
  uint64_t steps = 0;
  size_t keys_checked = 0;
};

// Checks `ops` (any order; typically History::ops()). Errors (kInvalidArgument): an operation with
// a known outcome that completed before it was invoked. A violation on any key makes the verdict
// kViolation even when another key's search ran out of budget.
Result<CheckResult> CheckLinearizable(const std::vector<Operation>& ops,
                                      const CheckOptions& options = {});

}  // namespace nds::sim
