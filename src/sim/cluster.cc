// The simulated cluster: node/'s Ready handling for N RawNodes over simulated disks and network
// (see cluster.h).
#include "sim/cluster.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

namespace nds::sim {

struct Cluster::Node {
  NodeId id;
  bool running = false;
  bool stopped = false;
  SimDisk disk;
  std::unique_ptr<raft::MemoryStorage> storage;  // set while running
  std::unique_ptr<raft::RawNode> raw;            // set while running
  KvStateMachine kv;
  LogIndex applied;
  raft::SoftState soft;
  raft::HardState hard;  // the hard state saved last
  uint64_t incarnation = 0;
  // This node's clock rate: the chance it misses a tick, fixed per incarnation, so that some
  // clocks are consistently slower than others.
  uint64_t clock_skip_per_million = 0;
};

Cluster::Cluster(const ClusterOptions& options, const NetworkOptions& network_options, Rng rng,
                 std::function<void(const std::string&)> trace)
    : options_(options),
      rng_(rng.Fork()),
      disk_rng_(rng.Fork()),
      network_(std::make_unique<Network>(network_options, rng.Fork())),
      trace_(std::move(trace)) {}

Cluster::~Cluster() = default;

void Cluster::Trace(const std::string& line) const {
  if (trace_) trace_(fmt::format("t={} {}", now_ticks_, line));
}

Cluster::Node* Cluster::Find(NodeId id) const {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : it->second.get();
}

Status Cluster::StartNode(Node* n) {
  n->storage = n->disk.Load();
  raft::Config config;
  config.id = n->id;
  config.election_ticks = options_.election_ticks;
  config.heartbeat_ticks = options_.heartbeat_ticks;
  config.lease_ticks = options_.lease_ticks;
  config.pre_vote = options_.pre_vote;
  config.check_quorum = options_.check_quorum;
  config.applied = LogIndex(0);  // the KV state machine is in memory: replay from the start
  config.storage = n->storage.get();
  config.seed = rng_.Next();
  Result<std::unique_ptr<raft::RawNode>> raw = raft::RawNode::Create(config);
  if (!raw.ok()) {
    return Corruption(fmt::format("node {} failed to restart from its durable state: {}", n->id,
                                  raw.status().ToString()));
  }
  n->raw = std::move(raw).value();
  n->running = true;
  n->kv = KvStateMachine();
  n->applied = LogIndex(0);
  n->soft = raft::SoftState{};
  n->hard = n->disk.durable().hard_state;
  ++n->incarnation;
  n->clock_skip_per_million = rng_.Below(options_.clock_skip_per_million + 1);
  NDS_RETURN_IF_ERROR(checker_.OnRestart(n->id, n->disk.durable().entries));
  if (n->hard.commit.value > 0) {
    NDS_RETURN_IF_ERROR(checker_.OnCommit(n->id, n->hard.term, n->hard.commit));
  }
  return Status::Ok();
}

Status Cluster::Bootstrap(int voters) {
  NDS_CHECK(nodes_.empty());
  std::vector<NodeId> ids;
  for (int i = 0; i < voters; ++i) ids.push_back(NodeId(next_node_id_++));
  for (NodeId id : ids) {
    auto n = std::make_unique<Node>();
    n->id = id;
    NDS_RETURN_IF_ERROR(StartNode(n.get()));
    NDS_RETURN_IF_ERROR(n->raw->Bootstrap(ids));
    nodes_.emplace(id, std::move(n));
  }
  for (auto& [id, n] : nodes_) NDS_RETURN_IF_ERROR(HandleReadies(n.get()));
  Trace(fmt::format("bootstrapped {} voters", voters));
  return Status::Ok();
}

Status Cluster::Tick() {
  ++now_ticks_;
  for (auto& [id, n] : nodes_) {
    if (!n->running) continue;
    if (n->clock_skip_per_million > 0 && rng_.Chance(n->clock_skip_per_million)) continue;
    n->raw->Tick();
  }
  for (raft::Message& m : network_->TakeDue(now_ticks_)) {
    Node* n = Find(m.to);
    if (n == nullptr || !n->running) continue;
    Status s = n->raw->Step(m);
    if (!s.ok())
      Trace(fmt::format("node {} refused {}: {}", m.to, raft::ToString(m), s.ToString()));
  }
  uint64_t sent_before = network_->stats().sent;
  sent_this_tick_.clear();
  for (auto& [id, n] : nodes_) {
    if (n->running) NDS_RETURN_IF_ERROR(HandleReadies(n.get()));
  }
  uint64_t sent = network_->stats().sent - sent_before;
  if (sent > options_.messages_per_tick_max) {
    std::string kinds;
    for (const auto& [type, count] : sent_this_tick_) {
      kinds += fmt::format(" {}={}", raft::MessageTypeName(type), count);
    }
    return Corruption(fmt::format("message storm: {} messages sent in one tick:{}", sent, kinds));
  }
  return CheckAfterTick();
}

Status Cluster::HandleReadies(Node* n) {
  for (int i = 0; n->running && n->raw->HasReady(); ++i) {
    if (i == options_.readies_per_tick_max) {
      return Corruption(fmt::format("node {} produced {} Readies in one tick", n->id, i));
    }
    bool crashed = false;
    NDS_RETURN_IF_ERROR(HandleReady(n, &crashed));
    if (crashed) return Status::Ok();
  }
  return Status::Ok();
}

// The order of raw_node.h: leader's early sends, persist (+ sync), send, apply, Advance.
Status Cluster::HandleReady(Node* n, bool* crashed) {
  raft::Ready rd = n->raw->GetReady();
  if (rd.soft_state) {
    if (rd.soft_state->role != n->soft.role || rd.soft_state->leader != n->soft.leader) {
      Trace(fmt::format("node {} is {} (leader {}) term {}", n->id,
                        raft::RoleName(rd.soft_state->role), rd.soft_state->leader,
                        n->raw->GetStatus().term));
    }
    n->soft = *rd.soft_state;
  }
  if (rd.snapshot) {
    return Corruption(fmt::format(
        "node {} got a snapshot at {} although no log is ever compacted in the simulator", n->id,
        rd.snapshot->index));
  }
  // Entries may go to followers while the leader's own fsync runs (STYLE.md §7): do it on half of
  // the Readies, so that both orders are exercised.
  bool early = n->soft.role == raft::Role::kLeader && rng_.Below(2) == 0;
  if (early) SendMessages(rd.messages, /*durable_only=*/false);
  NDS_RETURN_IF_ERROR(Persist(n, rd, crashed));
  if (*crashed) return Status::Ok();
  if (early) {
    SendMessages(rd.messages, /*durable_only=*/true);
  } else {
    for (const raft::Message& m : rd.messages) Send(m);
  }
  NDS_RETURN_IF_ERROR(ApplyCommitted(n, rd));
  for (const raft::ReadState& rs : rd.read_states) {
    ClusterEvent ev;
    ev.kind = ClusterEvent::Kind::kReadState;
    ev.node = n->id;
    ev.index = rs.index;
    ev.context = rs.context;
    events_.push_back(std::move(ev));
  }
  n->raw->Advance(rd);
  return Status::Ok();
}

void Cluster::SetClockSkip(uint64_t per_million) {
  options_.clock_skip_per_million = per_million;
  for (auto& [id, n] : nodes_)
    n->clock_skip_per_million = std::min(n->clock_skip_per_million, per_million);
}

void Cluster::Send(const raft::Message& m) {
  ++sent_this_tick_[m.type];
  network_->Send(m, now_ticks_);
}

void Cluster::SendMessages(const std::vector<raft::Message>& msgs, bool durable_only) {
  for (const raft::Message& m : msgs) {
    if (raft::MessageNeedsDurableState(m.type) == durable_only) Send(m);
  }
}

Status Cluster::Persist(Node* n, const raft::Ready& rd, bool* crashed) {
  bool writes = !rd.entries.empty() || rd.hard_state.has_value();
  if (!writes) return Status::Ok();
  if (options_.disk_failure_per_million > 0 && rng_.Chance(options_.disk_failure_per_million)) {
    n->disk.InjectWriteFailure();
  }
  auto disk_failed = [&](const Status& s) {
    Trace(fmt::format("node {} disk write failed ({}): the node stops", n->id, s.ToString()));
    Crash(n->id);
    *crashed = true;
  };
  if (options_.term_vote_before_entries && rd.hard_state && !rd.entries.empty() &&
      (rd.hard_state->term != n->hard.term || rd.hard_state->vote != n->hard.vote)) {
    // The new term and vote reach the disk before the entries, the new commit index after them:
    // whatever prefix of these writes a crash keeps, the log has no entry of a term above the
    // saved term, and the saved commit index is within the log.
    raft::HardState first = *rd.hard_state;
    first.commit = n->hard.commit;
    Status s = n->disk.SaveHardState(first);
    if (s.code() == StatusCode::kIoError) {
      disk_failed(s);
      return Status::Ok();
    }
  }
  if (!rd.entries.empty()) {
    Status s = n->disk.AppendEntries(rd.entries);
    if (s.code() == StatusCode::kIoError) {
      disk_failed(s);
      return Status::Ok();
    }
    if (!s.ok()) return Corruption(fmt::format("node {}: {}", n->id, s.ToString()));
    Status m = n->storage->Append(rd.entries);
    if (!m.ok()) return Corruption(fmt::format("node {}: storage: {}", n->id, m.ToString()));
    NDS_RETURN_IF_ERROR(checker_.OnAppend(n->id, rd.entries));
  }
  if (rd.hard_state) {
    const raft::HardState& hs = *rd.hard_state;
    Status s = n->disk.SaveHardState(hs);
    if (s.code() == StatusCode::kIoError) {
      disk_failed(s);
      return Status::Ok();
    }
    n->storage->SetHardState(hs);
    bool term_or_vote_changed = hs.term != n->hard.term || hs.vote != n->hard.vote;
    if ((term_or_vote_changed || !rd.entries.empty()) && !rd.must_sync) {
      return Corruption(
          fmt::format("node {}: Ready changed term/vote or entries without must_sync", n->id));
    }
    n->hard = hs;
    NDS_RETURN_IF_ERROR(checker_.OnCommit(n->id, hs.term, hs.commit));
  } else if (!rd.entries.empty() && !rd.must_sync) {
    return Corruption(fmt::format("node {}: Ready with entries without must_sync", n->id));
  }
  if (options_.crash_before_sync_per_million > 0 &&
      rng_.Chance(options_.crash_before_sync_per_million)) {
    Trace(fmt::format("node {} crashes before its fsync ({} unsynced writes)", n->id,
                      n->disk.unsynced_writes()));
    Crash(n->id);
    *crashed = true;
    return Status::Ok();
  }
  if (rd.must_sync && !options_.break_fsync) n->disk.Sync();
  return Status::Ok();
}

Status Cluster::ApplyCommitted(Node* n, const raft::Ready& rd) {
  for (const raft::Entry& e : rd.committed_entries) {
    NDS_RETURN_IF_ERROR(checker_.OnApply(n->id, e));
    n->applied = e.index;
    if (e.type == raft::EntryType::kConfChange) {
      Result<raft::ConfChange> cc = raft::DecodeConfChange(e.data);
      if (!cc.ok())
        return Corruption(
            fmt::format("node {}: entry {}: {}", n->id, e.index, cc.status().ToString()));
      ClusterEvent ev;
      ev.kind = ClusterEvent::Kind::kConfChangeApplied;
      ev.node = n->id;
      ev.index = e.index;
      ev.conf_change = *cc;
      events_.push_back(std::move(ev));
      continue;
    }
    if (e.data.empty()) continue;  // a leader's no-op
    Result<KvCommand> cmd = DecodeKvCommand(e.data);
    if (!cmd.ok()) {
      return Corruption(
          fmt::format("node {}: entry {}: {}", n->id, e.index, cmd.status().ToString()));
    }
    ClusterEvent ev;
    ev.kind = ClusterEvent::Kind::kApplied;
    ev.node = n->id;
    ev.index = e.index;
    ev.cas_swapped = n->kv.Apply(*cmd);
    ev.command = std::move(cmd).value();
    events_.push_back(std::move(ev));
  }
  return Status::Ok();
}

Status Cluster::CheckAfterTick() {
  std::vector<NodeId> lease_holders;
  for (auto& [id, n] : nodes_) {
    if (!n->running) continue;
    Status inv = raft::CheckInvariants(*n->raw);
    if (!inv.ok()) {
      return Corruption(fmt::format("node {} core invariant: {}", id, inv.ToString()));
    }
    raft::BasicStatus st = n->raw->GetStatus();
    if (st.role == raft::Role::kLeader) NDS_RETURN_IF_ERROR(checker_.OnLeader(id, st.term));
    if (n->raw->HasLeaderLease()) lease_holders.push_back(id);
  }
  if (!lease_holders.empty()) ++lease_held_ticks_;
  return checker_.CheckLeases(lease_holders);
}

Status Cluster::Propose(NodeId node, const KvCommand& cmd) {
  Node* n = Find(node);
  if (n == nullptr || !n->running) return Unavailable(fmt::format("node {} is down", node));
  return n->raw->Propose(EncodeKvCommand(cmd));
}

Status Cluster::ReadIndex(NodeId node, const std::string& context) {
  Node* n = Find(node);
  if (n == nullptr || !n->running) return Unavailable(fmt::format("node {} is down", node));
  return n->raw->ReadIndex(context);
}

Status Cluster::ProposeConfChange(NodeId node, const raft::ConfChange& cc) {
  Node* n = Find(node);
  if (n == nullptr || !n->running) return Unavailable(fmt::format("node {} is down", node));
  Status s = n->raw->ProposeConfChange(cc);
  Trace(fmt::format("node {} proposes {}: {}", node, raft::ToString(cc), s.ToString()));
  return s;
}

Status Cluster::TransferLeadership(NodeId node, NodeId to) {
  Node* n = Find(node);
  if (n == nullptr || !n->running) return Unavailable(fmt::format("node {} is down", node));
  Status s = n->raw->TransferLeadership(to);
  Trace(fmt::format("node {} asked to transfer leadership to {}: {}", node, to, s.ToString()));
  return s;
}

void Cluster::Crash(NodeId node) {
  Node* n = Find(node);
  if (n == nullptr || !n->running) return;
  n->running = false;
  n->raw.reset();
  n->storage.reset();
  n->disk.Crash(disk_rng_);
  ClusterEvent ev;
  ev.kind = ClusterEvent::Kind::kCrashed;
  ev.node = node;
  events_.push_back(std::move(ev));
  Trace(fmt::format("node {} crashed (durable last index {}, commit {})", node,
                    n->disk.durable().LastIndex(), n->disk.durable().hard_state.commit));
}

Status Cluster::Restart(NodeId node) {
  Node* n = Find(node);
  if (n == nullptr || n->running || n->stopped) return Status::Ok();
  NDS_RETURN_IF_ERROR(StartNode(n));
  Trace(fmt::format("node {} restarted (last index {}, {})", node, n->disk.durable().LastIndex(),
                    raft::ToString(n->hard)));
  return HandleReadies(n);
}

NodeId Cluster::AddNode() {
  auto n = std::make_unique<Node>();
  n->id = NodeId(next_node_id_++);
  Status s = StartNode(n.get());
  NDS_CHECK(s.ok(), "{}", s.ToString());  // an empty disk always starts
  NodeId id = n->id;
  nodes_.emplace(id, std::move(n));
  Trace(fmt::format("node {} created, empty", id));
  return id;
}

void Cluster::Stop(NodeId node) {
  Node* n = Find(node);
  if (n == nullptr || n->stopped) return;
  Crash(node);
  n->stopped = true;
  Trace(fmt::format("node {} stopped for good", node));
}

std::vector<NodeId> Cluster::AllNodes() const {
  std::vector<NodeId> out;
  for (const auto& [id, n] : nodes_) {
    if (!n->stopped) out.push_back(id);
  }
  return out;
}

std::vector<NodeId> Cluster::RunningNodes() const {
  std::vector<NodeId> out;
  for (const auto& [id, n] : nodes_) {
    if (n->running) out.push_back(id);
  }
  return out;
}

std::vector<NodeId> Cluster::CrashedNodes() const {
  std::vector<NodeId> out;
  for (const auto& [id, n] : nodes_) {
    if (!n->running && !n->stopped) out.push_back(id);
  }
  return out;
}

bool Cluster::IsRunning(NodeId node) const {
  Node* n = Find(node);
  return n != nullptr && n->running;
}

raft::BasicStatus Cluster::NodeStatus(NodeId node) const {
  Node* n = Find(node);
  NDS_CHECK(n != nullptr && n->running);
  return n->raw->GetStatus();
}

bool Cluster::HasLeaderLease(NodeId node) const {
  Node* n = Find(node);
  return n != nullptr && n->running && n->raw->HasLeaderLease();
}

std::optional<NodeId> Cluster::Leader() const {
  std::optional<NodeId> best;
  Term best_term;
  for (const auto& [id, n] : nodes_) {
    if (!n->running) continue;
    raft::BasicStatus st = n->raw->GetStatus();
    if (st.role == raft::Role::kLeader && (!best || st.term > best_term)) {
      best = id;
      best_term = st.term;
    }
  }
  return best;
}

LogIndex Cluster::Applied(NodeId node) const {
  Node* n = Find(node);
  return n == nullptr ? LogIndex(0) : n->applied;
}

std::optional<std::string> Cluster::Read(NodeId node, const std::string& key) const {
  Node* n = Find(node);
  NDS_CHECK(n != nullptr && n->running);
  return n->kv.Get(key);
}

const SimDisk& Cluster::Disk(NodeId node) const {
  Node* n = Find(node);
  NDS_CHECK(n != nullptr);
  return n->disk;
}

std::vector<ClusterEvent> Cluster::TakeEvents() {
  std::vector<ClusterEvent> out;
  out.swap(events_);
  return out;
}

}  // namespace nds::sim
