// Quorum-loss recovery of one data directory (recovery.h).
#include "cli/recovery.h"

#include <chrono>
#include <ctime>
#include <filesystem>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "cli/one_member_dir.h"
#include "node/engine_dir.h"
#include "node/raft_codec.h"
#include "store/applier.h"
#include "store/engine_options.h"
#include "store/fence.h"
#include "store/keyspace.h"
#include "util/file_system.h"
#include "wal/meta_file.h"
#include "wal/snapshot_store.h"
#include "wal/wal.h"

namespace nds::cli {
namespace {

constexpr uint64_t kApplyBatchBytes = 8 << 20;

// Opens the current engine; a RocksDB directory has a CURRENT file, anything else is a memory
// node, whose engine lives only in its newest snapshot.
Result<std::unique_ptr<engine::Engine>> OpenCurrentEngine(const std::string& data_dir,
                                                          LogIndex snapshot_index) {
  NDS_ASSIGN_OR_RETURN(std::string dir, node::CurrentEngineDir(data_dir));
  std::error_code ec;
  const bool rocksdb = std::filesystem::exists(JoinPath(dir, "CURRENT"), ec);
  NDS_ASSIGN_OR_RETURN(auto engine, store::OpenStoreEngine(rocksdb ? "rocksdb" : "memory", dir));
  if (engine->AppliedIndex() >= snapshot_index) return engine;
  // Behind the log's snapshot (always so for a memory node): start from the snapshot, as a
  // starting node would (node/raft_node.h InstallSnapshot).
  NDS_ASSIGN_OR_RETURN(
      auto store,
      wal::SnapshotStore::Open(DefaultFileSystem(), JoinPath(data_dir, wal::kSnapshotDirName)));
  NDS_ASSIGN_OR_RETURN(wal::StoredSnapshot snap, store->Newest());
  engine.reset();
  const std::string name = "engine-" + std::to_string(snap.manifest.meta.index.value);
  const std::string copy = JoinPath(data_dir, name);
  std::filesystem::remove_all(copy, ec);
  if (std::filesystem::exists(snap.checkpoint_dir, ec)) {
    std::filesystem::copy(snap.checkpoint_dir, copy, std::filesystem::copy_options::recursive, ec);
  } else {
    std::filesystem::create_directories(copy, ec);
  }
  if (ec) return IoError("cannot copy the snapshot into " + copy + ": " + ec.message());
  NDS_RETURN_IF_ERROR(wal::SyncAndListFiles(DefaultFileSystem(), copy).status());
  NDS_ASSIGN_OR_RETURN(engine, store::OpenStoreEngine(rocksdb ? "rocksdb" : "memory", copy));
  NDS_RETURN_IF_ERROR(node::SetCurrentEngineDir(data_dir, name));
  return engine;
}

// Applies the log's entries after the engine's applied index, up to its last one.
Status ApplyLog(const wal::Wal& wal, engine::Engine* engine) {
  const LogIndex last = wal.LastIndex();
  for (int batches = 0; engine->AppliedIndex() < last && batches < 10'000'000; ++batches) {
    const LogIndex lo{engine->AppliedIndex().value + 1};
    NDS_ASSIGN_OR_RETURN(auto entries, wal.Entries(lo, LogIndex{last.value + 1}, kApplyBatchBytes));
    if (entries.empty()) return Corruption("the log has no entry " + std::to_string(lo.value));
    store::BatchApplier applier(engine);
    for (const raft::Entry& e : entries) {
      if (e.type != raft::EntryType::kNormal || e.data.empty()) {
        applier.Skip(e.index);
        continue;
      }
      auto env = node::DecodeEnvelopeView(e.data);
      auto cmd =
          env.ok() ? store::DecodeCommand(env->command) : Result<store::Command>(env.status());
      if (!cmd.ok()) {
        applier.Skip(e.index);  // as every node does with an undecodable entry
        continue;
      }
      // A command whose precondition fails changes nothing, here as on every node.
      applier.Apply(*cmd, e.index);
    }
    NDS_RETURN_IF_ERROR(applier.Commit(engine, /*sync=*/false));
  }
  return Status::Ok();
}

}  // namespace

Result<RecoverReport> RecoverDataDir(const std::string& data_dir) {
  FileSystem* fs = DefaultFileSystem();
  NDS_ASSIGN_OR_RETURN(auto lock, DataDirLock::Acquire(data_dir));
  auto meta = wal::ReadMetaFile(fs, data_dir);
  if (meta.status().code() == StatusCode::kNotFound) {
    return FailedPrecondition(data_dir + " holds no node (no meta file)");
  }
  NDS_RETURN_IF_ERROR(meta.status());
  RecoverReport report;
  report.node_id = meta->node_id.value;
  report.old_cluster_id = meta->cluster_id;
  NDS_ASSIGN_OR_RETURN(report.new_cluster_id, MakeClusterId());
  raft::HardState hs;
  std::unique_ptr<engine::Engine> engine;
  {
    NDS_ASSIGN_OR_RETURN(auto wal, wal::Wal::Open(fs, data_dir, wal::WalOptions{}));
    NDS_ASSIGN_OR_RETURN(engine, OpenCurrentEngine(data_dir, wal->SnapshotMeta().index));
    report.applied_before = engine->AppliedIndex().value;
    NDS_ASSIGN_OR_RETURN(hs, wal->InitialHardState());
    NDS_RETURN_IF_ERROR(ApplyLog(*wal, engine.get()));
    report.last_index = std::max(wal->LastIndex(), engine->AppliedIndex()).value;
    NDS_ASSIGN_OR_RETURN(Term t, wal->TermAt(LogIndex{report.last_index}));
    report.last_term = t.value;
  }
  if (report.last_index == 0) return FailedPrecondition(data_dir + " holds an empty log");
  const LogIndex last{report.last_index};
  // Only this node stays a member; the old cluster is fenced.
  store::MemberEntries entries;
  {
    auto view = engine->NewView();
    NDS_ASSIGN_OR_RETURN(entries, store::ReadMemberEntries(*view));
  }
  engine::WriteBatch batch;
  for (const auto& [name, value] : entries) {
    auto member = store::DecodeMemberEntry(name, value);
    if (member.ok() && member->id == report.node_id) continue;
    if (member.ok()) report.removed.push_back(*member);
    batch.Delete(store::SystemKey(name));
  }
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  batch.Put(store::SystemKey(store::FenceKeyName(report.old_cluster_id)),
            fmt::format("recovered into cluster {} by 'nds recover' on node {} at {:%Y-%m-%d "
                        "%H:%M:%S} UTC, keeping index {} (term {})",
                        report.new_cluster_id, report.node_id, fmt::gmtime(now), report.last_index,
                        report.last_term));
  NDS_RETURN_IF_ERROR(engine->Write(batch, last, /*sync=*/true));
  const Term hs_term = std::max(hs.term, Term{report.last_term});
  NDS_RETURN_IF_ERROR(SealOneMemberSnapshot(data_dir, *engine, last, Term{report.last_term},
                                            NodeId{report.node_id}, hs_term,
                                            hs.term == hs_term ? hs.vote : kNoNode,
                                            /*replace=*/true));
  engine.reset();
  wal::NodeMeta fresh = *meta;
  fresh.cluster_id = report.new_cluster_id;
  // The identity is rewritten in place, atomically (WriteMetaFile writes a new one only once).
  NDS_RETURN_IF_ERROR(WriteFileAtomically(fs, data_dir, std::string(wal::kMetaFileName),
                                          wal::EncodeNodeMeta(fresh)));
  return report;
}

}  // namespace nds::cli
