// The analysis of the lease workload (docs/check.md "Workloads"): a key attached to a lease that
// is kept alive never vanishes, and a key whose lease expired is never read again.
//
// Times are microseconds of the machine's steady clock, which the nodes' lease clocks also run
// on. A lease's clock restarts at each keepalive the leader receives (and at a new leader's
// start), so the lease cannot expire before (invocation of its last acknowledged keepalive, or of
// its grant) + TTL: a read that completed before that instant and found the key absent, or a
// keepalive answered "not found" then, is a problem. Once the lease was seen gone (GET
// /leases/{id} answered 404), every read that began after that answer must find the key absent.
//
// Pure functions: any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "check/workload.h"

namespace nds::check {

enum class ProbeKind : uint8_t { kKeepAlive, kRead };
enum class ProbeResult : uint8_t {
  kPresent,  // keepalive: acknowledged; read: the key's value
  kGone,     // keepalive: 404 (lease gone); read: 404 (key absent)
  kUnknown,  // no answer, or another error: nothing learnt
};

struct LeaseProbe {
  ProbeKind kind = ProbeKind::kRead;
  uint64_t invoked_us = 0;
  uint64_t completed_us = 0;
  ProbeResult result = ProbeResult::kUnknown;
};

// One lease's life in the workload: granted, one key put on it, kept alive for a while (probes),
// then left to expire; reads after its expiry was seen.
struct LeaseCycle {
  uint64_t lease = 0;
  std::string key;
  uint64_t ttl_us = 0;
  uint64_t granted_invoked_us = 0;
  std::vector<LeaseProbe> kept;  // keepalives and reads while it was kept alive
  // Set when GET /leases/{id} answered 404 after the keepalives stopped (completion time).
  uint64_t expiry_seen_us = 0;
  std::vector<LeaseProbe> after_expiry;  // reads begun after expiry_seen_us
};

// Counts (leases, reads while kept, reads after expiry, leases not seen to expire) and problems.
WorkloadFindings CheckLeaseHistory(const std::vector<LeaseCycle>& cycles, size_t problems_max = 50);

}  // namespace nds::check
