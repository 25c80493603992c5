// `nds bench`: the load generator and latency measurer (loadgen/, docs/benchmarks.md), as a
// subcommand of the `nds` binary. Registered by nds_main.cc after the client subcommands, so that
// it shares their global --server / NDS_SERVER flag.
#pragma once

#include <CLI/CLI.hpp>

namespace nds::cli {

// Adds the `bench` subcommand and its flags to `app`. Uses `app`'s global --server option when
// there is one (ClientCommands::Register adds it), else adds --server / NDS_SERVER to the
// subcommand. When chosen, its callback runs the benchmark, prints the report and exits the
// process with 0 (ran, some operation succeeded), 1 (failed) or 2 (bad flags).
void RegisterBenchCommand(CLI::App& app);

}  // namespace nds::cli
