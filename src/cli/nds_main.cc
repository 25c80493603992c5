// main() of the one `nds` binary: the client subcommands (cli/client_commands.h) and the server
// (`nds start`, cli/start_command.h). See docs/cli.md.
#include <CLI/CLI.hpp>

#include "cli/bench_command.h"
#include "cli/check_command.h"
#include "cli/client_commands.h"
#include "cli/demo_command.h"
#include "cli/start_command.h"

// CLI11 reports parse errors itself; any other throw is a bug, for which terminate is right.
// NOLINTNEXTLINE(bugprone-exception-escape)
int main(int argc, char** argv) {
  CLI::App app("nds: a strongly consistent, replicated key-value and blob store", "nds");
  nds::cli::ClientCommands client_commands;
  client_commands.Register(app);  // first: sets the error format and flags start inherits
  nds::cli::RegisterStartCommand(app);
  nds::cli::RegisterBenchCommand(app);
  nds::cli::RegisterDemoCommand(app);
  nds::cli::RegisterCheckCommand(app);
  return client_commands.ParseAndRun(app, argc, argv);
}
