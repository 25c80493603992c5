// Restoring a snapshot image into a new data directory (image_restore.h).
#include "cli/image_restore.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "cli/one_member_dir.h"
#include "crypto/join_token.h"
#include "store/engine_options.h"
#include "store/keyspace.h"
#include "store/membership.h"
#include "util/file_system.h"
#include "wal/meta_file.h"

namespace nds::cli {
namespace {

constexpr std::string_view kTokenFileName = "token";  // as `nds start` reads it

// Ok when `dir` does not exist or is an empty directory.
Status CheckTarget(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return Status::Ok();
  if (!std::filesystem::is_directory(dir, ec)) {
    return FailedPrecondition(dir + " exists and is not a directory");
  }
  if (!std::filesystem::is_empty(dir, ec) || ec) {
    return FailedPrecondition(dir +
                              " exists and is not empty: restore makes a new data "
                              "directory; give a new path (or empty this one)");
  }
  return Status::Ok();
}

// Loads every record of the image into `engine` at index `revision`, in batches.
Status Load(store::ImageReader& reader, engine::Engine* engine, LogIndex revision,
            size_t batch_bytes) {
  engine::WriteBatch batch;
  store::ImageRecord r;
  for (;;) {
    const uint64_t offset = reader.offset();
    NDS_ASSIGN_OR_RETURN(bool more, reader.Next(&r));
    if (!more) break;
    switch (r.kind) {
      case store::ImageRecordKind::kData:
        if (r.revision > revision.value) {
          return Corruption("a record at byte offset " + std::to_string(offset) + " has revision " +
                            std::to_string(r.revision) + ", newer than the image's " +
                            std::to_string(revision.value));
        }
        batch.Put(store::DataKey(r.key), store::EncodeRecord(r.revision, r.content_type, r.value));
        break;
      case store::ImageRecordKind::kSecret:
        batch.Put(store::SecretKey(r.key), r.value);
        break;
      case store::ImageRecordKind::kAuth:
        if (!store::IsImageAuthName(r.key)) {
          return Corruption("an auth record at byte offset " + std::to_string(offset) +
                            " names a system key images do not carry");
        }
        batch.Put(store::SystemKey(r.key), r.value);
        break;
      case store::ImageRecordKind::kTrailer:
        break;
    }
    if (batch.ByteSize() >= batch_bytes) {
      NDS_RETURN_IF_ERROR(engine->Write(batch, revision, /*sync=*/false));
      batch = engine::WriteBatch();
    }
  }
  return engine->Write(batch, revision, /*sync=*/true);
}

Result<RestoreReport> Build(store::ImageReader& reader, const RestoreOptions& o,
                            const std::string& tmp) {
  RestoreReport report;
  // A snapshot at index 0 cannot exist; an image of a store that never applied anything is empty.
  report.revision = std::max<uint64_t>(reader.header().revision, 1);
  NDS_ASSIGN_OR_RETURN(report.cluster_id, MakeClusterId());
  NDS_ASSIGN_OR_RETURN(std::string secret, MakeClusterSecret());
  report.join_token = crypto::GenerateJoinToken();
  FileSystem* fs = DefaultFileSystem();
  NDS_RETURN_IF_ERROR(
      WriteFileAtomically(fs, tmp, std::string(kTokenFileName), report.join_token + "\n"));
  wal::NodeMeta meta;
  meta.cluster_id = report.cluster_id;
  meta.node_id = NodeId{1};
  meta.cluster_secret = secret;
  NDS_RETURN_IF_ERROR(wal::WriteMetaFile(fs, tmp, meta));
  {
    NDS_ASSIGN_OR_RETURN(auto engine, store::OpenStoreEngine(o.engine, JoinPath(tmp, "engine")));
    const LogIndex revision{report.revision};
    NDS_RETURN_IF_ERROR(Load(reader, engine.get(), revision, o.batch_bytes));
    report.totals = reader.totals();
    // The new cluster's own records: its one member and its join token.
    store::MemberRecord self{1, o.name, o.peer_address, o.api_address};
    NDS_RETURN_IF_ERROR(store::ValidateMemberRecord(self));
    engine::WriteBatch own;
    own.Put(store::SystemKey(store::MemberKeyName(1)), store::EncodeMemberRecord(self));
    own.Put(store::SystemKey(store::kJoinTokenHashKey), crypto::HashJoinToken(report.join_token));
    NDS_RETURN_IF_ERROR(engine->Write(own, revision, /*sync=*/true));
    NDS_RETURN_IF_ERROR(
        SealOneMemberSnapshot(tmp, *engine, revision, Term{1}, NodeId{1}, Term{1}, kNoNode));
  }
  NDS_RETURN_IF_ERROR(fs->SyncDir(tmp));
  return report;
}

}  // namespace

Result<RestoreReport> RestoreImage(store::ImageReader& reader, const RestoreOptions& o) {
  std::string dir = o.data_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  NDS_RETURN_IF_ERROR(CheckTarget(dir));
  std::string pattern = dir + ".tmp-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    return IoError("cannot create " + pattern + " beside " + dir + ": " + std::strerror(errno));
  }
  const std::string tmp = pattern;
  auto report = Build(reader, o, tmp);
  Status s = report.status();
  if (s.ok()) s = CheckTarget(dir);  // nobody filled it meanwhile
  if (s.ok()) {
    // rename(2) replaces an empty directory atomically.
    s = DefaultFileSystem()->Rename(tmp, dir);
  }
  if (s.ok()) s = DefaultFileSystem()->SyncDir(DirName(dir));
  if (!s.ok()) {
    IgnoreError(RemoveRecursively(DefaultFileSystem(), tmp, 16), "best effort: a failed restore");
    return s;
  }
  return report;
}

}  // namespace nds::cli
