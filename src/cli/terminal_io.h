// Input and output of the `nds` client subcommands: reading a value from a file or stdin
// (binary-safe, bounded), writing raw bytes to stdout, and the one-line error messages a person
// can act on (docs/api.md "Command line"). Called from the main thread only.
#pragma once

#include <string>
#include <string_view>

#include "util/status.h"

namespace nds::cli {

// Exit statuses of the `nds` binary (docs/cli.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;        // any other failure (refused, conflict, I/O, ...)
inline constexpr int kExitUsage = 2;        // a bad command line or argument; nothing was sent
inline constexpr int kExitNotFound = 3;     // the key, secret, token or member does not exist
inline constexpr int kExitUnavailable = 4;  // no node answered, no leader, or it timed out

// The exit status for a failed command's `status`: kExitNotFound, kExitUnavailable (kUnavailable,
// kTimeout, kNotLeader), kExitUsage (kInvalidArgument found before anything was sent is the
// caller's to report; a server's 400 is kExitError), else kExitError.
int ExitStatusFor(const Status& status);
// `nds txn`: the transaction ran its failure ops (a compare did not hold).
inline constexpr int kExitTxnFailed = 5;

// A value read from a file or stdin larger than this is refused (the server's default value
// limit is 16 MiB; this leaves room for servers configured higher without unbounded memory).
inline constexpr size_t kInputBytesMax = 256 << 20;

// Reads all of `path` ("-" for stdin) as bytes. kInvalidArgument when it cannot be opened or is
// larger than `bytes_max`; kIoError on a read error. Both messages name the path.
Result<std::string> ReadInput(const std::string& path, size_t bytes_max = kInputBytesMax);

// Writes `bytes` to stdout exactly (no newline added) and flushes. kIoError when stdout fails.
Status WriteStdout(std::string_view bytes);

// Returns the one-line message (no trailing newline) for `status` from the action described by
// `context` (e.g. "get 'photos/cat.jpg'"): "nds: CONTEXT: MESSAGE", with advice where the code
// has one: an unreachable cluster names the addresses and suggests 'nds start' or --server; a
// timeout suggests --timeout. Control bytes in the
// server's message are replaced so that the message stays one line.
std::string ErrorLine(std::string_view context, const Status& status);

// Prints ErrorLine(context, status) and a newline to stderr; returns ExitStatusFor(status).
int ReportError(std::string_view context, const Status& status);

// `bytes` quoted for a message: 'abc', with control bytes escaped and long keys cut.
std::string Quoted(std::string_view bytes);

}  // namespace nds::cli
