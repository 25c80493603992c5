// What a simulation run reports: its fault mix, its one-line summary and the command that
// replays it (see simulation.h).
#include <string>

#include <fmt/format.h>

#include "sim/rng.h"
#include "sim/simulation.h"

namespace nds::sim {

FaultMix FaultMix::FromSeed(uint64_t seed) {
  Rng rng(seed ^ 0x5eed'f4a1'7000'0001ULL);
  auto pick = [&rng](uint64_t low, uint64_t high) -> uint64_t {
    switch (rng.Below(3)) {
      case 0:
        return 0;
      case 1:
        return low;
      default:
        return high;
    }
  };
  FaultMix f;
  f.drop_per_million = pick(10'000, 100'000);
  f.duplicate_per_million = pick(10'000, 50'000);
  f.long_delay_per_million = pick(5'000, 50'000);
  f.crash_per_million = pick(2'000, 10'000);
  f.restart_per_million = 20'000 + rng.Below(50'000);
  f.partition_per_million = pick(3'000, 10'000);
  f.swizzle_per_million = pick(1'000, 4'000);
  f.heal_per_million = 10'000 + rng.Below(20'000);
  f.membership_per_million = pick(3'000, 10'000);
  f.transfer_per_million = pick(2'000, 8'000);
  f.disk_full_per_million = pick(1'000, 5'000);
  f.disk_failure_per_million = pick(500, 2'000);
  f.clock_skip_per_million = pick(20'000, 80'000);  // up to 8% drift
  return f;
}

std::string FaultMix::Describe() const {
  return fmt::format(
      "drop={} dup={} long_delay={} crash={} restart={} partition={} swizzle={} heal={} "
      "membership={} transfer={} disk_full={} disk_failure={} clock_skip={} (per "
      "million)",
      drop_per_million, duplicate_per_million, long_delay_per_million, crash_per_million,
      restart_per_million, partition_per_million, swizzle_per_million, heal_per_million,
      membership_per_million, transfer_per_million, disk_full_per_million, disk_failure_per_million,
      clock_skip_per_million);
}

std::string SimResult::Summary() const {
  return fmt::format(
      "{} ticks={} ops={} (ok {}, reads {}, failed {}, indeterminate {}) lease_ticks={} "
      "lease_reads={} crashes={} restarts={} storage_deaths={} disk_full={} partitions={} "
      "swizzles={} joins={} removals={} leader_changes={} transfers={} forwarded_writes={} "
      "snapshots_made={} snapshots_sent={} snapshots_installed={} snapshots_resumed={} "
      "apply_lag_ticks={} write_lag_ticks={} installs_over_backlog={} max_term={} msgs={} "
      "dropped={} lin={} check_steps={}",
      ok ? "ok" : "FAILED", ticks, ops, ops_ok, reads_ok, ops_failed, ops_indeterminate,
      lease_held_ticks, counters.lease_read_batches, counters.crashes, counters.restarts,
      counters.storage_deaths, counters.disk_full, partitions, swizzles, counters.joins,
      counters.removals, counters.leader_changes, counters.transfers, forwarded_writes,
      counters.snapshots_made, counters.snapshots_sent, counters.snapshots_installed,
      counters.snapshots_resumed, counters.apply_lag_ticks, counters.write_lag_ticks,
      counters.snapshots_installed_over_backlog, terms, messages_sent, messages_dropped,
      VerdictName(linearizability), check_steps);
}

std::string ReplayCommand(const SimOptions& o) {
  return fmt::format(
      "nds-sim --seed={} --steps={} --nodes={} --clients={} --keys={}{}", o.seed, o.steps, o.nodes,
      o.clients, o.keys,
      std::string(o.member_changes ? "" : " --no-member-changes") +
          (o.break_read_index ? " --break-read-index" : "") +
          (o.break_fsync ? " --break-fsync" : "") +
          (o.snapshot_chunk_bytes > 0
               ? fmt::format(" --snapshot-chunk-bytes={}", o.snapshot_chunk_bytes)
               : "") +
          (o.history_revisions > 0 ? fmt::format(" --history-revisions={}", o.history_revisions)
                                   : ""));
}

}  // namespace nds::sim
