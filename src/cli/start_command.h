// `nds start` and `nds demo`: the server side of the `nds` binary (the composition root lives in
// node/). Registered by nds_main.cc beside the client subcommands.
#pragma once

#include <CLI/CLI.hpp>

namespace nds::cli {

// Adds the `start` subcommand (and its flags) to `app`. When the subcommand is chosen, its
// callback runs the node in the foreground until SIGTERM/SIGINT and exits the process with the
// node's exit status.
void RegisterStartCommand(CLI::App& app);

}  // namespace nds::cli
