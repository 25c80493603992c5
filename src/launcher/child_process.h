// Spawning and reaping one child process whose output goes to a log file: the mechanics under
// NodeProcess (launcher/node_process.h), also used by tests that run other `nds` subcommands in
// the background (`nds demo`).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "util/status.h"

namespace nds::launcher {

// Spawns argv[0] (a path) with arguments argv[1..], stdin from /dev/null (or from `stdin_fd` when
// it is not -1), stdout and stderr appended to `log_path` (created if missing), no signal blocked
// and SIGPIPE at its default, in our process group. Returns its pid, or kUnavailable naming the
// program and the errno text. Precondition: argv is not empty.
Result<pid_t> SpawnLogged(const std::vector<std::string>& argv, const std::string& log_path,
                          int stdin_fd = -1);

// Waits up to `timeout` for child `pid` to exit and reaps it. Returns its exit status (128+signal
// when a signal killed it), -1 when it is not our child (already reaped), or std::nullopt when it
// still runs after `timeout`.
std::optional<int> WaitExit(pid_t pid, std::chrono::milliseconds timeout);

// The last `bytes` bytes of the file at `path`; empty when it cannot be read.
std::string FileTail(const std::string& path, size_t bytes);

// The last non-empty line of `text` (without its line end); empty when there is none.
std::string LastLine(const std::string& text);

}  // namespace nds::launcher
