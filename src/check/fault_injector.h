// The faults of `nds check` on a local cluster that it started itself (launcher/local_cluster.h):
// one fault at a time, each healed before the next, every --fault-interval. A fault is injected
// at the start of its interval and healed halfway through it, so at most one node is down or
// paused at any time and a cluster of three keeps a quorum between the faults.
//
// Kinds (check_options.h FaultKind): kill (SIGKILL + restart), restart (SIGTERM + restart), pause
// (SIGSTOP + SIGCONT), leader (SIGKILL the goose + restart), member (remove a node that is not the
// goose from the configuration and stop it, then add a new node: needs three nodes or more),
// partition (cut a node off from every other node with blackhole routes between network
// namespaces, then remove the cut: needs the cluster to run in a launcher::NetnsNetwork, so root;
// one of three shapes at random: both ways, one way (the node's packets to the others dropped),
// or flapping (cut both ways and reconnected every tenth of the interval until the heal)). The
// checker's clients and role poller still reach a cut-off node.
//
// A node that does not come back (a restart that fails, a new node that cannot join) is a
// problem: the run reports it as an anomaly.
//
// Not thread-safe: the run's main thread drives it (and with it the LocalCluster).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "check/check_options.h"
#include "check/recorder.h"
#include "check/role_poller.h"
#include "check/targets.h"
#include "launcher/local_cluster.h"
#include "launcher/netns.h"
#include "util/status.h"

namespace nds::check {

struct FaultEvent {
  uint64_t time_us = 0;  // on the run's clock, when it was injected
  FaultKind kind = FaultKind::kKill;
  std::string node;    // the node's name ("node2")
  std::string detail;  // what was done, or why it was skipped
  bool injected = false;
  bool healed = false;  // undone at the end of its half interval (or by HealAll)
};

class FaultInjector {
 public:
  // Every pointer must outlive the injector. `net` is the network the cluster's nodes run in
  // (nullptr when they share ours: then partition faults are skipped).
  FaultInjector(launcher::LocalCluster* cluster, Targets* targets, RolePoller* poller,
                const Recorder* clock, std::vector<FaultKind> kinds,
                std::chrono::milliseconds interval, uint64_t seed,
                launcher::NetnsNetwork* net = nullptr);

  // Injects and heals faults until `until` or until *done is set (checked at least every 10 ms).
  void Run(std::chrono::steady_clock::time_point until, const std::atomic<bool>& done);

  // Resumes every paused node and restarts every stopped one (not those removed by a membership
  // fault), then waits until every node is ready. Problems are added to problems().
  void HealAll(std::chrono::milliseconds timeout);

  const std::vector<FaultEvent>& events() const { return events_; }
  // Nodes that did not come back, one line each.
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  // Injects one fault of `kind`; returns the node to heal (SIZE_MAX when nothing needs healing).
  size_t Inject(FaultKind kind, FaultEvent& event);
  // Undoes the fault; false when it could not (the problem is in problems()).
  bool Heal(FaultKind kind, size_t node);
  size_t InjectMember(FaultEvent& event);
  // A random node that runs and was not removed, other than `except`; SIZE_MAX when none.
  size_t PickNode(size_t except);
  size_t ActiveNodes();
  bool RestartOrReport(size_t node);
  // Cuts `node` off in one of the three shapes, said in event.detail.
  Status InjectPartition(size_t node, FaultEvent& event);
  bool HealPartition();
  std::chrono::milliseconds FlapPeriod() const;
  // Sleeps until `deadline` (or *done), switching a flapping partition every FlapPeriod().
  void Hold(std::chrono::steady_clock::time_point deadline, const std::atomic<bool>& done);

  launcher::LocalCluster* cluster_;
  launcher::NetnsNetwork* net_;
  Targets* targets_;
  RolePoller* poller_;
  const Recorder* clock_;
  std::vector<FaultKind> kinds_;
  std::chrono::milliseconds interval_;
  std::mt19937_64 rng_;
  std::set<size_t> removed_;  // indexes of nodes taken out of the cluster by a membership fault
  size_t nodes_added_ = 0;
  size_t flapping_ = SIZE_MAX;  // the node of a flapping partition, SIZE_MAX when none
  size_t flaps_ = 0;
  std::vector<FaultEvent> events_;
  std::vector<std::string> problems_;
};

}  // namespace nds::check
