// The body of `nds bench` (and of the standalone nds-bench): runs RunBench from parsed flags,
// shows the progress line on stderr when stdout is a terminal, and prints the final report (text
// or --json) on stdout. Shared by cli/bench_command.cc and nds_bench_main.cc.
//
// Called on the main thread.
#pragma once

#include <string_view>

#include "loadgen/bench_options.h"

namespace nds::loadgen {

// Exit statuses, as the other `nds` commands use them (docs/cli.md).
inline constexpr int kBenchExitOk = 0;
inline constexpr int kBenchExitError = 1;  // the run failed, or no operation succeeded
inline constexpr int kBenchExitUsage = 2;  // bad flags

// Validates `flags` against `servers_text`, runs the benchmark and prints. Returns an exit status;
// every failure is one line on stderr starting "nds bench: ".
int RunBenchCommand(const BenchFlags& flags, std::string_view servers_text);

}  // namespace nds::loadgen
