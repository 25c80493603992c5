// Counting and checking a recorded history (see analysis.h).
#include "check/analysis.h"

#include <algorithm>
#include <map>
#include <string_view>

namespace nds::check {
namespace {

// What the search's cache of one configuration costs beyond its bits (hash, state, vector, node).
constexpr size_t kConfigBytes = 96;

void Count(OpCounts& counts, sim::OpOutcome outcome) {
  switch (outcome) {
    case sim::OpOutcome::kOk:
      ++counts.ok;
      return;
    case sim::OpOutcome::kFailed:
      ++counts.failed;
      return;
    case sim::OpOutcome::kPending:
    case sim::OpOutcome::kIndeterminate:
      ++counts.indeterminate;
      return;
  }
}

}  // namespace

OpCounts HistoryCounts::All() const {
  return {read.ok + write.ok + cas.ok, read.failed + write.failed + cas.failed,
          read.indeterminate + write.indeterminate + cas.indeterminate};
}

HistoryCounts CountOps(const std::vector<sim::Operation>& ops) {
  HistoryCounts c;
  for (const sim::Operation& op : ops) {
    switch (op.kind) {
      case sim::OpKind::kRead:
        Count(c.read, op.outcome);
        break;
      case sim::OpKind::kWrite:
        Count(c.write, op.outcome);
        break;
      case sim::OpKind::kCas:
        Count(c.cas, op.outcome);
        if (op.outcome == sim::OpOutcome::kOk)
          ++(op.cas_swapped ? c.cas_swapped : c.cas_mismatched);
        break;
    }
  }
  return c;
}

Result<LinearizabilityFindings> CheckHistory(const std::vector<sim::Operation>& ops,
                                             const sim::CheckOptions& options) {
  std::map<std::string_view, std::vector<sim::Operation>> by_key;
  for (const sim::Operation& op : ops) by_key[op.key].push_back(op);
  LinearizabilityFindings findings;
  for (const auto& [key, key_ops] : by_key) {
    // Each remembered configuration holds a bit per operation of the key: bound their memory.
    sim::CheckOptions key_options = options;
    key_options.cache_entries_max = std::min(
        options.cache_entries_max, kCheckerCacheBytesMax / (key_ops.size() / 8 + kConfigBytes));
    NDS_ASSIGN_OR_RETURN(sim::CheckResult result, sim::CheckLinearizable(key_ops, key_options));
    ++findings.keys_checked;
    if (result.verdict == sim::Verdict::kUnknown) {
      findings.unknown_keys.emplace_back(key);
    } else if (result.verdict == sim::Verdict::kViolation) {
      std::string first_line = result.explanation.substr(0, result.explanation.find('\n'));
      findings.violations.push_back({std::string(key), first_line, result.ops});
    }
  }
  return findings;
}

}  // namespace nds::check
