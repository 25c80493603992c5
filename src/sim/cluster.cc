// The simulated cluster: real RaftNodes on simulated disks, network and clocks (see cluster.h).
#include "sim/cluster.h"

#include <algorithm>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "node/engine_dir.h"
#include "node/raft_codec.h"
#include "sim/no_sync_file_system.h"
#include "sim/sim_engine.h"
#include "store/keyspace.h"
#include "store/membership.h"
#include "util/check.h"

namespace nds::sim {
namespace {

using Clock = node::RaftNodeEnv::Clock;

constexpr std::chrono::milliseconds kTick{10};
// Bootstrap: ticks allowed for each founding member to join.
constexpr uint64_t kJoinTicksMax = 400;
// A full disk frees itself again after this many ticks.
constexpr uint64_t kDiskFullTicks = 20;
constexpr char kSecret[] = "simulated-cluster-secret-of-enough-bytes";

// Thrown by a node's storage-failure hook (RaftNodeEnv::die), caught around every call into the
// node: the process it models has exited.
struct NodeDied {
  std::string what;
};

}  // namespace

struct Cluster::Node {
  NodeId id;
  std::string name;
  bool running = false;
  bool stopped = false;
  std::unique_ptr<FaultFileSystem> disk;
  std::unique_ptr<FileSystem> no_sync;  // with break_fsync: `disk` without fsync
  FileSystem* fs = nullptr;             // what the node writes through
  std::unique_ptr<Peers> peers;
  std::unique_ptr<node::RaftNode> node;  // set while running
  node::RaftNodeOptions options;
  Clock::time_point clock = Clock::time_point{} + std::chrono::hours(1);
  uint64_t clock_skip_per_million = 0;
  uint64_t disk_full_until = 0;  // tick; 0: not full
  uint64_t incarnation = 0;
  std::set<uint64_t> hellos_from;  // peers whose hello this incarnation accepted (its links)
  std::vector<std::function<void()>> held_applies;  // batches not yet applied (apply lag)
  std::vector<std::function<void()>> held_writes;   // Raft log writes not yet run (same lag)
  uint64_t apply_held_until = 0;                    // tick: the end of the node's lag episode
  uint64_t write_held_until = 0;                    // ... and of its log writes' own episode
  node::Role role = node::Role::kFollower;
  uint64_t leader = 0;
  // Metrics of earlier incarnations.
  uint64_t snapshots_made = 0, snapshots_sent = 0, snapshots_installed = 0, lease_reads = 0;
  uint64_t snapshots_resumed = 0, installs_over_backlog = 0;
};

// The node's links: frames go into the simulated network; a link is up when it is not cut and
// the node at its end runs.
class Cluster::Peers final : public net::PeerSender {
 public:
  Peers(Cluster* cluster, NodeId self) : cluster_(cluster), self_(self) {}
  void SetPeer(uint64_t id, const std::string&) override { known_.insert(id); }
  void RemovePeer(uint64_t id) override { known_.erase(id); }
  bool Send(uint64_t id, net::PeerPayload frame) override {
    if (!known_.contains(id)) return false;
    ++cluster_->sent_this_tick_;
    // The simulated network carries flat bytes (it may duplicate and reorder them).
    cluster_->network_->Send(Packet{self_, NodeId(id), std::move(frame).Flatten()},
                             cluster_->now_ticks_);
    return true;
  }
  void CloseInbound(uint64_t id, const std::string& reason) override {
    cluster_->Trace(fmt::format("node {} drops its link from {}: {}", self_, id, reason));
  }
  size_t QueuedBytes(uint64_t) const override { return 0; }
  bool Connected(uint64_t id) const override {
    return known_.contains(id) && !cluster_->network_->IsCut(self_, NodeId(id)) &&
           cluster_->IsRunning(NodeId(id));
  }

 private:
  Cluster* cluster_;
  NodeId self_;
  std::set<uint64_t> known_;
};

Cluster::Cluster(const ClusterOptions& options, const NetworkOptions& network_options, Rng rng,
                 std::function<void(const std::string&)> trace)
    : options_(options),
      rng_(rng.Fork()),
      network_(std::make_unique<Network>(network_options, rng.Fork())),
      trace_(std::move(trace)) {}

Cluster::~Cluster() {
  // Nodes answer what still waits as they stop; the answers may reach into the cluster.
  for (auto& [id, n] : nodes_) n->node.reset();
}

void Cluster::Trace(const std::string& line) const {
  if (trace_) trace_(fmt::format("t={} {}", now_ticks_, line));
}

Cluster::Node* Cluster::Find(NodeId id) const {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : it->second.get();
}

Cluster::Node* Cluster::NewNode(uint64_t id, std::vector<store::MemberRecord> known) {
  auto n = std::make_unique<Node>();
  n->id = NodeId(id);
  n->disk = std::make_unique<FaultFileSystem>(rng_.Next());
  n->disk->SetTearOnCrash(true);
  n->fs = n->disk.get();
  if (options_.break_fsync) {
    n->no_sync = std::make_unique<NoSyncFileSystem>(n->disk.get());
    n->fs = n->no_sync.get();
  }
  n->peers = std::make_unique<Peers>(this, n->id);
  node::RaftNodeOptions& o = n->options;
  o.id = id;
  o.name = fmt::format("n{}", id);
  o.cluster_id = "sim";
  o.data_dir = fmt::format("/n{}", id);
  o.cluster_secret = kSecret;
  o.bootstrap = known.empty();
  // Advertised as `nds start --join` does: the addresses of its own member record (the founder
  // records what it advertises), which its hellos claim.
  o.peer_address = "10.1.0.1:7000";
  o.api_address = "10.1.0.1:8000";
  for (const store::MemberRecord& r : known) {
    if (r.id == id) {
      o.peer_address = r.peer_address;
      o.api_address = r.api_address;
    }
  }
  o.known_members = std::move(known);
  o.lease_reads = options_.lease_reads;
  Limits& l = o.limits;
  l.heartbeat_interval = kTick;
  l.election_timeout = kTick * options_.election_ticks;
  l.lease_duration = kTick * options_.lease_ticks;
  l.request_timeout = kTick * options_.request_timeout_ticks;
  l.snapshot_entries = options_.snapshot_entries;
  l.snapshot_chunk_bytes = options_.snapshot_chunk_bytes;
  l.history_revisions = options_.history_revisions;
  l.snapshot_send_timeout = kTick * 200;
  l.wal_segment_bytes = options_.wal_segment_bytes;
  l.disk_free_bytes_min = 0;
  NDS_CHECK(n->disk->CreateDir(o.data_dir).ok());
  NDS_CHECK(n->disk->SyncDir("/").ok());
  Node* raw = n.get();
  nodes_.emplace(n->id, std::move(n));
  return raw;
}

nds::Status Cluster::StartNode(Node* n) {
  auto dir = node::CurrentEngineDir(n->options.data_dir, n->fs);
  if (!dir.ok()) return dir.status();
  auto engine = OpenSimEngine(n->fs, *dir);
  if (!engine.ok()) return engine.status();
  node::RaftNodeEnv env;
  env.now = [n] { return n->clock; };
  env.fs = n->fs;
  env.open_engine = [fs = n->fs](std::string_view, const std::string& d) {
    return OpenSimEngine(fs, d);
  };
  env.die = [](std::string_view what, const nds::Status& s) {
    throw NodeDied{fmt::format("{}: {}", what, s.ToString())};
  };
  env.seed = rng_.Next() | 1;
  n->held_applies.clear();
  n->held_writes.clear();
  n->apply_held_until = 0;
  n->write_held_until = 0;
  if (options_.apply_lag_per_million > 0) {
    env.run_apply = [n](std::function<void()> work) { n->held_applies.push_back(std::move(work)); };
    // The node's Raft log writes lag too, in episodes of their own: the loop runs ahead of its
    // own log (a write held when the node crashes is lost, as an unsynced one is).
    env.run_wal_write = [n](std::function<void()> work) {
      n->held_writes.push_back(std::move(work));
    };
  }
  n->clock_skip_per_million = rng_.Below(options_.clock_skip_per_million + 1);
  ++n->incarnation;
  try {
    auto node = node::RaftNode::OpenDriven(std::move(engine).value(), n->options, std::move(env),
                                           n->peers.get());
    if (!node.ok()) return node.status();
    n->node = std::move(node).value();
  } catch (const NodeDied& d) {
    return IoError(d.what);
  }
  n->running = true;
  // A new process: every link to and from it opens again with a hello.
  n->hellos_from.clear();
  for (auto& [id, other] : nodes_) other->hellos_from.erase(n->id.value);
  return nds::Status::Ok();
}

bool Cluster::Hello(Node* to, uint64_t from) {
  if (to->hellos_from.contains(from)) return true;
  // The handshake (the cluster secret) is not simulated; what the hello claims is, as the
  // receiving node checks it.
  node::Hello h;
  h.cluster_id = to->options.cluster_id;
  h.node_id = from;
  if (const Node* sender = Find(NodeId(from)); sender != nullptr) {
    h.peer_address = sender->options.peer_address;
    h.api_address = sender->options.api_address;
  }
  auto accepted = to->node->AcceptHello(node::EncodeHello(h));
  if (!accepted.ok()) {
    Trace(fmt::format("node {} refuses the link from {}: {}", to->id, from,
                      accepted.status().ToString()));
    return false;
  }
  to->hellos_from.insert(from);
  return true;
}

nds::Status Cluster::Bootstrap(int voters) {
  NDS_CHECK(nodes_.empty());
  Node* first = NewNode(1, {});
  NDS_RETURN_IF_ERROR(StartNode(first));
  Trace("node 1 founded the cluster");
  for (int i = 1; i < voters; ++i) {
    const uint64_t joins = counters_.joins;
    for (uint64_t t = 0; counters_.joins == joins; ++t) {
      if (t == kJoinTicksMax) {
        return Corruption(
            fmt::format("founding member {} did not join within {} ticks", i + 1, kJoinTicksMax));
      }
      if (!join_in_flight_) Join();
      NDS_RETURN_IF_ERROR(Tick());
    }
  }
  // Wait until the last one is a voter: the run starts with `voters` voters.
  for (uint64_t t = 0; t < kJoinTicksMax; ++t) {
    std::optional<NodeId> leader = Leader();
    if (leader) {
      size_t v = 0;
      for (const node::MemberInfo& m : Members(*leader)) v += m.voter ? 1 : 0;
      if (v == static_cast<size_t>(voters)) return nds::Status::Ok();
    }
    NDS_RETURN_IF_ERROR(Tick());
  }
  return Corruption(fmt::format("the founding members are not {} voters", voters));
}

void Cluster::NodeDown(Node* n, const std::string& why) {
  if (!n->running) return;
  n->running = false;
  const node::NodeMetrics& m = n->node->metrics();
  n->snapshots_made += m.snapshots_made.load();
  n->snapshots_sent += m.snapshots_sent.load();
  n->snapshots_installed += m.snapshots_installed.load();
  n->snapshots_resumed += m.snapshots_resumed.load();
  n->installs_over_backlog += m.snapshots_installed_over_backlog.load();
  n->lease_reads += n->node->GetStatus().lease_read_batches;
  auto dying = std::move(n->node);
  dying.reset();            // answers every waiting request kUnavailable
  n->held_applies.clear();  // no-ops once the node is gone
  n->held_writes.clear();
  n->disk->Crash();
  n->disk_full_until = 0;
  Trace(fmt::format("node {} {}", n->id, why));
}

void Cluster::DiskFaults(Node* n) {
  if (n->disk_full_until != 0 && now_ticks_ >= n->disk_full_until) {
    n->disk->SetCapacityBytes(UINT64_MAX);
    n->disk_full_until = 0;
    Trace(fmt::format("node {}: disk space freed", n->id));
  }
  if (n->disk_full_until == 0 && options_.disk_full_per_million > 0 &&
      rng_.Chance(options_.disk_full_per_million)) {
    auto free = n->disk->FreeBytes("/");
    const uint64_t used = (uint64_t{1} << 50) - (free.ok() ? *free : 0);
    n->disk->SetCapacityBytes(used);
    n->disk_full_until = now_ticks_ + kDiskFullTicks;
    ++counters_.disk_full;
    Trace(fmt::format("node {}: disk full ({} bytes used)", n->id, used));
  }
  if (options_.disk_failure_per_million > 0 && rng_.Chance(options_.disk_failure_per_million)) {
    FaultFileSystem::Fault f;
    f.op = FileOp::kWrite;
    f.times = 1;
    f.code = StatusCode::kIoError;
    n->disk->AddFault(f);
    Trace(fmt::format("node {}: its next write fails (EIO)", n->id));
  }
}

nds::Status Cluster::Tick() {
  ++now_ticks_;
  sent_this_tick_ = 0;
  for (Packet& p : network_->TakeDue(now_ticks_)) {
    Node* n = Find(p.to);
    if (n != nullptr && n->running && Hello(n, p.from.value)) {
      n->node->Deliver(p.from.value, std::move(p.frame));
    }
  }
  for (auto& [id, n] : nodes_) {
    if (!n->running) continue;
    DiskFaults(n.get());
    if (n->clock_skip_per_million == 0 || !rng_.Chance(n->clock_skip_per_million)) {
      n->clock += kTick;
    }
    try {
      if (options_.apply_lag_per_million > 0) {
        if (n->apply_held_until <= now_ticks_ && rng_.Chance(options_.apply_lag_per_million)) {
          n->apply_held_until = now_ticks_ + 1 + rng_.Below(kApplyLagTicksMax);
        }
        if (n->write_held_until <= now_ticks_ && rng_.Chance(options_.apply_lag_per_million)) {
          n->write_held_until = now_ticks_ + 1 + rng_.Below(kApplyLagTicksMax);
        }
        // Each runs the oldest batch (or write) waiting, whatever the order: run them all.
        if (n->write_held_until > now_ticks_) {
          if (!n->held_writes.empty()) ++counters_.write_lag_ticks;
        } else {
          std::vector<std::function<void()>> works;
          works.swap(n->held_writes);
          for (auto& w : works) w();
        }
        if (n->apply_held_until > now_ticks_) {
          if (!n->held_applies.empty()) ++counters_.apply_lag_ticks;
        } else {
          std::vector<std::function<void()>> works;
          works.swap(n->held_applies);
          for (auto& w : works) w();
        }
      }
      n->node->Pass(n->clock);
    } catch (const NodeDied& d) {
      ++counters_.storage_deaths;
      NodeDown(n.get(), "stopped on a storage failure: " + d.what);
    }
  }
  // Answers that change the node set, handled outside the passes.
  AdoptMembers();
  for (NodeId id : removed_) {
    Node* n = Find(id);
    if (n == nullptr || n->stopped) continue;
    NodeDown(n, "removed: stopped for good");
    n->stopped = true;
    ++counters_.removals;
  }
  removed_.clear();
  if (sent_this_tick_ > options_.messages_per_tick_max) {
    return Corruption(fmt::format("message storm: {} frames sent in one tick", sent_this_tick_));
  }
  return CheckAfterTick();
}

nds::Status Cluster::CheckAfterTick() {
  std::vector<NodeId> lease_holders;
  for (auto& [id, n] : nodes_) {
    if (!n->running) continue;
    node::NodeStatus st = n->node->GetStatus();
    if (st.role == node::Role::kLeader) {
      NDS_RETURN_IF_ERROR(checker_.OnLeader(id, Term(st.term)));
      if (leaders_seen_.emplace(st.term, id.value).second) ++counters_.leader_changes;
    }
    if (st.has_lease) lease_holders.push_back(id);
    if (st.role != n->role || st.leader_id != n->leader) {
      Trace(fmt::format("node {} is {} (leader {}) term {}", id, node::RoleName(st.role),
                        st.leader_id, st.term));
      n->role = st.role;
      n->leader = st.leader_id;
    }
  }
  if (!lease_holders.empty()) ++lease_held_ticks_;
  return checker_.CheckLeases(lease_holders);
}

void Cluster::Submit(NodeId id, store::Command cmd, node::SubmitCallback done) {
  Node* n = Find(id);
  if (n == nullptr || !n->running) {
    store::ApplyResult r;
    r.status = Unavailable(fmt::format("node {} is down", id));
    done(std::move(r));
    return;
  }
  n->node->Submit(std::move(cmd), std::move(done));
}

void Cluster::WaitForReadPoint(NodeId id, node::ReadCallback done) {
  Node* n = Find(id);
  if (n == nullptr || !n->running) {
    done(Unavailable(fmt::format("node {} is down", id)));
    return;
  }
  n->node->WaitForReadPoint(std::move(done));
}

void Cluster::TransferLeadership(NodeId id, NodeId to) {
  Node* n = Find(id);
  if (n == nullptr || !n->running) return;
  Trace(fmt::format("node {} asked to hand leadership to {}", id, to));
  n->node->TransferLeadership(to.value, [this, id, to](const nds::Status& s) {
    if (s.ok()) ++counters_.transfers;
    Trace(fmt::format("transfer {} -> {}: {}", id, to, s.ToString()));
  });
}

std::optional<std::string> Cluster::ReadValue(NodeId id, const std::string& key) const {
  Node* n = Find(id);
  NDS_CHECK(n != nullptr && n->running);
  auto v = n->node->engine().Get(store::DataKey(key));
  NDS_CHECK(v.ok(), "{}", v.status().ToString());
  if (!v->has_value()) return std::nullopt;
  auto rec = store::DecodeRecord(**v);
  NDS_CHECK(rec.ok(), "{}", rec.status().ToString());
  return std::string(rec->value);
}

void Cluster::Crash(NodeId id) {
  Node* n = Find(id);
  if (n == nullptr || !n->running) return;
  ++counters_.crashes;
  NodeDown(n, "crashed (unsynced writes lost, the last ones torn)");
}

nds::Status Cluster::Restart(NodeId id) {
  Node* n = Find(id);
  if (n == nullptr || n->running || n->stopped) return nds::Status::Ok();
  ++counters_.restarts;
  nds::Status s = StartNode(n);
  Trace(fmt::format("node {} restarted: {}", id, s.ToString()));
  if (s.code() == StatusCode::kIoError) return nds::Status::Ok();  // an injected disk fault
  return s;
}

void Cluster::Join() {
  std::optional<NodeId> leader = Leader();
  if (!leader || join_in_flight_) return;
  const uint64_t a = next_address_++;
  store::MemberRecord rec{0, fmt::format("joiner{}", a),
                          fmt::format("10.0.{}.{}:7000", a / 250, a % 250 + 1),
                          fmt::format("10.0.{}.{}:8000", a / 250, a % 250 + 1)};
  join_in_flight_ = true;
  Trace(fmt::format("asking leader {} to add {}", *leader, rec.name));
  // The new member starts once the leader's member table holds it (AdoptMembers), whether or
  // not this answer arrives: a write that timed out may still have committed.
  Submit(*leader, store::AddMemberCommand(rec), [this](store::ApplyResult r) {
    join_in_flight_ = false;
    Trace(fmt::format("add member: {}",
                      r.status.ok() ? fmt::format("id {}", r.revision) : r.status.ToString()));
  });
}

void Cluster::AdoptMembers() {
  std::optional<NodeId> leader = Leader();
  if (!leader) return;
  const std::vector<node::MemberInfo> members = Members(*leader);
  for (const node::MemberInfo& m : members) {
    if (nodes_.contains(NodeId(m.id))) continue;
    // What `nds start --join` is told: the member table as the leader has it.
    std::vector<store::MemberRecord> known;
    known.reserve(members.size());
    for (const node::MemberInfo& k : members) {
      known.push_back({k.id, k.name, k.peer_address, k.api_address});
    }
    Node* n = NewNode(m.id, std::move(known));
    ++counters_.joins;
    nds::Status s = StartNode(n);
    Trace(fmt::format("node {} joined: {}", m.id, s.ToString()));
  }
}

void Cluster::Remove(NodeId member) {
  std::optional<NodeId> leader = Leader();
  if (!leader) return;
  Trace(fmt::format("asking leader {} to remove {}", *leader, member));
  Submit(*leader, store::RemoveMemberCommand(member.value),
         [this, member](const store::ApplyResult& r) {
           Trace(fmt::format("remove member {}: {}", member, r.status.ToString()));
           if (r.status.ok()) removed_.push_back(member);
         });
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

bool Cluster::IsRunning(NodeId id) const {
  Node* n = Find(id);
  return n != nullptr && n->running;
}

node::NodeStatus Cluster::NodeStatus(NodeId id) const {
  Node* n = Find(id);
  NDS_CHECK(n != nullptr && n->running);
  return n->node->GetStatus();
}

std::vector<node::MemberInfo> Cluster::Members(NodeId id) const {
  Node* n = Find(id);
  NDS_CHECK(n != nullptr && n->running);
  return n->node->Members();
}

std::optional<NodeId> Cluster::Leader() const {
  std::optional<NodeId> best;
  uint64_t best_term = 0;
  for (const auto& [id, n] : nodes_) {
    if (!n->running) continue;
    node::NodeStatus st = n->node->GetStatus();
    if (st.role == node::Role::kLeader && (!best || st.term > best_term)) {
      best = id;
      best_term = st.term;
    }
  }
  return best;
}

void Cluster::SetClockSkip(uint64_t per_million) {
  options_.clock_skip_per_million = per_million;
  for (auto& [id, n] : nodes_)
    n->clock_skip_per_million = std::min(n->clock_skip_per_million, per_million);
}

void Cluster::SetDiskFaults(uint64_t disk_failure_per_million, uint64_t disk_full_per_million) {
  options_.disk_failure_per_million = disk_failure_per_million;
  options_.disk_full_per_million = disk_full_per_million;
  for (auto& [id, n] : nodes_) {
    n->disk->ClearFaults();
    n->disk->SetCapacityBytes(UINT64_MAX);
    n->disk_full_until = 0;
  }
}

ClusterCounters Cluster::counters() const {
  ClusterCounters c = counters_;
  for (const auto& [id, n] : nodes_) {
    c.snapshots_made += n->snapshots_made;
    c.snapshots_sent += n->snapshots_sent;
    c.snapshots_installed += n->snapshots_installed;
    c.snapshots_resumed += n->snapshots_resumed;
    c.snapshots_installed_over_backlog += n->installs_over_backlog;
    c.lease_read_batches += n->lease_reads;
    if (!n->running) continue;
    const node::NodeMetrics& m = n->node->metrics();
    c.snapshots_made += m.snapshots_made.load();
    c.snapshots_sent += m.snapshots_sent.load();
    c.snapshots_installed += m.snapshots_installed.load();
    c.snapshots_resumed += m.snapshots_resumed.load();
    c.snapshots_installed_over_backlog += m.snapshots_installed_over_backlog.load();
    c.lease_read_batches += n->node->GetStatus().lease_read_batches;
  }
  return c;
}

}  // namespace nds::sim
