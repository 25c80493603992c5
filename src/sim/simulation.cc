// One simulation run: clients, fault schedule, liveness and linearizability (see simulation.h).
#include "sim/simulation.h"

#include <algorithm>
#include <cstdio>
#include <deque>
#include <map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "sim/cluster.h"
#include "sim/history.h"
#include "sim/rng.h"

namespace nds::sim {

FaultMix FaultMix::FromSeed(uint64_t seed) {
  Rng rng(seed ^ 0x5eed'f4a1'7000'0001ULL);
  auto pick = [&rng](uint64_t low, uint64_t high) -> uint64_t {
    switch (rng.Below(3)) {
      case 0:
        return 0;
      case 1:
        return low;
      default:
        return high;
    }
  };
  FaultMix f;
  f.drop_per_million = pick(10'000, 100'000);
  f.duplicate_per_million = pick(10'000, 50'000);
  f.long_delay_per_million = pick(5'000, 50'000);
  f.crash_per_million = pick(2'000, 10'000);
  f.restart_per_million = 20'000 + rng.Below(50'000);
  f.partition_per_million = pick(3'000, 10'000);
  f.swizzle_per_million = pick(1'000, 4'000);
  f.heal_per_million = 10'000 + rng.Below(20'000);
  f.membership_per_million = pick(3'000, 10'000);
  f.transfer_per_million = pick(2'000, 8'000);
  f.crash_before_sync_per_million = pick(1'000, 5'000);
  f.disk_failure_per_million = pick(500, 2'000);
  f.clock_skip_per_million = pick(20'000, 80'000);  // up to 8% drift
  return f;
}

std::string FaultMix::Describe() const {
  return fmt::format(
      "drop={} dup={} long_delay={} crash={} restart={} partition={} swizzle={} heal={} "
      "membership={} transfer={} crash_before_sync={} disk_failure={} clock_skip={} (per "
      "million)",
      drop_per_million, duplicate_per_million, long_delay_per_million, crash_per_million,
      restart_per_million, partition_per_million, swizzle_per_million, heal_per_million,
      membership_per_million, transfer_per_million, crash_before_sync_per_million,
      disk_failure_per_million, clock_skip_per_million);
}

std::string SimResult::Summary() const {
  return fmt::format(
      "{} ticks={} ops={} (ok {}, reads {}, failed {}, indeterminate {}) lease_ticks={} crashes={} "
      "restarts={} partitions={} swizzles={} conf_changes={} max_term={} msgs={} dropped={} lin={} "
      "check_steps={}",
      ok ? "ok" : "FAILED", ticks, ops, ops_ok, reads_ok, ops_failed, ops_indeterminate,
      lease_held_ticks, crashes, restarts, partitions, swizzles, conf_changes, terms, messages_sent,
      messages_dropped, VerdictName(linearizability), check_steps);
}

std::string ReplayCommand(const SimOptions& o) {
  return fmt::format("nds-sim --seed={} --steps={} --nodes={} --clients={} --keys={}{}", o.seed,
                     o.steps, o.nodes, o.clients, o.keys,
                     std::string(o.term_vote_before_entries ? "" : " --entries-before-term-vote") +
                         (o.break_read_index ? " --break-read-index" : "") +
                         (o.break_fsync ? " --break-fsync" : ""));
}

namespace {

// One simulation run. Owns everything of the run; not thread-safe.
class Simulation {
 public:
  explicit Simulation(const SimOptions& options);
  SimResult Run();

 private:
  struct Client {
    uint64_t id = 0;
    bool busy = false;
    size_t op = 0;  // History handle of the operation in progress
    NodeId node;    // the node it was sent to
    uint64_t deadline_ticks = 0;
    bool lost = false;  // the node crashed: no answer will come
    bool read_point_known = false;
    LogIndex read_index;
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
  Status ProcessEvents();
  Status CompleteReadsAndTimeouts();
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
  std::map<uint64_t, size_t> waiting_write_;    // op handle -> client index
  std::map<std::string, size_t> waiting_read_;  // read context -> client index
  std::map<uint64_t, LogIndex> acked_;          // op handle -> index it was applied at
  Swizzle swizzle_;
  SimResult result_;
};

Simulation::Simulation(const SimOptions& options)
    : options_(options),
      faults_(options.faults ? *options.faults : FaultMix::FromSeed(options.seed)),
      rng_(options.seed),
      client_rng_(rng_.Fork()) {
  NetworkOptions net;
  net.drop_per_million = faults_.drop_per_million;
  net.duplicate_per_million = faults_.duplicate_per_million;
  net.long_delay_per_million = faults_.long_delay_per_million;
  ClusterOptions co;
  co.crash_before_sync_per_million = faults_.crash_before_sync_per_million;
  co.disk_failure_per_million = faults_.disk_failure_per_million;
  co.term_vote_before_entries = options.term_vote_before_entries;
  co.break_fsync = options.break_fsync;
  co.clock_skip_per_million = faults_.clock_skip_per_million;
  cluster_ = std::make_unique<Cluster>(co, net, rng_.Fork(),
                                       [this](const std::string& line) { Trace(line); });
  for (int i = 0; i < options.clients; ++i) {
    Client c;
    c.id = static_cast<uint64_t>(i + 1);
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
    result_.terms = std::max(result_.terms, cluster_->NodeStatus(id).term.value);
  }
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
  NDS_RETURN_IF_ERROR(ProcessEvents());
  return CompleteReadsAndTimeouts();
}

// ---------------------------------------------------------------------------------------------
// Faults.

void Simulation::InjectFaults() {
  std::vector<NodeId> running = cluster_->RunningNodes();
  if (!running.empty() && rng_.Chance(faults_.crash_per_million)) {
    cluster_->Crash(Pick(running));
    ++result_.crashes;
  }
  for (NodeId id : cluster_->CrashedNodes()) {
    if (rng_.Chance(faults_.restart_per_million)) {
      Status s = cluster_->Restart(id);
      if (!s.ok()) Trace(fmt::format("restart of node {} failed: {}", id, s.ToString()));
      ++result_.restarts;
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
      std::vector<NodeId> voters = cluster_->NodeStatus(*leader).conf_state.voters;
      if (!voters.empty()) {
        IgnoreError(cluster_->TransferLeadership(*leader, Pick(voters)),
                    "a refused transfer is a legal outcome");
      }
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
  raft::ConfState cs = cluster_->NodeStatus(*leader).conf_state;
  switch (rng_.Below(3)) {
    case 0: {
      if (cluster_->AllNodes().size() >= static_cast<size_t>(options_.nodes_max)) return;
      NodeId fresh = cluster_->AddNode();
      Status s = cluster_->ProposeConfChange(
          *leader, raft::ConfChange{raft::ConfChangeType::kAddLearner, fresh});
      if (!s.ok()) cluster_->Stop(fresh);  // nobody will ever add it
      break;
    }
    case 1: {
      if (cs.learners.empty() || cs.voters.size() >= static_cast<size_t>(options_.voters_max)) {
        return;
      }
      IgnoreError(
          cluster_->ProposeConfChange(
              *leader, raft::ConfChange{raft::ConfChangeType::kAddVoter, Pick(cs.learners)}),
          "a refused change is a legal outcome");
      break;
    }
    default: {
      std::vector<NodeId> candidates = cs.learners;
      if (cs.voters.size() > 3)
        candidates.insert(candidates.end(), cs.voters.begin(), cs.voters.end());
      if (candidates.empty()) return;
      IgnoreError(
          cluster_->ProposeConfChange(
              *leader, raft::ConfChange{raft::ConfChangeType::kRemoveNode, Pick(candidates)}),
          "a refused change is a legal outcome");
      break;
    }
  }
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
  uint64_t kind = client_rng_.Below(10);
  op.kind = kind < 4 ? OpKind::kRead : kind < 8 ? OpKind::kWrite : OpKind::kCas;
  if (op.kind != OpKind::kRead) op.value = fmt::format("c{}.{}", c.id, ++c.sequence);
  if (op.kind == OpKind::kCas) {
    auto it = c.last_seen.find(op.key);
    if (it != c.last_seen.end() && client_rng_.Below(4) != 0) op.expected = it->second;
  }
  Result<size_t> handle = history_.Invoke(op, Now());
  if (!handle.ok()) return;  // the history is full: issue no more
  c.busy = true;
  c.op = *handle;
  c.node = node;
  c.deadline_ticks = cluster_->now_ticks() + options_.client_timeout_ticks;
  c.lost = false;
  c.read_point_known = false;
  ++result_.ops;
  size_t index = static_cast<size_t>(&c - clients_.data());
  Status s;
  if (op.kind == OpKind::kRead && options_.break_read_index) {
    if (!cluster_->IsRunning(node)) {
      s = Unavailable("node down");
    } else {
      s = Finish(c, OpOutcome::kOk, cluster_->Read(node, op.key));
      IgnoreError(s, "a fresh handle completes");
      return;
    }
  } else if (op.kind == OpKind::kRead) {
    std::string context = fmt::format("r{}", c.op);
    s = cluster_->ReadIndex(node, context);
    if (s.ok()) waiting_read_[context] = index;
  } else {
    KvCommand cmd{c.op, op.kind, op.key, op.value, op.expected};
    s = cluster_->Propose(node, cmd);
    if (s.ok()) waiting_write_[c.op] = index;
  }
  Trace(fmt::format("client {} -> node {}: op {} {} = {}", c.id, node, c.op,
                    DescribeOperation(history_.ops()[c.op]), s.ToString()));
  if (!s.ok()) IgnoreError(Finish(c, OpOutcome::kFailed), "a fresh handle completes");
}

Status Simulation::Finish(Client& c, OpOutcome outcome, std::optional<std::string> observed,
                          bool swapped) {
  const Operation& op = history_.ops()[c.op];
  waiting_write_.erase(c.op);
  waiting_read_.erase(fmt::format("r{}", c.op));
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

Status Simulation::ProcessEvents() {
  for (ClusterEvent& ev : cluster_->TakeEvents()) {
    switch (ev.kind) {
      case ClusterEvent::Kind::kApplied: {
        auto it = waiting_write_.find(ev.command.op_id);
        if (it == waiting_write_.end()) break;
        Client& c = clients_[it->second];
        if (c.lost || c.node != ev.node) break;
        acked_[c.op] = ev.index;
        bool swapped = ev.command.kind == OpKind::kCas && ev.cas_swapped;
        Trace(fmt::format(
            "client {} <- node {}: op {} applied at {}{}", c.id, ev.node, c.op, ev.index,
            ev.command.kind == OpKind::kCas ? (swapped ? " (swapped)" : " (mismatch)") : ""));
        NDS_RETURN_IF_ERROR(Finish(c, OpOutcome::kOk, std::nullopt, swapped));
        break;
      }
      case ClusterEvent::Kind::kReadState: {
        auto it = waiting_read_.find(ev.context);
        if (it == waiting_read_.end()) break;
        Client& c = clients_[it->second];
        if (c.lost || c.node != ev.node) break;
        c.read_point_known = true;
        c.read_index = ev.index;
        break;
      }
      case ClusterEvent::Kind::kCrashed:
        for (Client& c : clients_) {
          if (c.busy && c.node == ev.node) c.lost = true;
        }
        break;
      case ClusterEvent::Kind::kConfChangeApplied:
        if (ev.conf_change.type == raft::ConfChangeType::kRemoveNode) {
          // Committed: the operator may now shut the removed node down.
          cluster_->Stop(ev.conf_change.node);
        }
        ++result_.conf_changes;
        break;
    }
  }
  return Status::Ok();
}

Status Simulation::CompleteReadsAndTimeouts() {
  for (Client& c : clients_) {
    if (!c.busy) continue;
    if (!c.lost && c.read_point_known && cluster_->IsRunning(c.node) &&
        cluster_->Applied(c.node) >= c.read_index) {
      const Operation& op = history_.ops()[c.op];
      std::optional<std::string> value = cluster_->Read(c.node, op.key);
      Trace(fmt::format("client {} <- node {}: op {} read at {} = {}", c.id, c.node, c.op,
                        c.read_index, value ? *value : "nil"));
      NDS_RETURN_IF_ERROR(Finish(c, OpOutcome::kOk, std::move(value)));
      continue;
    }
    if (cluster_->now_ticks() >= c.deadline_ticks) {
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
  // A probe write through the leader, retried until it is applied on every member. Its op ids
  // lie above any History handle (History holds at most kDefaultOpsMax operations).
  constexpr uint64_t kProbeRetryTicks = 20;
  static_assert(History::kDefaultOpsMax < 1'000'000'000);
  std::string probe_key = "probe";
  uint64_t attempt = 0;
  std::optional<NodeId> proposed_at;
  LogIndex probe_index;
  while (cluster_->now_ticks() < deadline) {
    if (!proposed_at || !cluster_->IsRunning(*proposed_at) ||
        cluster_->now_ticks() % kProbeRetryTicks == 0) {
      std::optional<NodeId> leader = cluster_->Leader();
      if (leader) {
        KvCommand cmd{1'000'000'000 + attempt++, OpKind::kWrite, probe_key, "live", {}};
        if (cluster_->Propose(*leader, cmd).ok()) proposed_at = leader;
      }
    }
    NDS_RETURN_IF_ERROR(cluster_->Tick());
    for (ClusterEvent& ev : cluster_->TakeEvents()) {
      if (ev.kind == ClusterEvent::Kind::kApplied && ev.command.key == probe_key &&
          probe_index.value == 0) {
        probe_index = ev.index;
      }
      if (ev.kind == ClusterEvent::Kind::kConfChangeApplied &&
          ev.conf_change.type == raft::ConfChangeType::kRemoveNode) {
        cluster_->Stop(ev.conf_change.node);
      }
    }
    if (probe_index.value == 0) continue;
    std::optional<NodeId> leader = cluster_->Leader();
    if (!leader) continue;
    raft::ConfState cs = cluster_->NodeStatus(*leader).conf_state;
    std::vector<NodeId> members = cs.voters;
    members.insert(members.end(), cs.learners.begin(), cs.learners.end());
    bool all = true;
    for (NodeId m : members) {
      if (!cluster_->IsRunning(m) || cluster_->Applied(m) < probe_index) all = false;
    }
    if (!all) continue;
    // No acknowledged write may be missing: every member applied past each of them, and the
    // checker saw every node apply the same entry at each index.
    for (const auto& [op, index] : acked_) {
      if (index > cluster_->checker().applied_max()) {
        return Corruption(fmt::format("acknowledged op {} at index {} was lost", op, index));
      }
    }
    Trace(fmt::format("live: probe applied at {} on all {} members within {} ticks", probe_index,
                      members.size(), cluster_->now_ticks() - start));
    return Status::Ok();
  }
  std::optional<NodeId> leader = cluster_->Leader();
  return Corruption(fmt::format(
      "liveness: {} ticks after the faults stopped, {}", options_.liveness_ticks_max,
      !leader ? std::string("there is no leader")
      : probe_index.value == 0
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
  Simulation sim(options);
  return sim.Run();
}

}  // namespace nds::sim
