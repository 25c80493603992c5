// Small POSIX helpers the engines share for making files and directories durable: an fsync of a
// directory (so a created or renamed entry survives power loss) and errno-to-Status mapping
// (ENOSPC and EDQUOT become kNoSpace). Thread-safe (stateless).
#pragma once

#include <string>
#include <string_view>

#include "util/status.h"

namespace nds::engine {

// Maps an errno value from an operation `what` on `path` to a Status: ENOSPC/EDQUOT -> kNoSpace,
// anything else -> kIoError. The message names the operation, the path and strerror.
Status ErrnoStatus(int err, std::string_view what, std::string_view path);

// fsyncs the directory `dir` itself. Errors: kIoError (or kNoSpace) naming `dir`.
Status SyncDir(const std::string& dir);

// The directory that contains `path` ("." when `path` has no slash; a trailing slash is ignored).
std::string ParentDir(std::string_view path);

}  // namespace nds::engine
