// Faults on a local cluster, one at a time (see fault_injector.h).
#include "check/fault_injector.h"

#include <algorithm>
#include <limits>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "client/client.h"

namespace nds::check {
namespace {

constexpr size_t kNone = std::numeric_limits<size_t>::max();
// Membership faults add a node each; past this many the kind is skipped (bounded cluster size).
constexpr size_t kNodesAddedMax = 8;
constexpr std::chrono::milliseconds kAdminTimeout{5'000};
// A flapping partition switches every tenth of --fault-interval, but not faster than this.
constexpr std::chrono::milliseconds kFlapPeriodMin{100};

// Sleeps until `deadline`, waking every 10 ms to see whether `done` is set.
void SleepUntil(std::chrono::steady_clock::time_point deadline, const std::atomic<bool>& done) {
  while (!done.load() && std::chrono::steady_clock::now() < deadline) {
    auto step = std::min<std::chrono::steady_clock::duration>(
        deadline - std::chrono::steady_clock::now(), std::chrono::milliseconds(10));
    std::this_thread::sleep_for(step);
  }
}

// The node's own id from its GET /status.
Result<uint64_t> NodeIdOf(launcher::NodeProcess& node) {
  NDS_ASSIGN_OR_RETURN(client::HttpReply reply, node.Get("/status", kAdminTimeout));
  nlohmann::json status = nlohmann::json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  if (reply.status != 200 || !status.is_object() || !status.contains("id") ||
      !status["id"].is_number_unsigned()) {
    return IoError(
        fmt::format("{}: GET /status answered {} without an id", node.spec().name, reply.status));
  }
  return status["id"].get<uint64_t>();
}

// DELETE /cluster/members/{id} through the node at `address` (any member forwards it).
Status RemoveMember(const std::string& address, uint64_t id) {
  client::ClientOptions options;
  NDS_ASSIGN_OR_RETURN(options.servers, client::ParseServerList(address));
  options.request_timeout = kAdminTimeout;
  options.attempts_max = 1;
  NDS_ASSIGN_OR_RETURN(std::unique_ptr<Client> c, Client::Create(std::move(options)));
  NDS_ASSIGN_OR_RETURN(client::HttpReply reply,
                       c->Raw("DELETE", fmt::format("/cluster/members/{}", id)));
  if (reply.status != 204 && reply.status != 200) {
    return Unavailable(fmt::format("DELETE /cluster/members/{} answered {}: {}", id, reply.status,
                                   reply.body.substr(0, 200)));
  }
  return Status::Ok();
}

}  // namespace

FaultInjector::FaultInjector(launcher::LocalCluster* cluster, Targets* targets, RolePoller* poller,
                             const Recorder* clock, std::vector<FaultKind> kinds,
                             std::chrono::milliseconds interval, uint64_t seed,
                             launcher::NetnsNetwork* net)
    : cluster_(cluster),
      net_(net),
      targets_(targets),
      poller_(poller),
      clock_(clock),
      kinds_(std::move(kinds)),
      interval_(interval),
      rng_(seed ^ 0xfa017ULL) {}

void FaultInjector::Run(std::chrono::steady_clock::time_point until,
                        const std::atomic<bool>& done) {
  if (kinds_.empty()) return;
  while (!done.load() && std::chrono::steady_clock::now() < until) {
    auto start = std::chrono::steady_clock::now();
    FaultEvent event;
    event.time_us = clock_->NowMicros();
    event.kind = kinds_[rng_() % kinds_.size()];
    size_t node = Inject(event.kind, event);
    events_.push_back(event);
    Hold(std::min(start + interval_ / 2, until), done);
    if (node != kNone) events_.back().healed = Heal(event.kind, node);
    SleepUntil(std::min(start + interval_, until), done);
  }
}

size_t FaultInjector::Inject(FaultKind kind, FaultEvent& event) {
  if (kind == FaultKind::kMember) return InjectMember(event);
  size_t node = kNone;
  if (kind == FaultKind::kLeader) {
    // Right after another fault there may be no leader yet: wait for one, a quarter interval.
    Result<size_t> goose = cluster_->WaitForGoose(interval_ / 4);
    if (goose.ok() && !removed_.count(*goose)) node = *goose;
    if (node == kNone) {
      event.detail = "skipped: no node answers goose (" + goose.status().ToString() + ")";
      return kNone;
    }
  } else {
    node = PickNode(kNone);
    if (node == kNone) {
      event.detail = "skipped: no running node";
      return kNone;
    }
  }
  event.node = cluster_->node(node).spec().name;
  Status s;
  switch (kind) {
    case FaultKind::kKill:
    case FaultKind::kLeader:
      s = cluster_->Kill(node);
      event.detail = "SIGKILL";
      break;
    case FaultKind::kRestart:
      s = cluster_->Terminate(node);
      event.detail = "SIGTERM";
      break;
    case FaultKind::kPause:
      cluster_->Pause(node);
      event.detail = "SIGSTOP";
      break;
    case FaultKind::kPartition:
      if (net_ == nullptr) {
        event.detail = "skipped: the nodes do not run in network namespaces";
        return kNone;
      }
      s = InjectPartition(node, event);
      if (!s.ok()) {
        // A cut that failed halfway is undone at once; the run reports it.
        problems_.push_back(fmt::format("partition of {} failed: {}", event.node, s.ToString()));
        event.detail += ": " + s.ToString();
        flapping_ = kNone;
        event.healed = HealPartition();
        return kNone;
      }
      break;
    case FaultKind::kMember:
      break;
  }
  if (!s.ok()) event.detail += ": " + s.ToString();
  event.injected = true;  // even a failed stop: the node is restarted below if it exited
  return node;
}

size_t FaultInjector::InjectMember(FaultEvent& event) {
  if (ActiveNodes() < 3 || nodes_added_ >= kNodesAddedMax) {
    event.detail = "skipped: needs three running nodes (and at most 8 additions a run)";
    return kNone;
  }
  Result<std::optional<size_t>> goose = cluster_->Goose();
  if (!goose.ok() || !*goose) {
    event.detail = "skipped: no node answers goose";
    return kNone;
  }
  size_t victim = PickNode(**goose);
  if (victim == kNone) {
    event.detail = "skipped: no node but the goose";
    return kNone;
  }
  launcher::NodeProcess& node = cluster_->node(victim);
  event.node = node.spec().name;
  Result<uint64_t> id = NodeIdOf(node);
  Status s = id.ok() ? RemoveMember(cluster_->node(**goose).api_address(), *id) : id.status();
  if (!s.ok()) {
    event.detail = "removal refused: " + s.ToString();
    return kNone;
  }
  targets_->Remove(node.api_address());
  poller_->Unwatch(node.api_address());
  IgnoreError(cluster_->Terminate(victim), "a removed member is stopped; its exit does not matter");
  removed_.insert(victim);
  cluster_->MarkRemoved(victim);
  event.detail = fmt::format("removed member {} and stopped it", *id);
  event.injected = true;
  return victim;
}

bool FaultInjector::Heal(FaultKind kind, size_t node) {
  switch (kind) {
    case FaultKind::kPause:
      cluster_->Resume(node);
      return true;
    case FaultKind::kPartition:
      return HealPartition();
    case FaultKind::kMember: {
      ++nodes_added_;
      Result<size_t> added = cluster_->AddNode();
      if (!added.ok()) {
        problems_.push_back("a new node could not join: " + added.status().ToString());
        return false;
      }
      targets_->Add(cluster_->node(*added).api_address());
      poller_->Watch(cluster_->node(*added).api_address());
      events_.back().detail += fmt::format("; added {}", cluster_->node(*added).spec().name);
      return true;
    }
    case FaultKind::kKill:
    case FaultKind::kRestart:
    case FaultKind::kLeader:
      return RestartOrReport(node);
  }
  return false;
}

Status FaultInjector::InjectPartition(size_t node, FaultEvent& event) {
  switch (rng_() % 3) {
    case 0:
      event.detail = "cut off from every other node, both ways";
      return net_->Isolate(node);
    case 1:
      // TCP needs both ways, so no new connection forms; on an established one the node still
      // receives what its peers send, but they never see its acknowledgements or answers.
      event.detail = "one way: its packets to every other node dropped";
      for (size_t other = 0; other < cluster_->size(); ++other) {
        if (other != node && !removed_.count(other)) NDS_RETURN_IF_ERROR(net_->Block(node, other));
      }
      return Status::Ok();
    default:
      flapping_ = node;
      flaps_ = 0;
      event.detail = fmt::format("flapping: cut off both ways and reconnected every {} ms",
                                 FlapPeriod().count());
      return net_->Isolate(node);
  }
}

std::chrono::milliseconds FaultInjector::FlapPeriod() const {
  return std::max(interval_ / 10, kFlapPeriodMin);
}

void FaultInjector::Hold(std::chrono::steady_clock::time_point deadline,
                         const std::atomic<bool>& done) {
  while (flapping_ != kNone && !done.load()) {
    auto next = std::chrono::steady_clock::now() + FlapPeriod();
    if (next >= deadline) break;
    SleepUntil(next, done);
    Status s = net_->cut() ? net_->HealAll() : net_->Isolate(flapping_);
    if (!s.ok()) {
      problems_.push_back("a flapping partition could not be switched: " + s.ToString());
      break;
    }
    ++flaps_;
  }
  SleepUntil(deadline, done);
  if (flapping_ != kNone) {
    events_.back().detail += fmt::format("; switched {} times", flaps_);
    flapping_ = kNone;
  }
}

bool FaultInjector::HealPartition() {
  Status s = net_->HealAll();
  if (!s.ok()) problems_.push_back("a partition could not be healed: " + s.ToString());
  return s.ok();
}

void FaultInjector::HealAll(std::chrono::milliseconds timeout) {
  if (net_ != nullptr && net_->cut()) HealPartition();
  for (size_t i = 0; i < cluster_->size(); ++i) {
    if (removed_.count(i)) continue;
    if (cluster_->node(i).paused()) cluster_->Resume(i);
    if (!cluster_->node(i).Running()) RestartOrReport(i);
  }
  Status ready = cluster_->WaitReady(timeout);
  if (!ready.ok())
    problems_.push_back("the cluster is not ready after healing: " + ready.ToString());
}

size_t FaultInjector::PickNode(size_t except) {
  std::vector<size_t> candidates;
  for (size_t i = 0; i < cluster_->size(); ++i) {
    if (i == except || removed_.count(i)) continue;
    if (cluster_->node(i).Running() && !cluster_->node(i).paused()) candidates.push_back(i);
  }
  if (candidates.empty()) return kNone;
  return candidates[rng_() % candidates.size()];
}

size_t FaultInjector::ActiveNodes() {
  size_t n = 0;
  for (size_t i = 0; i < cluster_->size(); ++i) {
    if (!removed_.count(i) && cluster_->node(i).Running()) ++n;
  }
  return n;
}

bool FaultInjector::RestartOrReport(size_t node) {
  if (cluster_->node(node).Running()) {
    // A SIGTERM that timed out left it running: stop it for good before the restart.
    IgnoreError(cluster_->Kill(node), "the restart below reports what matters");
  }
  Status s = cluster_->Restart(node);
  if (!s.ok()) {
    problems_.push_back(
        fmt::format("{} did not restart: {}", cluster_->node(node).spec().name, s.ToString()));
  }
  return s.ok();
}

}  // namespace nds::check
