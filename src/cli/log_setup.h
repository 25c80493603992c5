// The server's log output: `--log-level debug|info|warn|error` and `--log-format text|json` for
// `nds start` (and `nds demo`), and NO_COLOR. Text lines are spdlog's usual pattern; JSON lines
// are one object each: {"ts", "level", "msg", and every `key=value` word of the message as a
// field} (docs/operations.md "Logs"). The events the node logs (leader changes, elections,
// membership, snapshots, disk full) carry their figures as such words: `term=7 index=1042`.
//
// Call SetUpLogging once, on the main thread, before any other thread logs.
#pragma once

#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "util/status.h"

namespace nds::cli {

struct LogFlags {
  std::string level = "info";
  std::string format = "text";
};

// Adds --log-level and --log-format to `app`, writing into `flags` (which must outlive parsing).
void AddLogFlags(CLI::App* app, LogFlags* flags);

// Installs the default logger: stdout, the level and format of `flags`, colours only on a
// terminal and never when NO_COLOR is set (to anything but ""). kInvalidArgument on an unknown
// level or format.
Status SetUpLogging(const LogFlags& flags);

// One log message as a JSON line (no trailing newline handling: the line ends in '\n'):
// {"ts":"<RFC 3339 UTC, microseconds>","level":"info","msg":"...",<fields>}. A field is each
// space-separated word `key=value` of `msg` whose key is [a-z_]+; a value of digits only is a
// JSON number, any other value a string. Exposed for its unit test.
std::string FormatJsonLogLine(std::string_view ts, std::string_view level, std::string_view msg);

}  // namespace nds::cli
