// Goal: the real Raft core, run by the deterministic simulator under a fixed range of seeds (each
// with its own fault mix), keeps every safety property, recovers liveness once the faults stop,
// and gives clients a linearizable history; a seed replays exactly; and the simulator is able to
// fail: deliberately broken clients (reads without ReadIndex) and nodes (no fsync) are caught.
// Method: RunSimulation over seed ranges, bounded to well under two minutes on the project's slow
// shared machine; every failure prints its seed, replay command and trace tail.
#include "sim/simulation.h"

#include <algorithm>
#include <cstdio>

#include <gtest/gtest.h>

namespace nds::sim {
namespace {

// A sanitizer build (unoptimised, instrumented) runs a sixteenth of each seed range, so that
// it ends within ctest's timeout; the release build (CI) runs them all, and `make sim` many more.
#ifdef NDS_SANITIZED
constexpr uint64_t kSeedShare = 16;
#else
constexpr uint64_t kSeedShare = 1;
#endif

// Runs seeds [first, first + count / kSeedShare) and returns the number that failed, printing
// each failure.
int RunSeeds(SimOptions options, uint64_t first, uint64_t count) {
  count = std::max<uint64_t>(1, count / kSeedShare);
  int failures = 0;
  for (uint64_t seed = first; seed < first + count; ++seed) {
    options.seed = seed;
    SimResult r = RunSimulation(options);
    if (!r.ok) {
      ++failures;
      ADD_FAILURE() << r.failure << "\n  " << r.Summary() << "\n  faults: " << r.faults.Describe()
                    << "\n--- last trace lines ---\n"
                    << r.trace_tail;
    }
  }
  return failures;
}

// The sweeps: members join and leave during the runs (the default), 2,020 seeds in all.
SimOptions SweepOptions() { return SimOptions{}; }

TEST(Simulation, ThreeNodeSeedsAreSafeLiveAndLinearizable) {
  SimOptions options = SweepOptions();
  EXPECT_EQ(RunSeeds(options, 1, 1500), 0);
}

TEST(Simulation, FiveNodeSeedsAreSafeLiveAndLinearizable) {
  SimOptions options = SweepOptions();
  options.nodes = 5;
  options.nodes_max = 8;
  EXPECT_EQ(RunSeeds(options, 10'001, 200), 0);
}

TEST(Simulation, OneHotKeyWithManyClientsIsLinearizable) {
  SimOptions options = SweepOptions();
  options.keys = 1;
  options.clients = 8;
  options.steps = 600;
  EXPECT_EQ(RunSeeds(options, 20'001, 200), 0);
}

TEST(Simulation, SingleNodeClusterWorks) {
  SimOptions options = SweepOptions();
  options.nodes = 1;
  EXPECT_EQ(RunSeeds(options, 30'001, 20), 0);
}

// Half the seeds hold each node's applies and Raft log writes for a few ticks at random
// (ClusterOptions::apply_lag_per_million): the Raft loop runs ahead of the engine and of its own
// log. Those seeds must meet the cases the ordering rules are for, snapshots installed over a
// backlog among them, and stay correct.
TEST(Simulation, SeedsWithTheEngineBehindTheLoopCoverSnapshotInstallsOverABacklog) {
  SimOptions options = SweepOptions();
  options.snapshot_chunk_bytes = 4096;
  uint64_t lag_ticks = 0, write_lag_ticks = 0, installs_over_backlog = 0;
  int failures = 0;
  for (uint64_t seed = 40'002; seed < 40'002 + 4 * 30 / kSeedShare; seed += 4) {
    for (uint64_t s : {seed, seed + 1}) {  // seed / 2 odd: lag on, with and without lease reads
      options.seed = s;
      SimResult r = RunSimulation(options);
      lag_ticks += r.counters.apply_lag_ticks;
      write_lag_ticks += r.counters.write_lag_ticks;
      installs_over_backlog += r.counters.snapshots_installed_over_backlog;
      if (!r.ok) {
        ++failures;
        ADD_FAILURE() << r.failure << "\n  " << r.Summary() << "\n--- last trace lines ---\n"
                      << r.trace_tail;
      }
    }
  }
  EXPECT_EQ(failures, 0);
  EXPECT_GT(lag_ticks, 0u) << "no apply was held";
  EXPECT_GT(write_lag_ticks, 0u) << "no Raft log write was held";
  // The cases themselves are counted over every seed of the range (the release build); a
  // sanitizer build runs too few of them to be sure to meet one.
  if (kSeedShare == 1) {
    EXPECT_GT(installs_over_backlog, 0u) << "no snapshot was installed over a backlog";
  }
}

TEST(Simulation, SameSeedReplaysExactly) {
  SimOptions options;
  options.seed = 4242;
  options.trace_tail_lines = 400;
  SimResult a = RunSimulation(options);
  SimResult b = RunSimulation(options);
  EXPECT_EQ(a.Summary(), b.Summary());
  EXPECT_EQ(a.trace_tail, b.trace_tail);
  options.seed = 4243;
  SimResult c = RunSimulation(options);
  EXPECT_NE(a.trace_tail, c.trace_tail);
}

TEST(Simulation, CalmRunAnswersEveryClientAndHoldsALease) {
  SimOptions options;
  options.seed = 5;
  options.faults = FaultMix{};  // nothing at all
  SimResult r = RunSimulation(options);
  ASSERT_TRUE(r.ok) << r.failure;
  EXPECT_EQ(r.ops_indeterminate, 0u);
  EXPECT_EQ(r.counters.crashes, 0u);
  EXPECT_GT(r.reads_ok, 100u);
  EXPECT_GT(r.lease_held_ticks, options.steps / 2);
  EXPECT_EQ(r.linearizability, Verdict::kOk);
}

TEST(Simulation, ReadsWithoutReadIndexAreCaughtAsStale) {
  SimOptions options;
  options.break_read_index = true;
  int caught = 0;
  // Up to 20 seeds, stopping once enough were caught (a failing run's check is the slow part).
  for (uint64_t seed = 1; seed <= 20 && caught < 5; ++seed) {
    options.seed = seed;
    SimResult r = RunSimulation(options);
    if (!r.ok && r.failure.find("not linearizable") != std::string::npos) ++caught;
  }
  EXPECT_GE(caught, 5);
}

TEST(Simulation, NodesThatNeverFsyncAreCaught) {
  SimOptions options;
  options.break_fsync = true;
  int caught = 0;
  // Up to 20 seeds, stopping once enough were caught (a failing run's check is the slow part).
  for (uint64_t seed = 1; seed <= 20 && caught < 3; ++seed) {
    options.seed = seed;
    caught += RunSimulation(options).ok ? 0 : 1;
  }
  EXPECT_GE(caught, 3);
}

TEST(Simulation, LeasesSurviveModerateClockDrift) {
  // Every node's clock misses up to half of the ticks: leases must stay exclusive.
  SimOptions options = SweepOptions();
  int failures = 0;
  for (uint64_t seed = 40'001; seed <= 40'100; ++seed) {
    options.seed = seed;
    options.faults = FaultMix::FromSeed(seed);
    options.faults->clock_skip_per_million = 500'000;
    SimResult r = RunSimulation(options);
    if (!r.ok) {
      ++failures;
      ADD_FAILURE() << r.failure << "\n" << r.trace_tail;
    }
  }
  EXPECT_EQ(failures, 0);
}

// Snapshots of 3-6 KB in 512-byte chunks, over a network that drops frames: a stream that lost a
// chunk resumes at the follower's offset (the follower asks, the leader goes back there), and the
// runs stay live. Before resuming, 76 of seeds 1..300 failed liveness with these settings.
TEST(Simulation, SnapshotStreamsThatLoseChunksResume) {
  SimOptions options;
  options.snapshot_chunk_bytes = 512;
  options.history_revisions = 100;
  uint64_t resumed = 0, installed = 0;
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    options.seed = seed;
    SimResult r = RunSimulation(options);
    EXPECT_TRUE(r.ok) << r.failure << "\n" << r.trace_tail;
    resumed += r.counters.snapshots_resumed;
    installed += r.counters.snapshots_installed;
  }
  EXPECT_GT(resumed, 0u);
  EXPECT_GT(installed, 0u);
}

// Clocks up to twenty times slower than real time break the lease's assumption: the checker
// should notice two lease holders. With the simulated Raft core alone, seeds 27 and 33 showed it;
// with the real node none of seeds 1..40 does (its published lease also ends at its own clock's
// reading of the last tick), so this needs a new demonstration; SafetyChecker's own test proves the
// check itself.
TEST(Simulation, DISABLED_GrosslySlowClocksAreCaughtByTheLeaseCheck) {
  SimOptions options;
  int caught = 0;
  for (uint64_t seed : {27, 33}) {
    options.seed = seed;
    options.faults = FaultMix::FromSeed(seed);
    options.faults->clock_skip_per_million = 950'000;
    SimResult r = RunSimulation(options);
    if (!r.ok && r.failure.find("hold a leader lease at once") != std::string::npos) ++caught;
  }
  EXPECT_GE(caught, 1);
}

// Seeds on which the real-node simulator found bugs in node/, replayed exactly: a forwarded write
// delivered twice was applied twice (found by seed 149; since the simulator presents hellos and
// uses 512-byte chunks, seed 81 is the one that fails when node/seen_forwards.h stops dropping
// the copy, and 149 no longer does); a ReadIndex answer meant for the node's previous
// incarnation served a read of the restarted node at an old read point (739); a node that crashed
// after its snapshot was durable but not the commit index could not start again (58, found with
// the membership fixed).
TEST(Simulation, SeedsThatFoundNodeBugsStayFixed) {
  for (uint64_t seed : {81, 739}) {
    SimOptions options;
    options.seed = seed;
    SimResult r = RunSimulation(options);
    EXPECT_TRUE(r.ok) << r.failure << "\n" << r.trace_tail;
  }
  SimOptions options;
  options.member_changes = false;
  options.seed = 58;
  SimResult r = RunSimulation(options);
  EXPECT_TRUE(r.ok) << r.failure << "\n" << r.trace_tail;
}

// A member that was down while others joined must follow one of them once it leads: it takes
// their frames (their ids are above its applied index) and answers at the peer address their
// hello claimed. Seed 120: node 1 missed the joins of 13 and 22, which then formed its quorum;
// seed 367 likewise.
TEST(Simulation, AMemberThatMissedAJoinCatchesUpWithTheNewLeader) {
  for (uint64_t seed : {120, 367}) {
    SimOptions options;
    options.seed = seed;
    SimResult r = RunSimulation(options);
    EXPECT_TRUE(r.ok) << r.failure << "\n" << r.trace_tail;
  }
}

}  // namespace
}  // namespace nds::sim
