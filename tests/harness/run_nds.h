// Runs the `nds` binary as a command (a client subcommand, snapshot, recover) for process tests:
// its exit code and its output (stdout and stderr joined). Blocking; bounded in time (300 s)
// and output.
#pragma once

#include <string>

namespace nds::test {

struct CommandResult {
  int exit_code = -1;  // -1 when it did not exit normally
  std::string output;  // stdout and stderr, at most 1 MiB
};

// Runs `nds <args>` through the shell (args are pasted as they are: quote them yourself).
CommandResult RunNds(const std::string& args);

}  // namespace nds::test
