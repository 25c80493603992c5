// RaftNode: a node::Node whose writes go through the Raft core (raft::RawNode) and the durable
// Raft log (wal::Wal) of a cluster of nodes before the apply loop applies them to the engine
// (docs/cluster.md).
//
// - Writes from any node: a follower forwards the encoded command to the leader over the peer
//   transport (kForward frame); every node applies every committed entry, and the node the write
//   came from (the envelope's origin) answers its client.
// - Reads: ReadIndex on any node (the core forwards a follower's request to the leader).
// - Membership: the member table (store/membership.h) in the replicated state machine is the
//   desired membership; the leader drives the Raft configuration towards it one single-server
//   change at a time (add as learner, promote once caught up, remove).
//
// Owns its raft loop thread, the RawNode, the Wal, the peer transport and the engine.
// Thread-safe: the Node methods may be called from any thread; completions run on the raft loop
// thread and must not block.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/swappable_engine.h"
#include "net/peer_sender.h"
#include "net/peer_transport.h"
#include "node/apply_stage.h"
#include "node/conf_history.h"
#include "node/node.h"
#include "node/raft_codec.h"
#include "node/seen_forwards.h"
#include "node/wal_writer.h"
#include "raft/raw_node.h"
#include "store/membership.h"
#include "util/file_system.h"
#include "util/limits.h"
#include "util/log_text.h"
#include "util/thread_annotations.h"
#include "wal/snapshot_store.h"
#include "wal/snapshot_transfer.h"
#include "wal/wal.h"

namespace nds::node {

struct RaftNodeOptions {
  uint64_t id = 1;
  std::string name = "node1";
  std::string cluster_id = "single";
  // Where other nodes and clients reach this node (advertised in the member table).
  std::string api_address;
  std::string peer_address;
  // Where the peer transport listens; port 0 picks a free port.
  std::string peer_listen_host = "127.0.0.1";
  uint16_t peer_listen_port = 0;
  // The data directory: the Raft log lives in DIR/wal (and DIR/snap).
  std::string data_dir;
  // The cluster secret (at least net::kPeerSecretBytesMin bytes): every peer connection proves
  // on both sides that it holds it (net/peer_handshake.h). Never logged.
  std::string cluster_secret;
  // With --peer-tls-*: every peer connection runs mutual TLS first (net/peer_tls.h).
  std::shared_ptr<net::PeerTls> peer_tls;
  // Start a new cluster whose only voter is this node when the log is empty.
  bool bootstrap = false;
  // HashJoinToken(token) of the cluster's join token, recorded in the replicated state by the
  // first leader of a new cluster (empty: not recorded by this node).
  std::string join_token_hash;
  // System commands (kPutSystem) the first leader of a new cluster records before its own member
  // record, such as the authentication mode and root token (store/auth_state.h): a node that has
  // applied any member record has applied these too.
  std::vector<store::Command> seed_commands;
  // Members known before the log says so (from the join reply): lets a joiner answer the leader.
  std::vector<store::MemberRecord> known_members;
  // Linearizable reads on a leader that holds its lease use its commit index without a
  // heartbeat round (docs/cluster.md "Reads"); safe within the lease's clock-drift bound.
  bool lease_reads = false;
  Limits limits;
  // Called on the apply thread after each batch of entries (or a snapshot) reached the engine,
  // with the batch's history events when they were kept (capture_events_bytes; nullptr after a
  // snapshot or when not kept); must not block (the watch hub, api/watch_hub.h, only queues them
  // and wakes its own thread).
  std::function<void(store::AppliedEvents* events)> on_applied;
  // Asked before each batch: bytes of its history events to keep for on_applied (0: none).
  std::function<size_t()> capture_events_bytes;
};

// What a RaftNode takes from its surroundings besides its options (docs/decisions/
// 0003-thread-less-raft-node.md): time, the disk, how to open an engine on an installed snapshot,
// what to do on a storage failure it cannot retry, and the seed of its randomness. Every field
// left empty gets the production default; the simulator (src/sim/) fills them all.
struct RaftNodeEnv {
  using Clock = std::chrono::steady_clock;
  // Default: Clock::now.
  std::function<Clock::time_point()> now;
  // The Raft log, the snapshots, DATA/ENGINE and the removal mark. Default: DefaultFileSystem().
  FileSystem* fs = nullptr;
  // Opens the engine of `kind` (the current engine's Name()) on the copy of a snapshot in `dir`.
  // Default: engine::OpenEngine.
  std::function<Result<std::unique_ptr<engine::Engine>>(std::string_view kind,
                                                        const std::string& dir)>
      open_engine;
  // A storage failure that cannot be retried (STYLE.md §3): must not return. Default: log it and
  // exit the process with kStorageFailureExitCode. If it returns, the process exits anyway.
  std::function<void(std::string_view what, const Status& s)> die;
  // Seeds the core's election timer and the request ids; 0: drawn from std::random_device.
  uint64_t seed = 0;
  // Runs `work` (a snapshot's engine checkpoint) away from the Raft loop; the node takes its
  // result at a later Pass, once it has run. Default: a thread of the node's own for a node made
  // by Open, and at once, inside the call, for a node made by OpenDriven (deterministic). `work`
  // holds what it needs (not the node), so it may also run after the node is gone.
  std::function<void(std::function<void()> work)> run_off_loop;
  // The applied index recorded in the engine checkpoint in `dir` of engine `kind`: the snapshot
  // made of it is at that index. Default: the RocksDB checkpoint's meta keys read read-only, or
  // for another kind open_engine(kind, dir)->AppliedIndex().
  std::function<Result<LogIndex>(std::string_view kind, const std::string& dir)> checkpoint_index;
  // Runs `work` (applying the oldest batch of committed entries waiting, node/apply_stage.h)
  // away from the Raft loop; each call's work may run on any thread, at any later time, or never
  // (the loop then applies what waits itself before a snapshot replaces the engine). Default: a
  // thread of the node's own for a node made by Open, and at once, inside the call, for a node
  // made by OpenDriven (deterministic; the simulator).
  std::function<void(std::function<void()> work)> run_apply;
  // The same for the Raft log's writes (saving the oldest job waiting, node/wal_writer.h): the
  // simulator holds them to make a write slow; a write never run is lost as in a crash.
  std::function<void(std::function<void()> work)> run_wal_write;
};

// The exit code of a node that stopped on a storage failure it cannot retry.
inline constexpr int kStorageFailureExitCode = 70;

class RaftNode final : public Node, private net::PeerReceiver {
 public:
  // Opens the Wal in options.data_dir, creates the RawNode (Config.applied = the engine's applied
  // index), bootstraps when asked and the log is empty, starts the peer transport and the raft
  // loop thread, which runs Pass with the real clock. Errors from the Wal, the transport or the
  // core are returned as they are.
  static Result<std::unique_ptr<RaftNode>> Open(std::unique_ptr<engine::Engine> engine,
                                                RaftNodeOptions options);
  // The same node without threads of its own: no transport, no loop. The caller delivers peer
  // frames with Deliver (after AcceptHello named the sender), sends through `peers` (which must
  // outlive the node) and calls Pass(env.now()) at least once per heartbeat interval; every
  // completion runs inside Submit, WaitForReadPoint, TransferLeadership, Pass or Stop.
  static Result<std::unique_ptr<RaftNode>> OpenDriven(std::unique_ptr<engine::Engine> engine,
                                                      RaftNodeOptions options, RaftNodeEnv env,
                                                      net::PeerSender* peers);
  ~RaftNode() override;

  // One pass of the raft loop at time `now`: the ticks due, the peer frames and client requests
  // that arrived, the core's output (saved, sent, applied), snapshots and deadlines. Driven nodes
  // only; the loop thread calls it for a node made by Open.
  void Pass(RaftNodeEnv::Clock::time_point now);
  // A peer's hello (net/peer_handshake.h) on a new link: the peer's id, or why it may not speak.
  Result<uint64_t> AcceptHello(std::string_view hello) { return OnHello(hello); }
  // A frame from peer `from` (as AcceptHello named it), handled at the next Pass.
  void Deliver(uint64_t from, std::string frame) { OnFrame(from, std::move(frame)); }

  void Submit(store::Command cmd, SubmitCallback done) override;
  void WaitForReadPoint(ReadCallback done) override;
  void TransferLeadership(uint64_t to, ReadCallback done) override;
  const engine::Engine& engine() const override { return *engine_; }
  store::TokenCache& token_cache() const override { return token_cache_; }
  store::LeaseFeed& lease_feed() const override { return lease_feed_; }
  NodeStatus GetStatus() const override;
  std::vector<MemberInfo> Members() const override;
  const NodeMetrics& metrics() const override { return metrics_; }

  // The port the peer transport listens on.
  uint16_t peer_port() const;

  // Before a planned stop: if this node leads and another voter is reachable, hands leadership
  // to the one furthest along and waits, at most `timeout`, until it leads. The cluster then does
  // not wait an election timeout for a new leader. Ok when it moved or there was nothing to hand
  // over; kUnavailable when it did not move in time (Stop goes on regardless).
  Status HandOffLeadership(std::chrono::milliseconds timeout);

  // Stops the transport and the raft loop; writes and reads still waiting are answered
  // kUnavailable.
  void Stop();

 private:
  using Clock = RaftNodeEnv::Clock;
  struct PendingWrite {
    SubmitCallback done;
    Clock::time_point deadline;
    store::CommandType type = store::CommandType::kPut;
  };
  struct PendingRead {
    ReadCallback done;
    Clock::time_point deadline;
  };
  struct Proposal {
    uint64_t request_id = 0;  // 0: the node's own bookkeeping, nobody waits
    // An encoded Envelope, shared with the log entry once proposed and with a forward frame.
    SharedBytes envelope;
  };
  // A membership write that committed and waits for the configuration to follow.
  struct PendingMembership {
    SubmitCallback done;
    store::ApplyResult result;
    Clock::time_point deadline;
    bool add = true;  // add: wait until `member` is in the configuration; remove: until it is not
    uint64_t member = 0;
  };
  struct PendingTransfer {
    ReadCallback done;
    Clock::time_point deadline;
    uint64_t to = 0;
    bool asked = false;
  };
  struct Inbound {
    uint64_t from = 0;
    std::string frame;
  };

  // A snapshot being streamed to one follower: its chunks, then the kSnapshot message.
  struct SnapshotSend {
    std::unique_ptr<wal::SnapshotReader> reader;
    raft::Message message;
    Clock::time_point deadline;
    bool reported = false;  // the core was told the snapshot went out (once)
    // Every chunk and the kSnapshot message went out; kept until the deadline so that a follower
    // that lost a chunk can still resume the stream.
    bool idle = false;
    // The offset of the last resume and when it was taken: a copy of that request is ignored.
    std::optional<uint64_t> resumed_at;
    Clock::time_point resumed_time;
  };

  RaftNode(std::unique_ptr<engine::Engine> engine, std::unique_ptr<wal::Wal> wal,
           RaftNodeOptions options, RaftNodeEnv env);
  // Open and OpenDriven: everything but the transport and the loop thread.
  static Result<std::unique_ptr<RaftNode>> Create(std::unique_ptr<engine::Engine> engine,
                                                  RaftNodeOptions options, RaftNodeEnv env);
  // Open and OpenDriven, once peers_ is set: applies the log and lets a lone voter lead.
  void Begin();
  Clock::time_point Now() const { return env_.now(); }
  [[noreturn]] void Die(std::string_view what, const Status& s) const;

  // net::PeerReceiver (transport threads).
  Result<uint64_t> OnHello(std::string_view hello) override;
  void OnFrame(uint64_t from, std::string frame) override;

  // The production runner: waits for work or the next tick, then runs Pass(Clock::now()).
  void Loop();
  // Pass's work, timed by Pass (NodeMetrics::loop_pass).
  void PassOnce(Clock::time_point now);
  void HandleInbound(std::deque<Inbound> frames);
  // Drops a frame from `from` that is malformed or misaddressed, and closes the connection it
  // came on (logged by the transport with `what`).
  void RejectFrame(uint64_t from, const std::string& what);
  // Whether `id`, in no member record this node has applied, may still be a member: a member's
  // id is the log index of its join, so an id above `applied` may be one added while this node
  // was down or cut off, and perhaps leading now. Its Raft and snapshot frames are taken (it
  // proved the cluster secret) and this node answers at the peer address its hello claimed
  // (provisional_peers_), so that it can receive that join and catch up; once this node has
  // applied past `id`, the member table decides, and an id that is no member (one removed, or
  // never added) is refused.
  static bool MayBeLaterMember(uint64_t id, uint64_t applied) { return id > applied; }
  // Takes the peer address claimed by a hello of a possible later member (MayBeLaterMember) as
  // where to answer it, and forgets those this node has applied past. Loop thread.
  void UpdateProvisionalPeers(uint64_t id, const std::string& peer_address);
  void PruneProvisionalPeers();
  // Drops a frame from `from` that it may not send (a sender that is not a member, a Raft message
  // claiming another sender or receiver): counted, logged at a bounded rate, never stepped.
  void RefuseFrame(uint64_t from, const std::string& what);
  // A forwarded write handed back (kForwardRefused): route it again, or fail it at once.
  void HandleForwardRefusal(uint64_t from, std::string_view frame);
  // With lease_reads: the commit index, when this node leads, holds its lease and has committed an
  // entry of its term; otherwise std::nullopt (the reads take a ReadIndex round).
  std::optional<uint64_t> LeaseReadPoint() const;
  // Publishes the lease (lease_until_) and LeaseReadPoint (lease_read_index_) for the threads
  // that read without the loop (WaitForReadPoint, GetStatus). Called before any message of a
  // Ready leaves: a member learns of a commit, or of a transfer that ends this lease, only after
  // the published read point and lease say so.
  void PublishLease();
  // Proposes on the leader, forwards to a known leader, or holds while no leader is known.
  void Route(Proposal p);
  void Fail(uint64_t request_id, Status s);
  void HandleReady();
  // The Raft log's writer (node/wal_writer.h): whether a Ready may be saved off the loop, the
  // writes it finished (durable entries to the core, their messages sent), and waiting for it
  // before the loop saves a Ready itself.
  bool MayWriteOffLoop(const raft::Ready& rd) const;
  void CollectWrites();
  void WaitForWrites();
  // Applies, on the loop, the committed entries at the front of `rd` that the log already holds
  // durably (saved in an earlier pass), and answers their writes, before `rd` is saved: their
  // answers need not wait for the fsync of rd's new entries or hard state. Only when the loop
  // would apply them inline anyway (nothing queued, at most kInlineApplyBytesMax, no membership
  // change). Sets early_applied_.
  void ApplyDurableBeforeSave(raft::Ready& rd);
  void SendMessages(std::vector<raft::Message> messages);
  // Hands `frame` to the transport for peer `to` and counts its bytes (MemberInfo::sent_bytes).
  bool SendFrame(uint64_t to, net::PeerPayload frame);
  // Peer traffic (MemberInfo::sent_bytes, round_trip_seconds): loop-thread figures, copied for
  // Members() by PublishStatus.
  struct PeerTraffic {
    uint64_t sent_bytes = 0;
    double round_trip_seconds = -1;
    uint64_t heartbeat_round = 0;  // the last heartbeat round sent, and when
    Clock::time_point heartbeat_sent;
  };
  // Takes what the apply stage applied since the last call (raft_node_apply.cc): the applied
  // index, the member table, the answers of this node's writes (into completions_).
  void CollectApplied();
  // Makes apply_ (Begin): a thread of its own when this node has a loop thread.
  void StartApplyStage();
  // Applies on the loop thread every batch still waiting, then CollectApplied (at start, before
  // installing a snapshot). A full disk leaves the rest waiting.
  Status DrainApply();
  // Publishes the status, then runs the answers in completions_.
  void RunCompletions();
  void SetDiskFull(bool full, const Status& why);
  void CheckFreeSpace();
  void ExpireDeadlines(Clock::time_point now);
  void PublishStatus();
  // raft_node_events.cc: logs and counts a change of role or leader since the last call.
  void NoteStatusChange(const raft::BasicStatus& bs);
  void FailAll(const Status& s);

  // Membership (raft_node_members.cc), loop thread.
  void LoadMembers();
  void UpdatePeers();
  void Reconcile();
  void SeedNewCluster();
  // On the leader, each tick: records the addresses a member's hello claims when its record
  // holds others (a node restarted with a new --peer/--api), retrying while they differ.
  void RecordClaimedAddresses();
  void CompleteMembershipWaits(Clock::time_point now);
  void CompleteTransfers(Clock::time_point now);
  void PublishMembers();
  // The leader's view of its members' health (raft_node_view.cc): sent by the leader every few
  // ticks, kept by the others, so that /cluster/members says the same on every node.
  void SendMembersView(const raft::BasicStatus& bs);
  void HandleMembersView(uint64_t from, const std::string& frame);
  // Fills `m`'s reachable and behind on a node that does not lead.
  void FillFromLeaderView(const raft::BasicStatus& bs, Clock::time_point now, MemberInfo* m) const;

  // Quorum watch (raft_node_quorum.cc), loop thread: sets no_quorum_status_ once this node has
  // been without a reachable quorum for an election timeout (docs/cluster.md "No quorum").
  void WatchQuorum(Clock::time_point now);
  // This node is no longer in the configuration: it stops serving and marks its data directory
  // (node/data_dir_state.h) so that a restart refuses it.
  void NoteRemoved();

  // Snapshots of this node's own engine (raft_node_checkpoint.cc), loop thread: the checkpoint
  // and its seal run off the loop (env_.run_off_loop), the log's writer records it and compacts
  // the log, and the old snapshots and log segments are removed off the loop again.
  struct CheckpointJob;
  // The parts of a snapshot, in order (raft_node_checkpoint.cc says what each does).
  enum class CheckpointPart { kCut, kSeal, kRecord, kClean };
  void MaybeSnapshot();
  void StartCheckpoint();
  void FinishCheckpoint();
  void FinishSeal();
  // The writer's report on the snapshot FinishSeal handed it (CollectWrites).
  void FinishRecord(WalWriter::Done& d);
  void FinishCleanup();
  // checkpoint_job_, whose part `part` is done, taken off the node and its thread joined.
  std::shared_ptr<CheckpointJob> TakeFinishedPart(CheckpointPart part);
  // The job ends here: its tmp dir removed, the next checkpoint not before `backoff`.
  void DiscardCheckpoint(const CheckpointJob& job, std::chrono::seconds backoff);
  // The Finish... of each part of checkpoint_job_ that has run.
  void FinishDoneParts();
  // Runs the job's next part off the loop (env_.run_off_loop, or a thread of the node's own).
  void RunOffLoop(std::function<void()> work);
  // A part of the checkpoint ran off the loop and waits for the loop to finish it.
  bool CheckpointDone() const;
  // Snapshots sent and received (raft_node_snapshots.cc), loop thread.
  void StartSnapshotSend(raft::Message m);
  void PumpSnapshotSends();
  void HandleSnapshotChunk(uint64_t from, const std::string& frame);
  // A follower asks to go on with its stream at an offset (it lost a chunk): the sender goes back
  // or forward to it and sends on from there.
  void HandleSnapshotResume(uint64_t from, const std::string& frame);
  // Asks `to` to go on with its stream of snapshot (index, term) at `offset` (at most once a
  // heartbeat interval for the same offset).
  void AskSnapshotResume(uint64_t to, LogIndex index, Term term, uint64_t offset);
  // Whether a kSnapshot message from the leader may be stepped: its data has arrived, or it is at
  // or below the applied index (the core answers it with its commit index).
  bool SnapshotStaged(const raft::Message& m) const;
  // Replaces the engine with the stored snapshot of `meta` and moves the log onto it.
  Status InstallSnapshot(const raft::SnapshotMetadata& meta);

  // Shared with a checkpoint running off the loop (CheckpointJob) and with apply_.
  std::shared_ptr<engine::SwappableEngine> engine_;
  mutable store::TokenCache token_cache_;
  mutable store::LeaseFeed lease_feed_;
  std::unique_ptr<wal::Wal> wal_;
  std::unique_ptr<wal::SnapshotStore> snapshots_;
  const RaftNodeOptions options_;
  const RaftNodeEnv env_;
  std::unique_ptr<raft::RawNode> raw_;             // loop thread only (after Open)
  std::unique_ptr<net::PeerTransport> transport_;  // Open only
  net::PeerSender* peers_ = nullptr;               // transport_, or the driver's

  // Applies the committed entries off the loop (from Begin on).
  std::unique_ptr<ApplyStage> apply_;
  std::unique_ptr<WalWriter> wal_writer_;  // none while Begin runs: saves on the loop then

  // Loop-thread state.
  // The last index the loop collected from apply_ (the engine may be further): reads, /status
  // and the member table (members_ holds every record up to it) go by it.
  LogIndex applied_;
  // The last kConfChange entry handed to apply_: the leader reconciles the configuration with
  // the member table only once applied_ reached it (the member records before it are in members_).
  LogIndex conf_change_handed_;
  Clock::time_point last_tick_;
  uint64_t ticks_ = 0;
  uint64_t read_seq_ = 0;
  std::deque<Proposal> held_;     // no leader known yet; retried every pass
  std::deque<Proposal> refused_;  // handed back by a non-leader; held again at the next tick
  std::map<uint64_t, std::deque<PendingRead>> reads_in_flight_;  // read context seq -> reads
  std::deque<std::pair<uint64_t, std::deque<PendingRead>>> reads_ready_;  // (index, reads)
  std::map<uint64_t, store::MemberRecord> members_;  // the applied member table
  std::map<uint64_t, std::string> peer_addresses_;   // every peer address ever learned
  std::set<uint64_t> transport_peers_;
  // The nodes that may speak to this one: the recorded members (a join in progress included),
  // every node in the configuration, and the members known from the join reply; not this node.
  std::set<uint64_t> allowed_peers_;
  LogRateLimiter refused_frame_log_{10};
  std::vector<PendingMembership> membership_waits_;
  // Answers of applied writes, run after the status is published (a client that sees its
  // revision then sees a commit index at least as high in /status).
  std::vector<std::pair<SubmitCallback, store::ApplyResult>> completions_;
  std::vector<PendingTransfer> transfers_;
  // A Ready the core handed out that is not fully done: the disk was full when saving it (not
  // saved) or when applying its committed entries (saved and sent). Retried every pass.
  std::optional<raft::Ready> pending_ready_;
  bool pending_saved_ = false;
  bool pending_written_off_loop_ = false;  // pending_ready_ was handed to wal_writer_
  bool rewrite_unwritten_ = false;         // a write failed: the core hands its entries out again
  // How many of pending_ready_'s committed entries ApplyDurableBeforeSave applied already.
  size_t early_applied_ = 0;
  bool disk_full_ = false;
  bool members_dirty_ = true;
  SeenForwards seen_forwards_;  // forwarded writes proposed here (duplicates are dropped)
  std::map<uint64_t, SnapshotSend> snapshot_sends_;  // follower id -> stream in progress
  std::unique_ptr<wal::SnapshotReceiver> receiver_;  // from the leader, in progress
  uint64_t receiving_from_ = 0;
  std::optional<uint64_t> resume_asked_offset_;  // the last resume sent for receiver_, and when
  Clock::time_point resume_asked_time_;
  Clock::time_point snapshot_backoff_until_;  // after a failed snapshot, wait before the next
  std::optional<wal::StoredSnapshot> staged_snapshot_;  // received, waiting for its kSnapshot
  struct AddressClaim {
    std::string peer_address;  // empty: not claimed
    std::string api_address;
    uint64_t proposed_tick = 0;  // when the leader last proposed recording it (0: never)
  };
  // Possible later members (MayBeLaterMember) that said hello, and the peer address they
  // claimed: at most Limits::provisional_peers_max (--max-provisional-peers).
  std::map<uint64_t, std::string> provisional_peers_;
  std::map<uint64_t, AddressClaim> claimed_addresses_;  // member id -> addresses from its hello
  uint64_t applied_bytes_since_snapshot_ = 0;  // entry bytes applied since the last snapshot
  ConfHistory conf_history_;  // the configuration at each applied index since the last snapshot
  // The checkpoint (or its cleanup) running off the loop, if any; its thread (Open only) is
  // joined when it is done.
  std::shared_ptr<CheckpointJob> checkpoint_job_;
  std::thread checkpoint_thread_;
  uint64_t engine_installs_ = 0;  // snapshots installed from the leader (engines replaced)
  bool seeded_ = false;           // this leader proposed the new cluster's first member record
  bool was_member_ = false;       // the configuration contained this node at some point
  bool removed_ = false;          // ... and no longer does (or its member record was removed)
  bool in_member_table_ = false;  // the applied member table held this node at some point
  std::map<uint64_t, MemberHealth> leader_view_;  // from the last kMembersView frame
  uint64_t leader_view_from_ = 0;                 // the leader that sent it
  Clock::time_point leader_view_at_;              // when it arrived
  uint64_t members_view_sent_tick_ = 0;
  Clock::time_point quorum_seen_;  // the last pass on which a quorum was reachable
  // The role and leader NoteStatusChange last saw.
  raft::Role seen_role_ = raft::Role::kFollower;
  uint64_t seen_leader_ = 0;
  NodeMetrics metrics_;                           // written by the loop thread, read by any
  std::map<uint64_t, PeerTraffic> peer_traffic_;  // loop thread; peer id -> figures

  mutable Mutex mu_;
  std::condition_variable wake_;
  bool stopping_ NDS_GUARDED_BY(mu_) = false;
  uint64_t next_request_id_ NDS_GUARDED_BY(mu_) = 1;
  std::deque<Proposal> proposals_ NDS_GUARDED_BY(mu_);
  std::deque<PendingRead> new_reads_ NDS_GUARDED_BY(mu_);
  std::deque<Inbound> inbox_ NDS_GUARDED_BY(mu_);
  std::vector<PendingTransfer> new_transfers_ NDS_GUARDED_BY(mu_);
  std::map<uint64_t, PendingWrite> writes_ NDS_GUARDED_BY(mu_);
  NodeStatus status_ NDS_GUARDED_BY(mu_);
  // The leader lease as of the last tick: /role answers goose only before this instant.
  Clock::time_point lease_until_ NDS_GUARDED_BY(mu_);
  // With lease_reads, LeaseReadPoint as last published (0 for none): until lease_until_, a read
  // on another thread takes it as its read point once applied_index has reached it, without
  // waiting for the loop (WaitForReadPoint).
  uint64_t lease_read_index_ NDS_GUARDED_BY(mu_) = 0;
  bool removed_published_ NDS_GUARDED_BY(mu_) = false;
  // Not ok (kNoQuorum, naming how many members are reachable) while WatchQuorum finds no quorum:
  // new writes and reads are refused with it at once, and those waiting are answered with it.
  Status no_quorum_status_ NDS_GUARDED_BY(mu_);
  // New writes are refused with this (kNoSpace) while the disk is full.
  Status disk_full_status_ NDS_GUARDED_BY(mu_);
  // Free bytes of the data directory's file system at the last check (every tick), and the
  // bytes of writes submitted since (each counted twice: the Raft log and the engine).
  uint64_t disk_free_bytes_ NDS_GUARDED_BY(mu_) = UINT64_MAX;
  uint64_t bytes_since_disk_check_ NDS_GUARDED_BY(mu_) = 0;
  std::vector<MemberInfo> members_view_ NDS_GUARDED_BY(mu_);
  std::map<uint64_t, PeerTraffic> peer_traffic_view_ NDS_GUARDED_BY(mu_);
  // allowed_peers_ as of the last change, for OnHello (transport threads).
  std::set<uint64_t> allowed_peers_view_ NDS_GUARDED_BY(mu_);
  // Addresses from hellos (transport threads), taken by the loop every tick.
  std::map<uint64_t, AddressClaim> hello_claims_ NDS_GUARDED_BY(mu_);
  std::thread loop_thread_;
};

}  // namespace nds::node
