// The lock workload's analysis (see lock_check.h).
#include "check/lock_check.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

namespace nds::check {

WorkloadFindings CheckLockHistory(std::vector<LockHold> holds, size_t problems_max) {
  WorkloadFindings f;
  f.name = "lock";
  ProblemList problems(&f.problems, problems_max);
  std::sort(holds.begin(), holds.end(),
            [](const LockHold& a, const LockHold& b) { return a.acquired_us < b.acquired_us; });
  std::map<uint64_t, size_t> by_revision;
  bool unknown_write = false;
  uint64_t lost = 0, swapped = 0, mismatched = 0, unknown = 0;
  const LockHold* previous = nullptr;  // the last hold with its lease intact, in time order
  for (size_t i = 0; i < holds.size(); ++i) {
    const LockHold& h = holds[i];
    ++f.checked;
    if (!by_revision.emplace(h.fencing_revision, h.client).second) {
      problems.Add(fmt::format("clients {} and {} both held the lock with fencing revision {}",
                               by_revision[h.fencing_revision], h.client, h.fencing_revision));
    }
    if (h.lease_lost) {
      ++lost;
    } else {
      if (previous != nullptr && h.acquired_us < previous->releasing_us) {
        problems.Add(fmt::format(
            "two holders: client {} (fencing revision {}) held the lock from {}us to {}us, client "
            "{} (fencing revision {}) from {}us",
            previous->client, previous->fencing_revision, previous->acquired_us,
            previous->releasing_us, h.client, h.fencing_revision, h.acquired_us));
      }
      if (previous != nullptr && h.fencing_revision <= previous->fencing_revision) {
        problems.Add(fmt::format(
            "fencing revisions went back: client {} got {} after client {} held it with {}",
            h.client, h.fencing_revision, previous->client, previous->fencing_revision));
      }
      if (previous == nullptr || h.releasing_us > previous->releasing_us) previous = &h;
    }
    if (h.register_read && h.register_value && *h.register_value >= h.fencing_revision) {
      problems.Add(fmt::format(
          "client {} (fencing revision {}) found the fenced register at revision {}: a later "
          "holder wrote before it",
          h.client, h.fencing_revision, *h.register_value));
    }
    switch (h.write) {
      case FenceWrite::kSwapped:
        ++swapped;
        break;
      case FenceWrite::kMismatch:
        ++mismatched;
        if (!unknown_write) {
          problems.Add(fmt::format(
              "client {} (fencing revision {}) found the fenced register changed while it held "
              "the lock",
              h.client, h.fencing_revision));
        }
        break;
      case FenceWrite::kUnknown:
        ++unknown;
        unknown_write = true;
        break;
      case FenceWrite::kNone:
        break;
    }
  }
  f.counts = {{"holds", holds.size()},
              {"register_swaps", swapped},
              {"register_mismatches", mismatched},
              {"register_writes_unknown", unknown},
              {"leases_lost", lost}};
  problems.Finish();
  return f;
}

}  // namespace nds::check
