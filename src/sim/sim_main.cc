// nds-sim: runs the deterministic whole-cluster simulation for one seed (`--seed=S`, which
// replays a failure exactly) or a range of seeds (`--seeds=N` runs 1..N), and prints one summary
// line per seed; on a failure, the seed, the replay command and the tail of the trace.
// See docs/simulation.md.
#include <cstdint>
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "sim/simulation.h"

namespace {

int RunOne(nds::sim::SimOptions options, bool verbose) {
  std::fprintf(stderr, "seed %llu ...\n", static_cast<unsigned long long>(options.seed));
  nds::sim::SimResult r = nds::sim::RunSimulation(options);
  std::printf("seed %llu: %s\n", static_cast<unsigned long long>(options.seed),
              r.Summary().c_str());
  if (verbose) std::printf("  faults: %s\n", r.faults.Describe().c_str());
  if (!r.ok) {
    std::printf("%s\n  faults: %s\n--- last trace lines ---\n%s", r.failure.c_str(),
                r.faults.Describe().c_str(), r.trace_tail.c_str());
    return 1;
  }
  return 0;
}

}  // namespace

// NOLINTNEXTLINE(bugprone-exception-escape): only a bug throws here; terminate is right.
int main(int argc, char** argv) {
  CLI::App app{"nds-sim: deterministic simulation of an nds Raft cluster"};
  nds::sim::SimOptions options;
  uint64_t seeds = 0;
  bool verbose = false;
  app.add_option("--seed", options.seed, "the seed of a single run (replays it exactly)");
  app.add_option("--seeds", seeds, "run seeds 1..N instead of --seed")
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--steps", options.steps, "ticks with faults per run")
      ->check(CLI::Range(1, 10'000'000));
  app.add_option("--nodes", options.nodes, "founding voters")->check(CLI::Range(1, 7));
  app.add_option("--clients", options.clients, "simulated clients")->check(CLI::Range(1, 64));
  app.add_option("--keys", options.keys, "keys the clients use")->check(CLI::Range(1, 1000));
  int64_t clock_skip = -1;
  app.add_option("--clock-skip", clock_skip,
                 "override the seed's clock skip chance (per million, per node and tick)")
      ->check(CLI::Range(0, 1'000'000));
  app.add_flag("--break-read-index", options.break_read_index,
               "deliberately wrong: clients read without ReadIndex (the checker must object)");
  app.add_flag("--break-fsync", options.break_fsync,
               "deliberately wrong: nodes never fsync (the checkers must object)");
  bool no_member_changes = false;
  app.add_flag("--no-member-changes", no_member_changes,
               "no members join or leave after the founding ones (see docs/simulation.md)");
  app.add_option("--snapshot-chunk-bytes", options.snapshot_chunk_bytes,
                 "the nodes' snapshot chunk size (default 512)")
      ->check(CLI::Range(64, 1 << 20));
  app.add_option("--history-revisions", options.history_revisions,
                 "revisions of change history the nodes keep (default 100)")
      ->check(CLI::Range(1, 100000));
  app.add_flag("--trace", options.trace_all, "print every trace line to stderr");
  app.add_flag("--node-logs", options.node_logs, "print the nodes' own log lines to stderr");
  app.add_flag("-v,--verbose", verbose, "print each run's fault mix");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  options.member_changes = !no_member_changes;
  auto with_overrides = [&](uint64_t seed) {
    options.seed = seed;
    options.faults = nds::sim::FaultMix::FromSeed(seed);
    if (clock_skip >= 0) options.faults->clock_skip_per_million = static_cast<uint64_t>(clock_skip);
  };
  if (seeds == 0) {
    with_overrides(options.seed);
    return RunOne(options, verbose);
  }
  int failures = 0;
  for (uint64_t s = 1; s <= seeds; ++s) {
    with_overrides(s);
    failures += RunOne(options, verbose);
  }
  std::printf("%d of %llu seeds failed\n", failures, static_cast<unsigned long long>(seeds));
  return failures == 0 ? 0 : 1;
}
