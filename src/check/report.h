// The outcome of one `nds check` run (CheckReport), whether it found anomalies, and its two
// printed forms: text for people, --json for scripts (docs/check.md "Reading the output").
//
// Plain value types and pure functions: any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "check/analysis.h"
#include "check/check_options.h"
#include "check/fault_injector.h"
#include "check/role_poller.h"

namespace nds::check {

// Exit statuses (docs/cli.md): 0 no anomaly, 1 an anomaly (or nothing could be checked), 2 bad
// flags.
inline constexpr int kCheckExitOk = 0;
inline constexpr int kCheckExitAnomaly = 1;
inline constexpr int kCheckExitUsage = 2;

// Operations shown for each non-linearizable key in the text report (the JSON shows up to
// kJsonExcerptOpsMax).
inline constexpr size_t kTextExcerptOpsMax = 20;
inline constexpr size_t kJsonExcerptOpsMax = 200;

struct CheckReport {
  std::string cluster;  // "local cluster of 3 nodes (/tmp/...)" or "servers a:1,b:2"
  size_t clients = 0;
  size_t keys = 0;
  uint64_t seed = 0;
  double elapsed_seconds = 0;
  HistoryCounts counts;
  std::vector<FaultEvent> faults;
  uint64_t role_answers = 0;
  uint64_t role_failures = 0;
  LinearizabilityFindings linearizability;
  std::vector<TwoGeese> two_geese;
  // Nodes that did not come back, keys that no node could read at the end.
  std::vector<std::string> problems;
  std::string history_path;  // where the history was written, when it was
  // The findings of a workload other than register (workload.h); then the register counts and
  // the linearizability check are empty.
  std::optional<WorkloadFindings> workload;

  // A non-linearizable key, two geese, a problem, a key whose check was inconclusive, or a run
  // in which no operation succeeded (nothing was checked).
  bool HasAnomaly() const;
  int ExitCode() const { return HasAnomaly() ? kCheckExitAnomaly : kCheckExitOk; }
};

std::string FormatText(const CheckReport& report);
std::string FormatJson(const CheckReport& report);

}  // namespace nds::check
