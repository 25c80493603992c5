// The lease workload's analysis (see lease_check.h).
#include "check/lease_check.h"

#include <algorithm>

#include <fmt/format.h>

namespace nds::check {

WorkloadFindings CheckLeaseHistory(const std::vector<LeaseCycle>& cycles, size_t problems_max) {
  WorkloadFindings f;
  f.name = "lease";
  ProblemList problems(&f.problems, problems_max);
  uint64_t kept_reads = 0, keepalives = 0, expired = 0, after_reads = 0, not_expired = 0;
  for (const LeaseCycle& c : cycles) {
    // The earliest instant the lease may expire, as far as the probes so far show.
    uint64_t alive_until = c.granted_invoked_us + c.ttl_us;
    std::vector<LeaseProbe> probes = c.kept;
    std::sort(probes.begin(), probes.end(),
              [](const LeaseProbe& a, const LeaseProbe& b) { return a.invoked_us < b.invoked_us; });
    for (const LeaseProbe& p : probes) {
      if (p.result == ProbeResult::kUnknown) continue;
      ++f.checked;
      if (p.kind == ProbeKind::kKeepAlive) ++keepalives;
      if (p.kind == ProbeKind::kRead) ++kept_reads;
      if (p.result == ProbeResult::kGone && p.completed_us < alive_until) {
        problems.Add(fmt::format(
            "lease {}: {} at {}us found {} gone, {}us before its TTL could have run out", c.lease,
            p.kind == ProbeKind::kRead ? "a read" : "a keepalive", p.completed_us,
            p.kind == ProbeKind::kRead ? "key '" + c.key + "'" : std::string("the lease"),
            alive_until - p.completed_us));
      }
      if (p.kind == ProbeKind::kKeepAlive && p.result == ProbeResult::kPresent) {
        alive_until = std::max(alive_until, p.invoked_us + c.ttl_us);
      }
    }
    if (c.expiry_seen_us == 0) {
      ++not_expired;
      continue;
    }
    ++expired;
    for (const LeaseProbe& p : c.after_expiry) {
      if (p.result == ProbeResult::kUnknown) continue;
      ++f.checked;
      ++after_reads;
      if (p.result == ProbeResult::kPresent && p.invoked_us >= c.expiry_seen_us) {
        problems.Add(
            fmt::format("lease {}: key '{}' was read at {}us, after the lease was seen "
                        "gone at {}us",
                        c.lease, c.key, p.invoked_us, c.expiry_seen_us));
      }
    }
  }
  f.counts = {{"leases", cycles.size()},           {"keepalives_acknowledged", keepalives},
              {"reads_while_kept", kept_reads},    {"leases_seen_expired", expired},
              {"reads_after_expiry", after_reads}, {"leases_not_seen_expired", not_expired}};
  problems.Finish();
  return f;
}

}  // namespace nds::check
