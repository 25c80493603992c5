// RaftNode: client writes become log entries (Envelope); the raft loop makes them durable in the
// Wal, exchanges messages with the peers and applies committed entries to the engine with a
// BatchApplier. Membership lives in raft_node_members.cc, the request table in
// raft_node_requests.cc, peer frames and forwarding in raft_node_peers.cc.
#include "node/raft_node.h"

#include <algorithm>
#include <cstdlib>
#include <future>
#include <random>

#include <spdlog/spdlog.h>

#include "engine/rocksdb_engine.h"
#include "net/peer_handshake.h"
#include "node/raft_codec.h"
#include "node/raft_config.h"
#include "store/command.h"
#include "store/engine_options.h"
#include "util/check.h"
#include "util/log_text.h"
#include "util/thread_name.h"

namespace nds::node {
namespace {

// Committed entries of at most this many data bytes, with nothing queued before them, are applied
// on the Raft loop itself rather than handed to the apply thread (HandleReady).
constexpr uint64_t kInlineApplyBytesMax = 64 << 10;

Role ToNodeRole(raft::Role r) {
  switch (r) {
    case raft::Role::kLeader:
      return Role::kLeader;
    case raft::Role::kCandidate:
    case raft::Role::kPreCandidate:
      return Role::kCandidate;
    case raft::Role::kFollower:
      return Role::kFollower;
  }
  return Role::kFollower;
}

bool Contains(const std::vector<NodeId>& ids, uint64_t id) {
  return std::find(ids.begin(), ids.end(), NodeId{id}) != ids.end();
}

}  // namespace

Result<std::unique_ptr<RaftNode>> RaftNode::Create(std::unique_ptr<engine::Engine> engine,
                                                   RaftNodeOptions options, RaftNodeEnv env) {
  if (options.id == 0) return InvalidArgument("the node id must not be 0");
  if (options.cluster_secret.size() < net::kPeerSecretBytesMin) {
    return InvalidArgument("the cluster secret must be at least " +
                           std::to_string(net::kPeerSecretBytesMin) + " bytes");
  }
  if (!env.now) env.now = [] { return Clock::now(); };
  if (env.fs == nullptr) env.fs = DefaultFileSystem();
  if (!env.open_engine) {
    env.open_engine = [](std::string_view kind, const std::string& dir) {
      return store::OpenStoreEngine(kind, dir);
    };
  }
  if (!env.checkpoint_index) {
    env.checkpoint_index = [open = env.open_engine](std::string_view kind,
                                                    const std::string& dir) -> Result<LogIndex> {
      if (kind == "rocksdb") return engine::ReadRocksDbCheckpointAppliedIndex(dir);
      NDS_ASSIGN_OR_RETURN(auto e, open(kind, dir));
      return e->AppliedIndex();
    };
  }
  if (env.seed == 0) {
    std::random_device rd;
    env.seed = static_cast<uint64_t>(rd()) << 32 | rd();
  }
  NDS_ASSIGN_OR_RETURN(auto wal, wal::Wal::Open(env.fs, options.data_dir,
                                                wal::WalOptions::FromLimits(options.limits)));
  auto node = std::unique_ptr<RaftNode>(
      new RaftNode(std::move(engine), std::move(wal), std::move(options), std::move(env)));
  FileSystem* fs = node->env_.fs;
  NDS_ASSIGN_OR_RETURN(node->snapshots_,
                       wal::SnapshotStore::Open(
                           fs, node->options_.data_dir + "/" + std::string(wal::kSnapshotDirName)));
  // The engine is not synced on every apply: after a crash it may be behind the log's snapshot
  // (whose entries are gone from the log). Start it from that snapshot then.
  raft::SnapshotMetadata snap = node->wal_->SnapshotMeta();
  if (snap.index > node->engine_->AppliedIndex()) {
    spdlog::info("the engine (applied {}) is behind the snapshot at {}: restoring it",
                 node->engine_->AppliedIndex().value, snap.index.value);
    NDS_RETURN_IF_ERROR(node->InstallSnapshot(snap));
  }
  // The log's snapshot is committed by definition, but a crash may keep the snapshot (installed
  // from the leader, or made here) without the hard state that commits it; the engine restored
  // from it is then ahead of the commit index and the core refuses to start (found by the
  // simulator, seed 58). Record the commit index the snapshot proves first.
  // Likewise the engine: the loop applies entries its log already holds before it syncs the hard
  // state that commits them (ApplyDurableBeforeSave), and a crash in between keeps an engine
  // ahead of the saved commit index. What the engine applied was committed.
  LogIndex proven = snap.index;
  if (node->engine_->AppliedIndex() <= node->wal_->LastIndex()) {
    proven = std::max(proven, node->engine_->AppliedIndex());
  }
  if (proven.value > 0) {
    NDS_ASSIGN_OR_RETURN(raft::HardState hs, node->wal_->InitialHardState());
    if (hs.commit < proven) {
      hs.commit = proven;
      NDS_RETURN_IF_ERROR(node->wal_->SaveHardState(hs));
    }
  }
  raft::Config cfg = RaftConfigFromLimits(node->options_.limits);
  cfg.id = NodeId{node->options_.id};
  cfg.applied = node->engine_->AppliedIndex();
  cfg.storage = node->wal_.get();
  cfg.async_storage_writes = true;  // the loop saves through wal_writer_ (HandleReady)
  // Two independent streams from one seed: the election timer and the request ids.
  std::mt19937_64 rng(node->env_.seed);
  cfg.seed = node->options_.id ^ rng();
  NDS_ASSIGN_OR_RETURN(node->raw_, raft::RawNode::Create(cfg));
  node->conf_history_.Reset(cfg.applied, node->raw_->GetConfState());
  node->applied_ = cfg.applied;
  spdlog::info(
      "opened the Raft log event=recovered term={} last_index={} applied_index={} "
      "snapshot_index={}",
      node->raw_->GetStatus().term.value, node->wal_->LastIndex().value, cfg.applied.value,
      snap.index.value);
  if (node->options_.bootstrap && node->wal_->LastIndex().value == 0) {
    NDS_RETURN_IF_ERROR(node->raw_->Bootstrap({NodeId{node->options_.id}}));
  }
  {
    MutexLock lock(node->mu_);
    // Request ids must not repeat across restarts: an entry proposed by an earlier incarnation
    // may still commit after this one started.
    node->next_request_id_ = rng() >> 1 << 1 | 1;
    // The same for read contexts: a ReadIndex answer meant for an earlier incarnation (delayed
    // in a peer's queue) must not match a read of this one, which would then be served at the
    // earlier, older read point (a stale read; found by the simulator).
    node->read_seq_ = rng() >> 1;
    node->status_.id = node->options_.id;
    node->status_.name = node->options_.name;
    node->status_.cluster_id = node->options_.cluster_id;
    node->status_.engine = std::string(node->engine_->Name());
    node->status_.applied_index = node->engine_->AppliedIndex().value;
  }
  node->LoadMembers();
  return node;
}

void RaftNode::Begin() {
  StartApplyStage();
  UpdatePeers();
  // Apply what the log holds first (Campaign ignores a node with unapplied conf changes), then a
  // lone voter campaigns at once rather than after an election timeout.
  HandleReady();
  IgnoreError(DrainApply(), "a full disk: the rest is applied once there is room");
  const raft::ConfState& cs = raw_->GetConfState();
  if (cs.voters.size() == 1 && cs.voters[0] == NodeId{options_.id}) {
    raw_->Campaign();
    HandleReady();
    IgnoreError(DrainApply(), "a full disk: the rest is applied once there is room");
    // Before any client write can be proposed: the member table must hold this node first.
    SeedNewCluster();
    HandleReady();
    IgnoreError(DrainApply(), "a full disk: the rest is applied once there is room");
  }
  last_tick_ = Now();
  quorum_seen_ = last_tick_;
  // From here on a Ready is saved off the loop where it may be (MayWriteOffLoop).
  WalWriter::Config wc;
  wc.wal = wal_.get();
  wc.wake = [this] {
    { MutexLock lock(mu_); }
    wake_.notify_one();
  };
  wc.now = env_.now;
  wc.die = [this](std::string_view what, const Status& s) { Die(what, s); };
  wc.run = env_.run_wal_write;
  wc.threaded = transport_ != nullptr;
  wal_writer_ = std::make_unique<WalWriter>(std::move(wc));
}

Result<std::unique_ptr<RaftNode>> RaftNode::Open(std::unique_ptr<engine::Engine> engine,
                                                 RaftNodeOptions options) {
  NDS_ASSIGN_OR_RETURN(auto node, Create(std::move(engine), std::move(options), RaftNodeEnv{}));
  const Limits& l = node->options_.limits;
  net::PeerTransportOptions topts;
  topts.listen_address = node->options_.peer_listen_host;
  topts.listen_port = node->options_.peer_listen_port;
  topts.frame_bytes_max = l.message_bytes_max + (1 << 20);
  topts.hello = EncodeHello(Hello{node->options_.cluster_id, node->options_.id,
                                  node->options_.peer_address, node->options_.api_address});
  topts.secret = node->options_.cluster_secret;
  topts.tls = node->options_.peer_tls;
  NDS_ASSIGN_OR_RETURN(node->transport_, net::PeerTransport::Start(topts, node.get()));
  node->peers_ = node->transport_.get();
  node->Begin();
  node->loop_thread_ = std::thread([n = node.get()] {
    NameThisThread("nds-raft");
    n->Loop();
  });
  return node;
}

Result<std::unique_ptr<RaftNode>> RaftNode::OpenDriven(std::unique_ptr<engine::Engine> engine,
                                                       RaftNodeOptions options, RaftNodeEnv env,
                                                       net::PeerSender* peers) {
  NDS_CHECK(peers != nullptr);
  NDS_ASSIGN_OR_RETURN(auto node, Create(std::move(engine), std::move(options), std::move(env)));
  node->peers_ = peers;
  node->Begin();
  return node;
}

RaftNode::RaftNode(std::unique_ptr<engine::Engine> engine, std::unique_ptr<wal::Wal> wal,
                   RaftNodeOptions options, RaftNodeEnv env)
    : engine_(std::make_unique<engine::SwappableEngine>(std::move(engine))),
      token_cache_(options.limits.token_cache_names_max),
      wal_(std::move(wal)),
      options_(std::move(options)),
      env_(std::move(env)) {}

void RaftNode::Die(std::string_view what, const Status& s) const {
  if (env_.die) env_.die(what, s);
  spdlog::critical("{}: {}; stopping", what, s.ToString());
  std::_Exit(kStorageFailureExitCode);
}

RaftNode::~RaftNode() { Stop(); }

uint16_t RaftNode::peer_port() const { return transport_ ? transport_->port() : 0; }

Status RaftNode::HandOffLeadership(std::chrono::milliseconds timeout) {
  if (GetStatus().role != Role::kLeader) return Status::Ok();
  std::optional<MemberInfo> to;
  for (const MemberInfo& m : Members()) {
    if (m.id == options_.id || !m.voter || !m.reachable) continue;
    if (!to || m.behind < to->behind) to = m;
  }
  if (!to) return Status::Ok();  // the only voter, or none other reachable: nobody to hand to
  auto done = std::make_shared<std::promise<Status>>();
  auto moved = done->get_future();
  TransferLeadership(to->id, [done](Status s) { done->set_value(std::move(s)); });
  if (moved.wait_for(timeout) != std::future_status::ready) {
    return Unavailable("member " + std::to_string(to->id) + " did not take over within " +
                       std::to_string(timeout.count()) + " ms");
  }
  Status s = moved.get();
  if (s.ok())
    spdlog::info("handed leadership to member {} ('{}') before stopping", to->id,
                 EscapeForLog(to->name));
  return s;
}

void RaftNode::Stop() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (loop_thread_.joinable()) {
    loop_thread_.join();  // the loop answered everything still waiting
  } else {
    FailAll(Unavailable("the node is shutting down"));  // driven: the caller's thread is the loop
  }
  // A node stopping on its own (not a driven one, whose end the simulator treats as a crash)
  // saves what its writer still holds, the last commit index among it. Then nothing runs after.
  if (wal_writer_ && transport_) wal_writer_->WaitIdle();
  if (wal_writer_) wal_writer_->Close();
  // Batches still waiting are not applied: their entries are in the log, and the next Open
  // applies every committed entry after the engine's applied index again.
  if (apply_) apply_->Close();
  // A checkpoint still running is left unfinished: its tmp dir goes at the next Open.
  if (checkpoint_thread_.joinable()) checkpoint_thread_.join();
  if (transport_) transport_->Stop();
}

void RaftNode::Loop() {
  const auto tick = std::max(std::chrono::milliseconds(1), options_.limits.heartbeat_interval);
  for (;;) {
    {
      MutexLock lock(mu_);
      const Clock::time_point deadline = last_tick_ + tick;
      while (!stopping_ && proposals_.empty() && new_reads_.empty() && inbox_.empty() &&
             new_transfers_.empty() && !CheckpointDone() && !apply_->HasApplied() &&
             !wal_writer_->HasDone()) {
        if (!lock.WaitUntil(wake_, deadline)) break;
      }
      if (stopping_) break;
    }
    Pass(Clock::now());
  }
  FailAll(Unavailable("the node is shutting down"));
}

void RaftNode::Pass(Clock::time_point now) {
  {
    MutexLock lock(mu_);
    if (stopping_) return;
  }
  const Clock::time_point pass_start = Now();
  PassOnce(now);
  metrics_.loop_pass.Observe(Now() - pass_start);
}

void RaftNode::PassOnce(Clock::time_point now) {
  const auto tick = std::max(std::chrono::milliseconds(1), options_.limits.heartbeat_interval);
  // Catch up every tick missed (a paused process must not believe it still holds a lease).
  int ticks = 0;
  while (now - last_tick_ >= tick && ticks < 1'000'000) {
    raw_->Tick();
    last_tick_ += tick;
    ++ticks;
  }
  if (now - last_tick_ >= tick) last_tick_ = now;
  ticks_ += ticks;

  std::deque<Proposal> proposals;
  std::deque<PendingRead> reads;
  std::deque<Inbound> frames;
  std::vector<PendingTransfer> transfers;
  {
    MutexLock lock(mu_);
    proposals.swap(proposals_);
    reads.swap(new_reads_);
    frames.swap(inbox_);
    transfers.swap(new_transfers_);
  }
  HandleInbound(std::move(frames));
  // Proposals held while no leader was known go first, in their order.
  std::deque<Proposal> held;
  held.swap(held_);
  for (auto& p : held) Route(std::move(p));
  for (auto& p : proposals) Route(std::move(p));
  std::optional<uint64_t> lease_point = reads.empty() ? std::nullopt : LeaseReadPoint();
  if (lease_point) {
    reads_ready_.emplace_back(*lease_point, std::move(reads));
    MutexLock lock(mu_);
    ++status_.lease_read_batches;
  } else if (!reads.empty()) {
    uint64_t seq = ++read_seq_;
    Status s = raw_->ReadIndex(std::to_string(seq));
    if (s.ok()) {
      reads_in_flight_[seq] = std::move(reads);
    } else {
      // No read point now (no leader yet, or no entry of its term committed): retry next pass.
      MutexLock lock(mu_);
      for (auto& r : reads) new_reads_.push_front(std::move(r));
    }
  }
  for (auto& t : transfers) transfers_.push_back(std::move(t));
  if (ticks > 0) {
    // Writes handed back by a node that no longer leads: routed again from the next pass on.
    for (auto& p : refused_) held_.push_back(std::move(p));
    refused_.clear();
    // While the disk is full, try once a tick to reserve the Raft log's next segment again.
    if (disk_full_ && wal_->SpaceLow()) {
      if (wal_writer_) wal_writer_->WaitIdle();  // the Wal has one writer at a time
      (void)wal_->RetryReserve();
    }
    // ... and to apply the batch the engine could not take.
    if (!apply_->Stalled().ok()) apply_->Retry();
    CheckFreeSpace();
    Reconcile();
    RecordClaimedAddresses();
  }
  HandleReady();
  // Published before membership changes are answered: a client told "removed" then lists the
  // members without that one.
  if (ticks > 0 || members_dirty_) PublishMembers();
  CompleteMembershipWaits(now);
  CompleteTransfers(now);
  PumpSnapshotSends();
  if (!pending_ready_) MaybeSnapshot();
  WatchQuorum(now);
  ExpireDeadlines(now);
}

std::optional<uint64_t> RaftNode::LeaseReadPoint() const {
  if (!options_.lease_reads || !raw_->HasLeaderLease()) return std::nullopt;
  LogIndex commit = raw_->GetStatus().commit;
  // The core's log, not the Wal: a leader's commit index may be ahead of its own durable log
  // (two followers made an entry durable before the leader's writer did).
  auto term = raw_->TermAt(commit);
  if (!term.ok() || *term != raw_->CurrentTerm()) return std::nullopt;
  return commit.value;
}

void RaftNode::PublishLease() {
  const auto tick = std::max(std::chrono::milliseconds(1), options_.limits.heartbeat_interval);
  // 0 unless this node leads, holds its lease and hands leadership to no one.
  const uint64_t lease_ticks = raw_->LeaseTicksLeft();
  const std::optional<uint64_t> point = LeaseReadPoint();
  MutexLock lock(mu_);
  // The core counts the lease in ticks from the last tick this loop ran (last_tick_); it lapses
  // lease_ticks ticks later unless a newer round is acknowledged. Checking the wall clock again
  // when /role asks or a read comes keeps a paused-and-resumed leader from answering goose (or
  // reading) before this loop has caught up with the ticks it missed, and keeps a loop busy for
  // a few ticks (a large batch, a slow fsync) from flapping to duck while its lease still holds.
  lease_until_ =
      lease_ticks > 0 ? last_tick_ + tick * static_cast<int64_t>(lease_ticks) : Clock::time_point{};
  lease_read_index_ = point.value_or(0);
}

void RaftNode::HandleReady() {
  CollectWrites();
  for (int rounds = 0; rounds < 64; ++rounds) {
    if (!pending_ready_) {
      if (!raw_->HasReady()) break;
      pending_ready_ = raw_->GetReady();
      pending_saved_ = false;
      pending_written_off_loop_ = false;
      early_applied_ = 0;
      PublishLease();
    }
    raft::Ready& rd = *pending_ready_;
    if (!pending_saved_) {
      if (rd.soft_state ? rd.soft_state->role == raft::Role::kLeader
                        : raw_->GetStatus().role == raft::Role::kLeader) {
        // A leader's appends and heartbeats may leave before its own fsync (docs/raft.md): the
        // followers' fsyncs then overlap with the leader's.
        std::vector<raft::Message> early;
        std::vector<raft::Message> later;
        for (auto& m : rd.messages) {
          (raft::MessageNeedsDurableState(m.type) ? later : early).push_back(std::move(m));
        }
        rd.messages = std::move(later);
        SendMessages(std::move(early));
      }
      if (MayWriteOffLoop(rd)) {
        // Saved by the writer, in the order of the Readies; what needs this Ready durable (a
        // follower's acknowledgement, a vote) leaves once it is. The loop goes on meanwhile: the
        // core counts these entries as this node's copy, and hands them out to apply, only once
        // OnAppendDurable reports them (CollectWrites).
        // A new commit index is saved too: a restarted node applies what its log says is
        // committed before it decides anything from its configuration (a lone voter campaigns
        // at once, Begin).
        if (!rd.entries.empty() || rd.hard_state) {
          wal_writer_->Push(WalWriter::Job{rd.hard_state.value_or(raft::HardState{}), rd.entries,
                                           std::move(rd.messages)});
        } else if (!rd.messages.empty()) {
          if (wal_writer_->Idle()) {
            // Every write before is durable: what it held leaves first, then these.
            CollectWrites();
            SendMessages(std::move(rd.messages));
          } else {
            wal_writer_->Push(WalWriter::Job{raft::HardState{}, {}, std::move(rd.messages)});
          }
        }
        rd.messages.clear();
        pending_saved_ = true;
        pending_written_off_loop_ = true;
      } else {
        // Saved here, after every write handed to the writer before it.
        WaitForWrites();
        if (rewrite_unwritten_ && !rd.snapshot) {
          // A write before this Ready failed (a full disk): the log misses its entries, so this
          // Ready is not saved either. Its entries are handed out again with those, later.
          std::erase_if(rd.messages, [](const raft::Message& m) {
            return raft::MessageNeedsDurableState(m.type);
          });
          SendMessages(std::move(rd.messages));
          rd.messages.clear();
          pending_saved_ = true;
          pending_written_off_loop_ = true;
        }
      }
    }
    if (!pending_saved_) {
      if (rd.snapshot && wal_->SnapshotMeta().index < rd.snapshot->index) {
        Status s = InstallSnapshot(*rd.snapshot);
        if (!s.ok()) Die("cannot install the snapshot from the leader", s);
      }
      if (!rd.entries.empty() || rd.hard_state) {
        ApplyDurableBeforeSave(rd);
        const Clock::time_point save_start = Now();
        Status s = wal_->Save(rd.hard_state.value_or(raft::HardState{}), rd.entries);
        metrics_.wal_fsync.Observe(Now() - save_start);
        if (s.ok()) {
          uint64_t entry_bytes = 0;
          for (const raft::Entry& e : rd.entries) entry_bytes += e.data.size();
          metrics_.wal_entry_bytes.fetch_add(entry_bytes, std::memory_order_relaxed);
        }
        if (s.code() == StatusCode::kNoSpace) {
          // Nothing was written; the same Ready is saved again on a later pass.
          SetDiskFull(true, s);
          break;
        }
        if (!s.ok()) Die("cannot save the Raft log", s);
      }
      pending_saved_ = true;
      SendMessages(std::move(rd.messages));
    }
    if (!rd.committed_entries.empty() && apply_->backlog_entries() > 0 &&
        (!apply_->Stalled().ok() ||
         apply_->backlog_entries() >= options_.limits.proposals_in_flight_max ||
         apply_->backlog_bytes() >= options_.limits.proposal_bytes_in_flight_max)) {
      // The apply stage is behind (or stalled on a full disk): this Ready, saved and sent, waits
      // for it, and the core hands out nothing more meanwhile.
      break;
    }
    for (size_t i = early_applied_; i < rd.committed_entries.size(); ++i) {
      const raft::Entry& e = rd.committed_entries[i];
      conf_history_.Apply(e);
      if (e.type == raft::EntryType::kConfChange) {
        // It takes effect at Advance below: the commit index that covers it must be saved by
        // now, or a crash could restart this node below a configuration it acted on (a lone
        // founding voter that then elects itself; see MayWriteOffLoop).
        Result<raft::HardState> saved = wal_->InitialHardState();
        NDS_CHECK(saved.ok() && saved->commit >= e.index,
                  "configuration change at {} taken with the saved commit index at {}", e.index,
                  saved.ok() ? saved->commit : LogIndex(0));
        conf_change_handed_ = e.index;
        // The core's configuration changes at Advance below, before the stage applies the entry:
        // the member view is published again this pass, before a membership wait is answered.
        members_dirty_ = true;
      }
    }
    for (const auto& rs : rd.read_states) {
      uint64_t seq = std::strtoull(rs.context.c_str(), nullptr, 10);
      auto it = reads_in_flight_.find(seq);
      if (it == reads_in_flight_.end()) continue;
      reads_ready_.emplace_back(rs.index.value, std::move(it->second));
      reads_in_flight_.erase(it);
    }
    // The core takes the configuration changes in force here; the engine follows on the apply
    // stage, in log order (reads wait for applied_, the member table for CollectApplied).
    if (pending_written_off_loop_) {
      raw_->AdvanceAsync(rd);
    } else {
      raw_->Advance(rd);
    }
    if (rewrite_unwritten_) {
      raw_->RewriteUnwritten();
      rewrite_unwritten_ = false;
    }
    // The history the snapshots take their configuration from follows the core's own. (Not
    // before anything is applied: a bootstrap sets the core's first configuration at once, and
    // its entries are applied once the log holds them durably, a Ready later.)
    NDS_CHECK(raw_->GetStatus().applied.value == 0 ||
                  conf_history_.last_index() != raw_->GetStatus().applied ||
                  conf_history_.Latest() == raw_->GetConfState(),
              "the configuration history at {} differs from the core's",
              conf_history_.last_index());
    // What ApplyDurableBeforeSave applied is the core's too now (Advance), not the stage's again.
    rd.committed_entries.erase(
        rd.committed_entries.begin(),
        rd.committed_entries.begin() + static_cast<ptrdiff_t>(early_applied_));
    early_applied_ = 0;
    uint64_t batch_bytes = 0;
    for (const auto& e : rd.committed_entries) batch_bytes += e.data.size();
    // (Not when a test or the simulator holds the applies through env_.run_apply.)
    const bool small = !env_.run_apply && !rd.committed_entries.empty() &&
                       apply_->backlog_entries() == 0 && batch_bytes <= kInlineApplyBytesMax;
    apply_->Push(std::move(rd.committed_entries));
    // A small batch with nothing queued before it is applied here, on the loop: the hand-off to
    // the apply thread and back would cost more than the apply (about 10 % of the puts/s of
    // 100-byte values). Same order and code as the stage's thread (ApplyStage::Drain).
    if (small) IgnoreError(apply_->Drain(), "a full disk stalls the stage; seen below");
    // What is applied by now (all of it when the stage runs inline): the member table follows
    // before the next Ready, as the messages it holds may go to a member just recorded.
    CollectApplied();
    pending_ready_.reset();
  }
  CollectApplied();
  if (Status stalled = apply_->Stalled(); !stalled.ok()) {
    SetDiskFull(true, stalled);
  } else if (!pending_ready_ || pending_saved_) {
    SetDiskFull(wal_->SpaceLow(), NoSpace("the Raft log cannot reserve its next segment"));
  }
  uint64_t applied = applied_.value;
  while (!reads_ready_.empty() && reads_ready_.front().first <= applied) {
    for (auto& r : reads_ready_.front().second) r.done(Status::Ok());
    reads_ready_.pop_front();
  }
  RunCompletions();
}

bool RaftNode::MayWriteOffLoop(const raft::Ready& rd) const {
  if (wal_writer_ == nullptr || rd.snapshot || disk_full_) return false;
  // Only a leader's: its loop also takes the proposals, sends the appends and heartbeats, and
  // confirms reads, and its followers' fsyncs then overlap its own. A follower's acknowledgement
  // waits for its fsync anyway, and its loop blocked in that fsync gathers the appends that
  // arrive meanwhile into one save; handing each to a writer cost 12 % more CPU per write on
  // three nodes sharing two cores (docs/benchmarks.md "The Raft log written off the loop").
  if (rd.soft_state ? rd.soft_state->role != raft::Role::kLeader
                    : raw_->GetStatus().role != raft::Role::kLeader) {
    return false;
  }
  // A configuration change takes effect when applied; the commit index that covers it is saved
  // first, on the loop. Otherwise a crash could restart this node with a configuration its own
  // saved state does not reach (a lone founding voter that then elects itself: the simulator's
  // seed 18).
  for (const raft::Entry& e : rd.committed_entries) {
    if (e.type == raft::EntryType::kConfChange) return false;
  }
  if (!rd.hard_state) return true;
  // A new term or vote is saved on the loop, after every write before it: nothing the core does
  // next (a vote granted, an election) may run ahead of it.
  Result<raft::HardState> saved = wal_->InitialHardState();
  return saved.ok() && saved->term == rd.hard_state->term && saved->vote == rd.hard_state->vote;
}

void RaftNode::CollectWrites() {
  if (wal_writer_ == nullptr || !wal_writer_->HasDone()) return;
  std::deque<WalWriter::Done> done = wal_writer_->TakeDone();
  Status failed;
  for (WalWriter::Done& d : done) {
    if (d.snapshot) FinishRecord(d);
    if (!d.status.ok()) {
      // Not durable: its messages must not leave (the leader sends the entries again).
      if (failed.ok()) failed = d.status;
      continue;
    }
    if (d.took) metrics_.wal_fsync.Observe(*d.took);
    metrics_.wal_entry_bytes.fetch_add(d.entry_bytes, std::memory_order_relaxed);
    if (d.index.value != 0) raw_->OnAppendDurable(d.index, d.term);
    SendMessages(std::move(d.after));
  }
  if (failed.ok()) return;
  if (failed.code() != StatusCode::kNoSpace) Die("cannot save the Raft log", failed);
  // A full disk: nothing of the failed writes is in the log. Once the writer is idle, the core
  // hands their entries out again and the loop saves them itself until there is room (as a
  // Ready saved on the loop does).
  wal_writer_->WaitIdle();
  for (WalWriter::Done& d : wal_writer_->TakeDone()) {
    if (d.snapshot) FinishRecord(d);
    if (d.status.ok()) {
      if (d.index.value != 0) raw_->OnAppendDurable(d.index, d.term);
      SendMessages(std::move(d.after));
    }
  }
  wal_writer_->Reset();
  // Before the next Ready is taken (after the one pending, if any, is advanced).
  if (pending_ready_) {
    rewrite_unwritten_ = true;
  } else {
    raw_->RewriteUnwritten();
  }
  SetDiskFull(true, failed);
}

void RaftNode::WaitForWrites() {
  if (wal_writer_ == nullptr) return;
  wal_writer_->WaitIdle();
  CollectWrites();
}

void RaftNode::ApplyDurableBeforeSave(raft::Ready& rd) {
  // (Not when a test or the simulator holds the applies through env_.run_apply.)
  if (early_applied_ > 0 || env_.run_apply || rd.snapshot || apply_->backlog_entries() > 0 ||
      !apply_->Stalled().ok()) {
    return;
  }
  // Durable and the same entries as the core's: what the log held before this Ready. The Ready's
  // own entries may replace a conflicting suffix of the log, from their first index on: an entry
  // the log holds there is not the committed one.
  LogIndex durable = wal_->LastIndex();
  if (!rd.entries.empty()) durable = std::min(durable, rd.entries.front().index.Prev());
  size_t n = 0;
  uint64_t bytes = 0;
  for (const raft::Entry& e : rd.committed_entries) {
    if (e.index > durable || e.type == raft::EntryType::kConfChange ||
        bytes + e.data.size() > kInlineApplyBytesMax) {
      break;
    }
    bytes += e.data.size();
    ++n;
  }
  if (n == 0) return;
  // A copy: the core's Advance needs the entries as they were (their sizes).
  std::vector<raft::Entry> durable_entries(
      rd.committed_entries.begin(), rd.committed_entries.begin() + static_cast<ptrdiff_t>(n));
  for (const raft::Entry& e : durable_entries) conf_history_.Apply(e);
  early_applied_ = n;
  apply_->Push(std::move(durable_entries));
  IgnoreError(apply_->Drain(), "a full disk stalls the stage; seen after the save");
  CollectApplied();
  RunCompletions();
}

void RaftNode::RunCompletions() {
  PublishStatus();
  std::vector<std::pair<SubmitCallback, store::ApplyResult>> completions;
  completions.swap(completions_);
  for (auto& [done, r] : completions) done(std::move(r));
}

void RaftNode::PublishStatus() {
  raft::BasicStatus bs = raw_->GetStatus();
  NoteStatusChange(bs);
  const raft::ConfState& cs = raw_->GetConfState();
  bool member = Contains(cs.voters, options_.id) || Contains(cs.learners, options_.id);
  if (member) was_member_ = true;
  if (was_member_ && !member && !removed_) NoteRemoved();
  uint64_t applied = applied_.value;
  // Only committed entries are applied (a snapshot is committed by definition).
  NDS_CHECK(applied <= bs.commit.value, "applied {} beyond the commit index {}", applied,
            bs.commit.value);
  PublishLease();
  MutexLock lock(mu_);
  peer_traffic_view_ = peer_traffic_;
  status_.role = ToNodeRole(bs.role);
  if (status_.role == Role::kFollower && Contains(cs.learners, options_.id)) {
    status_.role = Role::kLearner;
  }
  if (removed_) status_.role = Role::kRemoved;
  status_.term = bs.term.value;
  status_.leader_id = bs.leader.value;
  status_.commit_index = bs.commit.value;
  status_.applied_index = applied;
  status_.has_lease = lease_until_ != Clock::time_point{};
  // A learner is still catching up: it is promoted once it has.
  // Every committed entry handed to the apply stage (bs.applied): a node applying under load is
  // ready while its stage works through the last batches. Or applied already (applied_), by
  // ApplyDurableBeforeSave before the core hears of it. Committed entries its own log does not
  // hold durably yet (a leader's writer still at work) are not behind either.
  const LogIndex stable = raw_->StableLastIndex();  // 0: a snapshot being installed
  const LogIndex due = stable.value == 0 ? bs.commit : std::min(bs.commit, stable);
  status_.ready = !removed_ && bs.leader.value != 0 && std::max(bs.applied, applied_) >= due &&
                  apply_->Stalled().ok() && status_.role != Role::kLearner;
  removed_published_ = removed_;
}

}  // namespace nds::node
