// One simulation run: clients, fault schedule, liveness and linearizability (see simulation.h).
#include "sim/simulation.h"

#include <algorithm>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "sim/cluster.h"
#include "sim/history.h"
#include "sim/rng.h"

namespace nds::sim {

namespace {

// One simulation run. Owns everything of the run; not thread-safe.
class Simulation {
 public:
  explicit Simulation(const SimOptions& options);
  // The nodes answer what still waits as they stop: before the clients go.
  ~Simulation() { cluster_.reset(); }
  SimResult Run();

 private:
  struct Client {
    uint64_t id = 0;
    bool busy = false;
    size_t op = 0;  // History handle of the operation in progress
    NodeId node;    // the node it was sent to
    bool to_leader = false;
    uint64_t deadline_ticks = 0;
    uint64_t sequence = 0;                                        // for unique values
    std::map<std::string, std::optional<std::string>> last_seen;  // by key, for cas
  };
  struct Swizzle {
    std::vector<NodeId> to_cut;
    std::vector<NodeId> to_heal;
    uint64_t interval_ticks = 0;
    uint64_t next_ticks = 0;
    bool active = false;
  };

  Status Step(bool faults, bool clients);
  void InjectFaults();
  void StartPartition();
  void StepSwizzle();
  void CutNode(NodeId n, bool heal);
  void ChangeMembership();
  void IssueOps();
  void Issue(Client& c);
  // The answer of the node to client `index`'s operation `op` (ignored when it timed out).
  void OnWrite(size_t index, size_t op, const store::ApplyResult& r);
  void OnReadPoint(size_t index, size_t op, const Status& s);
  void Note(const Status& s) {
    if (!s.ok() && failure_.ok()) failure_ = s;
  }
  Status CompleteTimeouts();
  Status Finish(Client& c, OpOutcome outcome, std::optional<std::string> observed = {},
                bool swapped = false);
  Status CheckLiveness();
  Status CheckHistory();
  uint64_t Now() { return ++history_time_; }
  void Trace(const std::string& line);
  template <typename T>
  T Pick(const std::vector<T>& v) {
    return v[rng_.Below(v.size())];
  }

  SimOptions options_;
  FaultMix faults_;
  Rng rng_;         // faults
  Rng client_rng_;  // clients
  std::deque<std::string> trace_;
  std::unique_ptr<Cluster> cluster_;
  History history_;
  uint64_t history_time_ = 0;
  std::vector<Client> clients_;
  Status failure_;  // the first error found inside a node's answer
  Swizzle swizzle_;
  SimResult result_;
};

Simulation::Simulation(const SimOptions& options)
    : options_(options),
      faults_(options.faults ? *options.faults : FaultMix::FromSeed(options.seed)),
      rng_(options.seed),
      client_rng_(rng_.Fork()) {
  if (!options.member_changes) faults_.membership_per_million = 0;
  // The founding members join in a calm world (Run turns the faults on after Bootstrap).
  NetworkOptions net;
  ClusterOptions co;
  co.lease_reads = options.seed % 2 == 1;  // half the seeds read from the lease
  // Half the seeds (across both read kinds) let the engine lag behind the Raft loop.
  co.apply_lag_per_million = options.seed / 2 % 2 == 1 ? 20'000 : 0;
  co.break_fsync = options.break_fsync;
  co.clock_skip_per_million = faults_.clock_skip_per_million;
  if (options.snapshot_chunk_bytes > 0) co.snapshot_chunk_bytes = options.snapshot_chunk_bytes;
  if (options.history_revisions > 0) co.history_revisions = options.history_revisions;
  cluster_ = std::make_unique<Cluster>(co, net, rng_.Fork(),
                                       [this](const std::string& line) { Trace(line); });
  for (int i = 0; i < options.clients; ++i) {
    Client c;
    c.id = static_cast<uint64_t>(i) + 1;
    clients_.push_back(std::move(c));
  }
  result_.faults = faults_;
}

void Simulation::Trace(const std::string& line) {
  if (options_.trace_all) {
    std::fprintf(stderr, "%s\n", line.c_str());
    return;  // already printed: keep no tail
  }
  trace_.push_back(line);
  while (trace_.size() > options_.trace_tail_lines) trace_.pop_front();
}

SimResult Simulation::Run() {
  Status s = cluster_->Bootstrap(options_.nodes);
  NetworkOptions net;
  net.drop_per_million = faults_.drop_per_million;
  net.duplicate_per_million = faults_.duplicate_per_million;
  net.long_delay_per_million = faults_.long_delay_per_million;
  cluster_->network().SetOptions(net);
  cluster_->SetDiskFaults(faults_.disk_failure_per_million, faults_.disk_full_per_million);
  for (uint64_t i = 0; s.ok() && i < options_.steps; ++i) s = Step(true, true);
  if (s.ok()) s = CheckLiveness();
  if (s.ok()) s = CheckHistory();
  result_.ticks = cluster_->now_ticks();
  result_.lease_held_ticks = cluster_->lease_held_ticks();
  const NetworkStats& ns = cluster_->network().stats();
  result_.messages_sent = ns.sent;
  result_.messages_dropped = ns.dropped_random + ns.dropped_cut + ns.dropped_overflow;
  result_.terms = 0;
  for (NodeId id : cluster_->RunningNodes()) {
    result_.terms = std::max(result_.terms, cluster_->NodeStatus(id).term);
  }
  result_.counters = cluster_->counters();
  if (!s.ok()) {
    result_.ok = false;
    result_.failure = fmt::format("seed {} failed at tick {}: {}\nreplay: {}", options_.seed,
                                  cluster_->now_ticks(), s.message(), ReplayCommand(options_));
  }
  for (const std::string& line : trace_) result_.trace_tail += line + "\n";
  return result_;
}

Status Simulation::Step(bool faults, bool clients) {
  if (faults) InjectFaults();
  if (clients) IssueOps();
  NDS_RETURN_IF_ERROR(cluster_->Tick());
  NDS_RETURN_IF_ERROR(failure_);
  return CompleteTimeouts();
}

// ---------------------------------------------------------------------------------------------
// Faults.

void Simulation::InjectFaults() {
  std::vector<NodeId> running = cluster_->RunningNodes();
  if (!running.empty() && rng_.Chance(faults_.crash_per_million)) {
    cluster_->Crash(Pick(running));
  }
  for (NodeId id : cluster_->CrashedNodes()) {
    if (rng_.Chance(faults_.restart_per_million)) {
      Status s = cluster_->Restart(id);
      if (!s.ok()) Trace(fmt::format("restart of node {} failed: {}", id, s.ToString()));
    }
  }
  if (rng_.Chance(faults_.partition_per_million)) StartPartition();
  if (!swizzle_.active && rng_.Chance(faults_.swizzle_per_million)) {
    std::vector<NodeId> all = cluster_->AllNodes();
    for (size_t i = all.size(); i > 1; --i) std::swap(all[i - 1], all[rng_.Below(i)]);
    all.resize(1 + rng_.Below(all.size()));
    swizzle_.to_cut = all;
    swizzle_.to_heal.clear();
    swizzle_.interval_ticks = rng_.Between(2, 15);
    swizzle_.next_ticks = cluster_->now_ticks();
    swizzle_.active = true;
    ++result_.swizzles;
    Trace(fmt::format("swizzle-clogging {} nodes every {} ticks", all.size(),
                      swizzle_.interval_ticks));
  }
  StepSwizzle();
  if (rng_.Chance(faults_.heal_per_million)) {
    cluster_->network().HealAll();
    Trace("network healed");
  }
  if (rng_.Chance(faults_.membership_per_million)) ChangeMembership();
  if (rng_.Chance(faults_.transfer_per_million)) {
    std::optional<NodeId> leader = cluster_->Leader();
    if (leader) {
      std::vector<NodeId> voters;
      for (const node::MemberInfo& m : cluster_->Members(*leader)) {
        if (m.voter && m.id != leader->value) voters.push_back(NodeId(m.id));
      }
      if (!voters.empty()) cluster_->TransferLeadership(*leader, Pick(voters));
    }
  }
}

void Simulation::CutNode(NodeId n, bool heal) {
  for (NodeId other : cluster_->AllNodes()) {
    if (other == n) continue;
    if (heal) {
      cluster_->network().Heal(n, other);
      cluster_->network().Heal(other, n);
    } else {
      cluster_->network().Cut(n, other);
      cluster_->network().Cut(other, n);
    }
  }
}

void Simulation::StartPartition() {
  std::vector<NodeId> all = cluster_->AllNodes();
  if (all.size() < 2) return;
  ++result_.partitions;
  Network& net = cluster_->network();
  switch (rng_.Below(3)) {
    case 0: {  // symmetric split into two sides
      std::vector<NodeId> side;
      std::string names;
      for (NodeId n : all) {
        if (rng_.Below(2) == 0) {
          side.push_back(n);
          names += fmt::format(" {}", n);
        }
      }
      for (NodeId a : side) {
        for (NodeId b : all) {
          if (std::find(side.begin(), side.end(), b) != side.end()) continue;
          net.Cut(a, b);
          net.Cut(b, a);
        }
      }
      Trace(fmt::format("partition: {{{} }} | rest", names));
      break;
    }
    case 1: {  // one-way: a random node can send but not receive, or the reverse
      NodeId n = Pick(all);
      bool deaf = rng_.Below(2) == 0;
      for (NodeId other : all) {
        if (other == n) continue;
        if (deaf) {
          net.Cut(other, n);
        } else {
          net.Cut(n, other);
        }
      }
      Trace(fmt::format("one-way partition: node {} {}", n, deaf ? "hears nobody" : "is mute"));
      break;
    }
    default: {
      NodeId a = Pick(all);
      NodeId b = Pick(all);
      if (a != b) net.Cut(a, b);
      Trace(fmt::format("link {}->{} cut", a, b));
      break;
    }
  }
}

void Simulation::StepSwizzle() {
  if (!swizzle_.active || cluster_->now_ticks() < swizzle_.next_ticks) return;
  swizzle_.next_ticks = cluster_->now_ticks() + swizzle_.interval_ticks;
  if (!swizzle_.to_cut.empty()) {
    NodeId n = swizzle_.to_cut.back();
    swizzle_.to_cut.pop_back();
    CutNode(n, /*heal=*/false);
    swizzle_.to_heal.push_back(n);
    Trace(fmt::format("swizzle: clog node {}", n));
    if (swizzle_.to_cut.empty()) {
      // Heal in a random order, unrelated to the order of clogging.
      std::vector<NodeId>& h = swizzle_.to_heal;
      for (size_t i = h.size(); i > 1; --i) std::swap(h[i - 1], h[rng_.Below(i)]);
    }
    return;
  }
  if (!swizzle_.to_heal.empty()) {
    NodeId n = swizzle_.to_heal.back();
    swizzle_.to_heal.pop_back();
    CutNode(n, /*heal=*/true);
    Trace(fmt::format("swizzle: unclog node {}", n));
  }
  if (swizzle_.to_heal.empty()) swizzle_.active = false;
}

void Simulation::ChangeMembership() {
  std::optional<NodeId> leader = cluster_->Leader();
  if (!leader) return;
  std::vector<node::MemberInfo> members = cluster_->Members(*leader);
  size_t voters = 0;
  for (const node::MemberInfo& m : members) voters += m.voter ? 1 : 0;
  if (rng_.Below(2) == 0) {
    // A new member: the leader adds it as a learner and promotes it once it has caught up
    // (up to voters_max voters; beyond, it stays a learner).
    if (cluster_->AllNodes().size() >= static_cast<size_t>(options_.nodes_max)) return;
    cluster_->Join();
    return;
  }
  // Remove a learner, or a voter (the leader too) while more than 3 remain.
  std::vector<NodeId> candidates;
  for (const node::MemberInfo& m : members) {
    if (!m.voter || voters > 3) candidates.push_back(NodeId(m.id));
  }
  if (!candidates.empty()) cluster_->Remove(Pick(candidates));
}

// ---------------------------------------------------------------------------------------------
// Clients.

void Simulation::IssueOps() {
  for (Client& c : clients_) {
    if (!c.busy && client_rng_.Below(100) < 30) Issue(c);
  }
}

void Simulation::Issue(Client& c) {
  std::vector<NodeId> all = cluster_->AllNodes();
  if (all.empty()) return;
  std::optional<NodeId> leader = cluster_->Leader();
  NodeId node =
      leader && client_rng_.Below(100) < 70 ? *leader : all[client_rng_.Below(all.size())];
  Operation op;
  op.client_id = c.id;
  op.key = fmt::format("k{}", client_rng_.Below(static_cast<uint64_t>(options_.keys)));
  op.kind = client_rng_.Below(10) < 5 ? OpKind::kRead : OpKind::kWrite;
  if (op.kind != OpKind::kRead) op.value = fmt::format("c{}.{}", c.id, ++c.sequence);
  Result<size_t> handle = history_.Invoke(op, Now());
  if (!handle.ok()) return;  // the history is full: issue no more
  c.busy = true;
  c.op = *handle;
  c.node = node;
  c.to_leader = leader && node == *leader;
  c.deadline_ticks = cluster_->now_ticks() + options_.client_timeout_ticks;
  ++result_.ops;
  const size_t index = static_cast<size_t>(&c - clients_.data());
  const size_t h = c.op;
  Trace(fmt::format("client {} -> node {}: op {} {}", c.id, node, c.op,
                    DescribeOperation(history_.ops()[c.op])));
  if (op.kind == OpKind::kRead && options_.break_read_index) {
    if (!cluster_->IsRunning(node)) {
      IgnoreError(Finish(c, OpOutcome::kFailed), "a fresh handle completes");
    } else {
      Note(Finish(c, OpOutcome::kOk, cluster_->ReadValue(node, op.key)));
    }
  } else if (op.kind == OpKind::kRead) {
    cluster_->WaitForReadPoint(node,
                               [this, index, h](const Status& s) { OnReadPoint(index, h, s); });
  } else {
    cluster_->Submit(node, store::PutCommand(op.key, *op.value),
                     [this, index, h](const store::ApplyResult& r) { OnWrite(index, h, r); });
  }
}

void Simulation::OnWrite(size_t index, size_t op, const store::ApplyResult& r) {
  Client& c = clients_[index];
  if (!c.busy || c.op != op) return;  // timed out already
  Trace(
      fmt::format("client {} <- node {}: op {} {}", c.id, c.node, op,
                  r.status.ok() ? fmt::format("applied at {}", r.revision) : r.status.ToString()));
  if (r.status.ok()) {
    if (!c.to_leader) ++result_.forwarded_writes;
    Note(Finish(c, OpOutcome::kOk));
    return;
  }
  // Refused or timed out: it may still commit (a timeout, a lost quorum, a crash).
  Note(Finish(c, OpOutcome::kIndeterminate));
}

void Simulation::OnReadPoint(size_t index, size_t op, const Status& s) {
  Client& c = clients_[index];
  if (!c.busy || c.op != op) return;
  if (!s.ok()) {
    Trace(fmt::format("client {} <- node {}: op {} {}", c.id, c.node, op, s.ToString()));
    Note(Finish(c, OpOutcome::kFailed));
    return;
  }
  // What api/ does once the read point is reached: read the engine.
  std::optional<std::string> value = cluster_->ReadValue(c.node, history_.ops()[op].key);
  Trace(
      fmt::format("client {} <- node {}: op {} read {}", c.id, c.node, op, value ? *value : "nil"));
  Note(Finish(c, OpOutcome::kOk, std::move(value)));
}

Status Simulation::Finish(Client& c, OpOutcome outcome, std::optional<std::string> observed,
                          bool swapped) {
  const Operation& op = history_.ops()[c.op];
  c.busy = false;
  switch (outcome) {
    case OpOutcome::kOk:
      ++result_.ops_ok;
      if (op.kind == OpKind::kRead) {
        c.last_seen[op.key] = observed;
        ++result_.reads_ok;
      }
      if (op.kind == OpKind::kWrite || (op.kind == OpKind::kCas && swapped)) {
        c.last_seen[op.key] = op.value;
      }
      return history_.CompleteOk(c.op, Now(), std::move(observed), swapped);
    case OpOutcome::kFailed:
      ++result_.ops_failed;
      return history_.CompleteFailed(c.op, Now());
    default:
      ++result_.ops_indeterminate;
      return history_.CompleteIndeterminate(c.op, Now());
  }
}

Status Simulation::CompleteTimeouts() {
  for (Client& c : clients_) {
    if (c.busy && cluster_->now_ticks() >= c.deadline_ticks) {
      Trace(fmt::format("client {}: op {} timed out", c.id, c.op));
      NDS_RETURN_IF_ERROR(Finish(c, OpOutcome::kIndeterminate));
    }
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// The end of a run.

Status Simulation::CheckLiveness() {
  NetworkOptions calm;
  cluster_->network().SetOptions(calm);
  cluster_->network().HealAll();
  cluster_->SetDiskFaults(0, 0);
  cluster_->SetClockSkip(0);
  swizzle_.active = false;
  for (NodeId id : cluster_->CrashedNodes()) NDS_RETURN_IF_ERROR(cluster_->Restart(id));
  Trace("faults stop: network healed, every node restarted");
  uint64_t start = cluster_->now_ticks();
  uint64_t deadline = start + options_.liveness_ticks_max;
  // Let the clients' last operations finish or time out.
  while (cluster_->now_ticks() < start + options_.client_timeout_ticks + 1) {
    NDS_RETURN_IF_ERROR(Step(false, false));
  }
  // A probe write through the leader, retried until it is applied on every member.
  constexpr uint64_t kProbeRetryTicks = 20;
  // Shared with the probe's answer, which may come after this function returned.
  struct Probe {
    uint64_t index = 0;
    bool waiting = false;
  };
  auto probe = std::make_shared<Probe>();
  uint64_t& probe_index = probe->index;
  uint64_t last_try = 0;
  while (cluster_->now_ticks() < deadline) {
    std::optional<NodeId> leader = cluster_->Leader();
    if (probe_index == 0 && leader &&
        (!probe->waiting || cluster_->now_ticks() - last_try >= kProbeRetryTicks)) {
      probe->waiting = true;
      last_try = cluster_->now_ticks();
      cluster_->Submit(*leader, store::PutCommand("probe", "live"),
                       [probe](const store::ApplyResult& r) {
                         probe->waiting = false;
                         if (r.status.ok() && probe->index == 0) probe->index = r.revision;
                       });
    }
    NDS_RETURN_IF_ERROR(Step(false, false));
    if (probe_index == 0 || !leader || !cluster_->IsRunning(*leader)) continue;
    std::vector<node::MemberInfo> members = cluster_->Members(*leader);
    bool all = true;
    for (const node::MemberInfo& m : members) {
      if (!cluster_->IsRunning(NodeId(m.id)) ||
          cluster_->NodeStatus(NodeId(m.id)).applied_index < probe_index) {
        all = false;
      }
    }
    if (!all) continue;
    // Every member holds the same data, and a read of each key after every acknowledged write
    // must see the last of them (the history checks it: no acknowledged write is lost).
    for (int k = 0; k < options_.keys; ++k) {
      const std::string key = fmt::format("k{}", k);
      const std::optional<std::string> value = cluster_->ReadValue(*leader, key);
      for (const node::MemberInfo& m : members) {
        if (cluster_->ReadValue(NodeId(m.id), key) != value) {
          return Corruption(
              fmt::format("member {} and leader {} disagree on {}", m.id, *leader, key));
        }
      }
      Operation op;
      op.client_id = 1'000'000;
      op.kind = OpKind::kRead;
      op.key = key;
      Result<size_t> h = history_.Invoke(op, Now());
      if (h.ok()) NDS_RETURN_IF_ERROR(history_.CompleteOk(*h, Now(), value));
    }
    Trace(fmt::format("live: probe applied at {} on all {} members within {} ticks", probe_index,
                      members.size(), cluster_->now_ticks() - start));
    return Status::Ok();
  }
  std::optional<NodeId> leader = cluster_->Leader();
  return Corruption(fmt::format(
      "liveness: {} ticks after the faults stopped, {}", options_.liveness_ticks_max,
      !leader ? std::string("there is no leader")
      : probe_index == 0
          ? fmt::format("leader {} has not committed a write", *leader)
          : fmt::format("the write at {} is not applied on every member", probe_index)));
}

Status Simulation::CheckHistory() {
  Result<CheckResult> r = CheckLinearizable(history_.ops(), options_.check);
  if (!r.ok()) return Corruption(fmt::format("history: {}", r.status().ToString()));
  result_.linearizability = r->verdict;
  result_.check_steps = r->steps;
  if (r->verdict == Verdict::kViolation) {
    return Corruption(fmt::format("the client history is not linearizable: {}", r->explanation));
  }
  if (r->verdict == Verdict::kUnknown) Trace(r->explanation);
  return Status::Ok();
}

}  // namespace

SimResult RunSimulation(const SimOptions& options) {
  // The nodes log through spdlog like production ones; a run shows its own trace instead.
  spdlog::set_level(options.node_logs ? spdlog::level::debug : spdlog::level::off);
  Simulation sim(options);
  return sim.Run();
}

}  // namespace nds::sim
