// `nds check`: the testing service (check/, docs/check.md), as a subcommand of the `nds` binary.
// Registered by nds_main.cc after the client subcommands, so that it shares their global
// --server / NDS_SERVER flag.
#pragma once

#include <CLI/CLI.hpp>

namespace nds::cli {

// Adds the `check` subcommand and its flags to `app`. When chosen, its callback runs the check,
// prints the report (text, or JSON with --json) on stdout and exits the process with 0 (no
// anomaly), 1 (anomalies, or the run could not take place) or 2 (bad flags).
void RegisterCheckCommand(CLI::App& app);

}  // namespace nds::cli
