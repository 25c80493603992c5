// Placeholder until the node composition lands: `nds start` reports that it is not built yet.
#include "cli/start_command.h"

#include <cstdio>
#include <cstdlib>

namespace nds::cli {

void RegisterStartCommand(CLI::App& app) {
  auto* start = app.add_subcommand("start", "Run a node in the foreground");
  start->callback([] {
    std::fputs("nds start: not built yet\n", stderr);
    std::exit(1);
  });
}

}  // namespace nds::cli
