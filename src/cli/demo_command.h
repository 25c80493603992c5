// `nds demo`: a local cluster of real nodes in the foreground, for trying nds on one machine
// (docs/cli.md). Registered by nds_main.cc beside the other subcommands; the work is done by
// launcher::LocalCluster (launcher/local_cluster.h), running this same executable.
#pragma once

#include <CLI/CLI.hpp>

namespace nds::cli {

// Adds the `demo` subcommand and its flags to `app`. When chosen, its callback starts the
// cluster, prints how to reach it, waits for SIGINT/SIGTERM, stops every node (SIGTERM, SIGKILL
// after 10 s) and exits the process with 0, or with 1 (one line on stderr) when a port is taken
// or a node does not start.
void RegisterDemoCommand(CLI::App& app);

}  // namespace nds::cli
