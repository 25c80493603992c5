// Where a node's engine lives inside its data directory. The first engine is DATA/engine; a
// snapshot installed from the leader is opened in DATA/engine-<index> and becomes current when
// DATA/ENGINE (one line: the directory's name) is replaced atomically. Free functions;
// thread-safe as far as the file system is.
#pragma once

#include <string>

#include "util/file_system.h"
#include "util/status.h"

namespace nds::node {

// The path of the current engine directory: DATA/<name in DATA/ENGINE>, or DATA/engine when
// there is no DATA/ENGINE. kCorruption for a DATA/ENGINE that names no valid directory, and the
// read error for one that cannot be read: the node must not guess which engine is current.
Result<std::string> CurrentEngineDir(const std::string& data_dir,
                                     FileSystem* fs = DefaultFileSystem());
// Makes DATA/<name> current (temp file, fsync, rename, fsync of DATA). kInvalidArgument for a
// name with a '/' or starting with '.'; kIoError from the disk.
Status SetCurrentEngineDir(const std::string& data_dir, const std::string& name,
                           FileSystem* fs = DefaultFileSystem());
// Copies the directory tree `from` (at most a few levels deep) into `to`, which must not exist.
// Not synced: the caller syncs what it needs durable.
Status CopyDir(FileSystem* fs, const std::string& from, const std::string& to);
// Removes every DATA/engine* directory but the current one (left by an earlier install). Does
// nothing when the current one cannot be told (see CurrentEngineDir).
void RemoveStaleEngineDirs(const std::string& data_dir);

}  // namespace nds::node
