// RaftNode's snapshots (docs/cluster.md "Snapshots"): a follower that needs entries the leader no
// longer has receives the newest snapshot as chunk frames, then the kSnapshot message, and installs
// it as a new engine. Making them is in raft_node_checkpoint.cc. Loop thread only.
#include <spdlog/spdlog.h>

#include "engine/engine_factory.h"
#include "node/engine_dir.h"
#include "node/raft_codec.h"
#include "node/raft_node.h"
#include "util/check.h"

namespace nds::node {
namespace {

// Back-pressure: chunks are queued for a follower only while fewer than this many chunks' bytes
// wait in its transport queue.
constexpr size_t kSnapshotChunksQueued = 4;

}  // namespace

void RaftNode::StartSnapshotSend(raft::Message m) {
  auto stored = snapshots_->Newest();
  Result<std::unique_ptr<wal::SnapshotReader>> reader =
      stored.ok()
          ? wal::SnapshotReader::Open(env_.fs, *stored, options_.limits.snapshot_chunk_bytes)
          : Result<std::unique_ptr<wal::SnapshotReader>>(stored.status());
  if (!reader.ok()) {
    spdlog::error("cannot send a snapshot to {}: {}", m.to.value, reader.status().ToString());
    raw_->ReportSnapshot(m.to, false);
    return;
  }
  // Send the newest stored snapshot, and say so in the message: it is at least as new as the one
  // the core asked for (the log was compacted onto it).
  m.snapshot = stored->manifest.meta;
  spdlog::info("sending a snapshot event=snapshot_sending to={} index={} term={} bytes={}",
               m.to.value, m.snapshot.index.value, m.snapshot.term.value, (*reader)->total_bytes());
  uint64_t to = m.to.value;
  SnapshotSend send;
  send.reader = std::move(reader).value();
  send.message = std::move(m);
  send.deadline = Now() + options_.limits.snapshot_send_timeout;
  snapshot_sends_[to] = std::move(send);
}

void RaftNode::PumpSnapshotSends() {
  const size_t queued_max = kSnapshotChunksQueued * options_.limits.snapshot_chunk_bytes;
  auto now = Now();
  for (auto it = snapshot_sends_.begin(); it != snapshot_sends_.end();) {
    uint64_t to = it->first;
    SnapshotSend& send = it->second;
    if (send.idle) {  // all sent: kept for a resume until the deadline
      it = now >= send.deadline ? snapshot_sends_.erase(it) : std::next(it);
      continue;
    }
    Status failed;
    while (!send.reader->done() && peers_->QueuedBytes(to) < queued_max) {
      auto chunk = send.reader->Next();
      if (!chunk.ok()) {
        failed = chunk.status();
        break;
      }
      if (!SendFrame(to, EncodeSnapshotChunkFrame(*chunk))) {
        failed = Unavailable("the transport refused a chunk");
        break;
      }
    }
    if (failed.ok() && send.reader->done()) {
      if (SendFrame(to, EncodeRaftFrame(send.message))) {
        send.idle = true;
        if (!send.reported) {
          send.reported = true;
          raw_->ReportSnapshot(NodeId{to}, true);
          metrics_.snapshots_sent.fetch_add(1, std::memory_order_relaxed);
          spdlog::info("snapshot sent event=snapshot_sent to={} index={} term={}", to,
                       send.message.snapshot.index.value, send.message.snapshot.term.value);
        }
        ++it;
        continue;
      }
      failed = Unavailable("the transport refused the snapshot message");
    }
    if (failed.ok() && now >= send.deadline) failed = Timeout("the stream took too long");
    if (!failed.ok()) {
      spdlog::warn("snapshot to {} failed: {}", to, failed.ToString());
      if (!send.reported) raw_->ReportSnapshot(NodeId{to}, false);
      it = snapshot_sends_.erase(it);
      continue;
    }
    ++it;
  }
}

void RaftNode::HandleSnapshotChunk(uint64_t from, const std::string& frame) {
  auto chunk = DecodeSnapshotChunkFrame(frame);
  if (!chunk.ok()) {
    RejectFrame(from, "a snapshot chunk that does not decode: " + chunk.status().ToString());
    return;
  }
  // A chunk of a snapshot this node holds already (staged, or applied past it): a late copy, or
  // the rest of a stream the leader went back in or sent again. Asking for the stream from the
  // start would make the leader send all of it once more, whose late chunks would ask again, until
  // the stream's deadline (issue 13: about 140 resumes in a simulated run).
  if (engine_->AppliedIndex() >= chunk->index) {
    if (receiver_ && receiver_->SameStream(*chunk)) receiver_.reset();
    return;
  }
  if (staged_snapshot_ && staged_snapshot_->manifest.meta.index == chunk->index &&
      staged_snapshot_->manifest.meta.term == chunk->term) {
    return;
  }
  if (receiver_ && from == receiving_from_ && receiver_->SameStream(*chunk) &&
      chunk->offset != receiver_->offset()) {
    // A chunk was lost (this one is ahead), or the stream started again: this node keeps what it
    // has and asks for the rest. A copy of a chunk already taken is dropped.
    if (chunk->offset > receiver_->offset() || chunk->offset == 0) {
      AskSnapshotResume(from, chunk->index, chunk->term, receiver_->offset());
    }
    return;
  }
  if (chunk->offset == 0) {
    wal::SnapshotReceiverOptions o;
    // Chunks are cut by the sender's --snapshot-chunk-bytes; the frame limit bounds them.
    o.chunk_bytes_max = options_.limits.message_bytes_max;
    auto r = wal::SnapshotReceiver::Start(snapshots_.get(), o);
    if (!r.ok()) {
      spdlog::error("cannot receive a snapshot: {}", r.status().ToString());
      return;
    }
    receiver_ = std::move(r).value();
    receiving_from_ = from;
    spdlog::info("receiving the snapshot at {} ({} bytes) from {}", chunk->index.value,
                 chunk->total_bytes, from);
  } else if (!receiver_ || from != receiving_from_) {
    // The middle of a stream whose start this node did not see (lost, or taken before a
    // restart): ask for it from the start.
    AskSnapshotResume(from, chunk->index, chunk->term, 0);
    return;
  }
  if (Status s = receiver_->Accept(*chunk); !s.ok()) {
    spdlog::warn("snapshot from {} rejected: {}", from, s.ToString());
    receiver_.reset();
    return;
  }
  if (!receiver_->complete()) return;
  auto stored = receiver_->Finish();
  receiver_.reset();
  if (stored.ok()) {
    staged_snapshot_ = *stored;
  } else if (stored.status().code() == StatusCode::kAlreadyExists) {
    auto newest = snapshots_->Newest();
    if (newest.ok() && newest->manifest.meta.index == chunk->index) staged_snapshot_ = *newest;
  } else {
    spdlog::warn("cannot keep the snapshot from {}: {}", from, stored.status().ToString());
  }
}

void RaftNode::AskSnapshotResume(uint64_t to, LogIndex index, Term term, uint64_t offset) {
  auto now = Now();
  if (resume_asked_offset_ == offset &&
      now < resume_asked_time_ + options_.limits.heartbeat_interval) {
    return;
  }
  resume_asked_offset_ = offset;
  resume_asked_time_ = now;
  (void)SendFrame(to, EncodeSnapshotResumeFrame(SnapshotResume{index, term, offset}));
}

void RaftNode::HandleSnapshotResume(uint64_t from, const std::string& frame) {
  auto r = DecodeSnapshotResumeFrame(frame);
  if (!r.ok()) {
    RejectFrame(from, "a snapshot resume that does not decode: " + r.status().ToString());
    return;
  }
  auto it = snapshot_sends_.find(from);
  // No stream to it (any more), or another one: the next stream the core asks for starts anew.
  if (it == snapshot_sends_.end()) return;
  SnapshotSend& send = it->second;
  if (send.reader->meta().index != r->index || send.reader->meta().term != r->term) return;
  if (r->offset > send.reader->total_bytes()) {
    RejectFrame(from, "a snapshot resume past the stream's end");
    return;
  }
  auto now = Now();
  if (send.resumed_at == r->offset &&
      now < send.resumed_time + options_.limits.heartbeat_interval) {
    return;  // a copy of the request just served
  }
  if (!send.idle && r->offset == send.reader->offset()) return;  // going on from there already
  Status s;
  if (r->offset < send.reader->offset()) {  // back: read the stream again up to there
    auto reader = wal::SnapshotReader::Open(env_.fs, send.reader->snapshot(),
                                            options_.limits.snapshot_chunk_bytes);
    if (reader.ok()) {
      send.reader = std::move(reader).value();
    } else {
      s = reader.status();
    }
  }
  if (s.ok()) s = send.reader->SkipTo(r->offset);
  if (!s.ok()) {
    spdlog::warn("snapshot to {} failed: cannot resume it at {}: {}", from, r->offset,
                 s.ToString());
    if (!send.reported) raw_->ReportSnapshot(NodeId{from}, false);
    snapshot_sends_.erase(it);
    return;
  }
  send.idle = false;
  send.resumed_at = r->offset;
  send.resumed_time = now;
  metrics_.snapshots_resumed.fetch_add(1, std::memory_order_relaxed);
  spdlog::info("resuming the snapshot stream event=snapshot_resumed to={} index={} offset={}", from,
               r->index.value, r->offset);
}

bool RaftNode::SnapshotStaged(const raft::Message& m) const {
  // At or below the applied index no data is needed: the core answers with its commit index (and
  // the chunks of such a snapshot are not taken, above).
  if (engine_->AppliedIndex() >= m.snapshot.index) return true;
  return staged_snapshot_ && staged_snapshot_->manifest.meta.index == m.snapshot.index &&
         staged_snapshot_->manifest.meta.term == m.snapshot.term;
}

Status RaftNode::InstallSnapshot(const raft::SnapshotMetadata& meta) {
  if (apply_) {
    if (apply_->backlog_entries() > 0) {
      metrics_.snapshots_installed_over_backlog.fetch_add(1, std::memory_order_relaxed);
    }
    // The entries handed to the apply stage are applied (and their writes answered) first; what a
    // full disk keeps waiting is in the snapshot, and its writes time out.
    if (Status s = DrainApply(); !s.ok()) {
      spdlog::warn("installing the snapshot at {} before {} waiting entries could be applied: {}",
                   meta.index.value, apply_->backlog_entries(), s.ToString());
      apply_->DropQueued();
    }
    NDS_CHECK(engine_->AppliedIndex() <= meta.index, "applied {} past the snapshot at {}",
              engine_->AppliedIndex(), meta.index);
  }
  wal::StoredSnapshot snap;
  if (staged_snapshot_ && staged_snapshot_->manifest.meta.index == meta.index) {
    snap = *staged_snapshot_;
  } else {
    NDS_ASSIGN_OR_RETURN(snap, snapshots_->Newest());
    if (snap.manifest.meta.index != meta.index) {
      return NotFound("no stored snapshot at index " + std::to_string(meta.index.value));
    }
  }
  std::string name = "engine-" + std::to_string(meta.index.value);
  std::string dir = options_.data_dir + "/" + name;
  FileSystem* fs = env_.fs;
  NDS_RETURN_IF_ERROR(RemoveRecursively(fs, dir));
  NDS_ASSIGN_OR_RETURN(bool has_checkpoint, fs->Exists(snap.checkpoint_dir));
  if (has_checkpoint) {
    NDS_RETURN_IF_ERROR(CopyDir(fs, snap.checkpoint_dir, dir));
  } else {
    NDS_RETURN_IF_ERROR(fs->CreateDir(dir));  // an empty engine's checkpoint
  }
  // The copy must be durable before DATA/ENGINE names it (the log is then moved past it).
  NDS_RETURN_IF_ERROR(wal::SyncAndListFiles(fs, dir).status());
  NDS_ASSIGN_OR_RETURN(auto fresh, env_.open_engine(engine_->Name(), dir));
  if (fresh->AppliedIndex() != meta.index) {
    return Corruption("the snapshot's engine in " + dir + " is at index " +
                      std::to_string(fresh->AppliedIndex().value) + ", not " +
                      std::to_string(meta.index.value));
  }
  // The log moves onto the snapshot before DATA/ENGINE names the new engine. After a crash between
  // the two, the engine is behind the log's snapshot and Open installs it again; in the other
  // order the engine would be ahead of every index the log can vouch for (its commit index and
  // its snapshot), and the node could not start again.
  if (wal_->SnapshotMeta().index < meta.index) NDS_RETURN_IF_ERROR(wal_->ApplySnapshot(meta));
  NDS_RETURN_IF_ERROR(SetCurrentEngineDir(options_.data_dir, name, fs));
  engine_->Replace(std::move(fresh));
  token_cache_.Invalidate();
  lease_feed_.Invalidate();
  ++engine_installs_;  // a checkpoint of the engine replaced here is discarded
  conf_history_.Reset(meta.index, meta.conf_state);
  applied_ = meta.index;
  if (conf_change_handed_ > meta.index) conf_change_handed_ = meta.index;
  if (apply_) apply_->StartAfter(meta.index);
  if (options_.on_applied) options_.on_applied(nullptr);
  staged_snapshot_.reset();
  applied_bytes_since_snapshot_ = 0;
  LoadMembers();
  metrics_.snapshots_installed.fetch_add(1, std::memory_order_relaxed);
  spdlog::info("installed the snapshot from the leader event=snapshot_installed index={} term={}",
               meta.index.value, meta.term.value);
  return Status::Ok();
}

}  // namespace nds::node
