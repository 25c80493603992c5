// One-member data directories: the lock, new identities, and the sealing snapshot.
#include "cli/one_member_dir.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include <sys/file.h>

#include "crypto/random.h"
#include "util/check.h"
#include "util/file_system.h"
#include "util/hex.h"
#include "wal/snapshot_store.h"
#include "wal/wal.h"

namespace nds::cli {

Result<std::unique_ptr<DataDirLock>> DataDirLock::Acquire(const std::string& data_dir) {
  const std::string path = JoinPath(data_dir, "lock");
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("cannot open " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return FailedPrecondition(data_dir +
                                " is in use by a running nds node (it holds the lock on " + path +
                                "): stop it first");
    }
    return IoError("cannot lock " + path + ": " + std::strerror(err));
  }
  return std::unique_ptr<DataDirLock>(new DataDirLock(fd));
}

DataDirLock::~DataDirLock() { ::close(fd_); }

Result<std::string> MakeClusterId() {
  uint8_t bytes[16];
  NDS_RETURN_IF_ERROR(crypto::RandomBytes(bytes));
  return HexEncode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

Result<std::string> MakeClusterSecret() {
  std::string secret(32, '\0');
  NDS_RETURN_IF_ERROR(crypto::RandomBytes(
      std::span<uint8_t>(reinterpret_cast<uint8_t*>(secret.data()), secret.size())));
  return secret;
}

Status SealOneMemberSnapshot(const std::string& data_dir, const engine::Engine& engine,
                             LogIndex index, Term term, NodeId self, Term hs_term, NodeId hs_vote,
                             bool replace) {
  NDS_CHECK(index.value > 0);
  NDS_CHECK(engine.AppliedIndex() == index);
  NDS_CHECK(hs_term >= term);
  FileSystem* fs = DefaultFileSystem();
  raft::SnapshotMetadata meta;
  meta.index = index;
  meta.term = term;
  meta.conf_state.voters = {self};
  const std::string snap_dir = JoinPath(data_dir, wal::kSnapshotDirName);
  if (replace) {
    NDS_RETURN_IF_ERROR(RemoveRecursively(
        fs, JoinPath(snap_dir, wal::SnapshotStore::SnapshotName(index, term)), 16));
  }
  NDS_ASSIGN_OR_RETURN(auto snapshots, wal::SnapshotStore::Open(fs, snap_dir));
  Status created =
      snapshots->Create(meta, [&engine](const std::string& dir) { return engine.Checkpoint(dir); });
  if (!created.ok() && created.code() != StatusCode::kAlreadyExists) return created;
  // With `replace`, the old log goes: everything in it is in the engine and so in the snapshot,
  // and its configuration entries must not be replayed over the new configuration at start
  // (Raft restores the configuration from the snapshot, then replays the log's changes). A crash
  // before the new log is written leaves none, and the node starts from the snapshot alone.
  const std::string wal_dir = JoinPath(data_dir, "wal");
  const std::string old_wal = JoinPath(data_dir, "wal.replaced");
  if (replace) {
    NDS_RETURN_IF_ERROR(RemoveRecursively(fs, old_wal, 4));
    NDS_RETURN_IF_ERROR(fs->Rename(wal_dir, old_wal));
    NDS_RETURN_IF_ERROR(fs->SyncDir(data_dir));
  }
  {
    NDS_ASSIGN_OR_RETURN(auto wal, wal::Wal::Open(fs, data_dir, wal::WalOptions{}));
    NDS_RETURN_IF_ERROR(wal->ApplySnapshot(meta));
    NDS_CHECK(wal->FirstIndex().value == index.value + 1);
    NDS_RETURN_IF_ERROR(wal->SaveHardState(raft::HardState{hs_term, hs_vote, index}));
  }
  return replace ? RemoveRecursively(fs, old_wal, 4) : Status::Ok();
}

}  // namespace nds::cli
