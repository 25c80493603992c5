// Printing a `nds check` report (see report.h).
#include "check/report.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace nds::check {
namespace {

std::string Seconds(uint64_t micros) { return fmt::format("{:.3f}s", micros / 1e6); }

std::string FormatCounts(std::string_view name, const OpCounts& c) {
  return fmt::format("{} {} (ok {}, failed {}, indeterminate {})", name, c.total(), c.ok, c.failed,
                     c.indeterminate);
}

nlohmann::json CountsJson(const OpCounts& c) {
  return {
      {"total", c.total()}, {"ok", c.ok}, {"failed", c.failed}, {"indeterminate", c.indeterminate}};
}

std::string FaultSummary(const std::vector<FaultEvent>& faults) {
  std::map<std::string_view, size_t> injected;
  size_t total = 0;
  size_t healed = 0;
  for (const FaultEvent& f : faults) {
    if (!f.injected) continue;
    ++injected[FaultKindName(f.kind)];
    ++total;
    healed += f.healed ? 1 : 0;
  }
  std::string s = fmt::format("{} injected ({} healed)", total, healed);
  for (const auto& [kind, n] : injected) s += fmt::format(", {} {}", kind, n);
  if (total < faults.size()) s += fmt::format(" ({} skipped)", faults.size() - total);
  return s;
}

std::string FormatWorkload(const WorkloadFindings& w) {
  std::string s = fmt::format("workload {}: {} observations checked\n", w.name, w.checked);
  for (const auto& [name, n] : w.counts) s += fmt::format("  {} {}\n", name, n);
  for (const std::string& note : w.notes) s += "  note: " + note + "\n";
  for (const std::string& p : w.problems) s += fmt::format("ANOMALY {}: {}\n", w.name, p);
  if (w.checked == 0) s += "ANOMALY nothing was checked\n";
  return s;
}

nlohmann::json WorkloadJson(const WorkloadFindings& w) {
  nlohmann::json counts = nlohmann::json::object();
  for (const auto& [name, n] : w.counts) counts[name] = n;
  return {{"name", w.name},
          {"checked", w.checked},
          {"counts", counts},
          {"notes", w.notes},
          {"problems", w.problems}};
}

}  // namespace

bool CheckReport::HasAnomaly() const {
  if (workload) {
    return !workload->problems.empty() || workload->checked == 0 || !two_geese.empty() ||
           !problems.empty();
  }
  return !linearizability.violations.empty() || !linearizability.unknown_keys.empty() ||
         !two_geese.empty() || !problems.empty() || counts.All().ok == 0;
}

std::string FormatText(const CheckReport& r) {
  std::string s = fmt::format("nds check: {}, {} clients, {} keys, seed {}, {:.1f}s\n", r.cluster,
                              r.clients, r.keys, r.seed, r.elapsed_seconds);
  if (!r.workload) {
    s += fmt::format("operations: {}\n", FormatCounts("all", r.counts.All()));
    s += fmt::format("  {}\n  {}\n  {}, swapped {}, mismatched {}\n",
                     FormatCounts("read", r.counts.read), FormatCounts("write", r.counts.write),
                     FormatCounts("cas", r.counts.cas), r.counts.cas_swapped,
                     r.counts.cas_mismatched);
  }
  s += fmt::format("faults: {}\n", FaultSummary(r.faults));
  for (const FaultEvent& f : r.faults) {
    s += fmt::format("  {} {} {}: {}\n", Seconds(f.time_us), FaultKindName(f.kind),
                     f.node.empty() ? "-" : f.node, f.detail);
  }
  s += fmt::format("role polls: {} answers, {} unanswered\n", r.role_answers, r.role_failures);
  if (r.workload) {
    s += FormatWorkload(*r.workload);
  } else {
    s += fmt::format("linearizability: {} keys checked, {} not linearizable, {} inconclusive\n",
                     r.linearizability.keys_checked, r.linearizability.violations.size(),
                     r.linearizability.unknown_keys.size());
  }
  if (!r.history_path.empty()) s += fmt::format("history: {}\n", r.history_path);
  for (const KeyViolation& v : r.linearizability.violations) {
    s += fmt::format("ANOMALY not linearizable (seed {}): {}\n", r.seed, v.explanation);
    size_t shown = std::min(v.ops.size(), kTextExcerptOpsMax);
    for (size_t i = 0; i < shown; ++i) s += "    " + sim::DescribeOperation(v.ops[i]) + "\n";
    if (shown < v.ops.size()) s += fmt::format("    ... {} more\n", v.ops.size() - shown);
  }
  for (const std::string& key : r.linearizability.unknown_keys) {
    s += fmt::format("ANOMALY inconclusive: the checker's budget ran out on key '{}'\n", key);
  }
  for (const TwoGeese& t : r.two_geese) {
    s += fmt::format("ANOMALY two geese in poll round {} at {}:", t.round, Seconds(t.sent_us));
    for (const GooseSample& g : t.geese) {
      s += fmt::format(" {} [{},{}]", g.address, Seconds(g.sent_us), Seconds(g.received_us));
    }
    s += "\n";
  }
  for (const std::string& p : r.problems) s += "ANOMALY " + p + "\n";
  if (!r.workload && r.counts.All().ok == 0)
    s += "ANOMALY no operation succeeded: nothing was checked\n";
  s += r.HasAnomaly() ? "result: ANOMALIES FOUND\n" : "result: ok, no anomaly\n";
  return s;
}

std::string FormatJson(const CheckReport& r) {
  nlohmann::json j;
  j["cluster"] = r.cluster;
  j["clients"] = r.clients;
  j["keys"] = r.keys;
  j["seed"] = r.seed;
  j["elapsed_seconds"] = r.elapsed_seconds;
  j["operations"] = {
      {"all", CountsJson(r.counts.All())},   {"read", CountsJson(r.counts.read)},
      {"write", CountsJson(r.counts.write)}, {"cas", CountsJson(r.counts.cas)},
      {"cas_swapped", r.counts.cas_swapped}, {"cas_mismatched", r.counts.cas_mismatched}};
  nlohmann::json faults = nlohmann::json::array();
  for (const FaultEvent& f : r.faults) {
    faults.push_back({{"time_us", f.time_us},
                      {"kind", FaultKindName(f.kind)},
                      {"node", f.node},
                      {"injected", f.injected},
                      {"healed", f.healed},
                      {"detail", f.detail}});
  }
  j["faults"] = faults;
  j["role_polls"] = {{"answers", r.role_answers}, {"unanswered", r.role_failures}};
  nlohmann::json violations = nlohmann::json::array();
  for (const KeyViolation& v : r.linearizability.violations) {
    nlohmann::json ops = nlohmann::json::array();
    for (size_t i = 0; i < v.ops.size() && i < kJsonExcerptOpsMax; ++i) {
      ops.push_back(sim::DescribeOperation(v.ops[i]));
    }
    violations.push_back({{"key", v.key}, {"explanation", v.explanation}, {"ops", ops}});
  }
  nlohmann::json geese = nlohmann::json::array();
  for (const TwoGeese& t : r.two_geese) {
    nlohmann::json answers = nlohmann::json::array();
    for (const GooseSample& g : t.geese) {
      answers.push_back(
          {{"address", g.address}, {"sent_us", g.sent_us}, {"received_us", g.received_us}});
    }
    geese.push_back({{"round", t.round}, {"sent_us", t.sent_us}, {"geese", answers}});
  }
  j["linearizability"] = {{"keys_checked", r.linearizability.keys_checked},
                          {"violations", violations},
                          {"inconclusive_keys", r.linearizability.unknown_keys}};
  j["two_geese"] = geese;
  j["problems"] = r.problems;
  if (!r.history_path.empty()) j["history"] = r.history_path;
  if (r.workload) j["workload"] = WorkloadJson(*r.workload);
  j["anomaly"] = r.HasAnomaly();
  return j.dump(2) + "\n";
}

}  // namespace nds::check
