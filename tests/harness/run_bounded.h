// Running an outside tool (redis-cli, chromium, …) from a process test: through the shell,
// bounded in time by timeout(1), its output captured (at most 1 MiB).
#pragma once

#include <string>

namespace nds::test {

struct Output {
  int exit_code = -1;  // -1 when it could not run or was killed by a signal
  std::string text;    // stdout and stderr together
};

// Runs `command` through the shell (stderr joined to stdout), at most `limit_seconds`.
Output RunBounded(const std::string& command, int limit_seconds = 60);

// True when `name` is a command on the PATH.
bool HaveTool(const std::string& name);

}  // namespace nds::test
