// The `nds check` run (see check_run.h).
#include "check/check_run.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <stdlib.h>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "check/analysis.h"
#include "check/client_worker.h"
#include "check/fault_injector.h"
#include "check/recorder.h"
#include "check/role_poller.h"
#include "check/targets.h"
#include "check/workload.h"
#include "launcher/local_cluster.h"
#include "launcher/netns.h"
#include "net/loopback_port.h"

namespace nds::check {
namespace {

constexpr std::chrono::seconds kReadyTimeout{30};
// A final read of a key is tried on every node, each node up to this many times.
constexpr size_t kFinalReadAttempts = 5;
constexpr std::chrono::milliseconds kFinalReadRetryDelay{200};
// Room in the history for the final reads beyond the clients' kOpsMax.
constexpr size_t kHistoryOpsMax = kOpsMax + kKeysMax * 64 * kFinalReadAttempts;

struct LocalSetup {
  std::string dir;
  // With partition faults, the namespaces the nodes run in; destroyed after the cluster.
  std::unique_ptr<launcher::NetnsNetwork> net;
  std::unique_ptr<launcher::LocalCluster> cluster;
  std::vector<std::string> resp_addresses;  // --protocol resp: node i's --resp address
};

Result<LocalSetup> StartLocalCluster(const CheckOptions& options, std::ostream& progress) {
  std::string pattern = (std::filesystem::temp_directory_path() / "nds-check-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return IoError(fmt::format("cannot make a temporary directory like {}", pattern));
  }
  LocalSetup setup;
  setup.dir = pattern;
  launcher::LocalClusterOptions cluster_options;
  if (std::find(options.faults.begin(), options.faults.end(), FaultKind::kPartition) !=
      options.faults.end()) {
    Result<std::unique_ptr<launcher::NetnsNetwork>> net =
        launcher::NetnsNetwork::Create(setup.dir + "/netns.log");
    if (!net.ok()) {
      std::error_code ec;
      std::filesystem::remove_all(setup.dir, ec);
      return FailedPrecondition(
          "--faults partition runs each node in a network namespace of its "
          "own, which cannot be done here: " +
          net.status().message());
    }
    setup.net = std::move(*net);
    cluster_options.netns = setup.net.get();
  }
  cluster_options.binary = options.binary;
  cluster_options.base_dir = setup.dir;
  cluster_options.nodes = options.local_nodes;
  cluster_options.extra_args = options.node_args;
  // TLS and auth pass through: with --cacert the nodes' --tls-* (in --node-arg) are trusted; with
  // --node-arg --auth the cluster's root token is the one in --token-file.
  cluster_options.https_ca_file = options.tls.ca_file;
  const bool auth = std::find(options.node_args.begin(), options.node_args.end(), "--auth") !=
                    options.node_args.end();
  if (auth && !options.token_file.empty()) {
    cluster_options.node_args = {{"--root-token-file", options.token_file}};
  }
  // The launcher's probes send NDS_AUTH_TOKEN (launcher/node_process.h).
  if (auth && !options.auth_token.empty())
    ::setenv("NDS_AUTH_TOKEN", options.auth_token.c_str(), 1);
  if (options.protocol == Protocol::kResp) {
    // Each node its own RESP listener, kept across restarts (node_args[i] is node i's).
    cluster_options.node_args.resize(options.local_nodes);
    for (size_t i = 0; i < options.local_nodes; ++i) {
      uint16_t port = net::FreePort();
      if (port == 0) return Unavailable("no free port on 127.0.0.1 for a RESP listener");
      setup.resp_addresses.push_back(fmt::format("127.0.0.1:{}", port));
      cluster_options.node_args[i].insert(cluster_options.node_args[i].end(),
                                          {"--resp", setup.resp_addresses.back()});
    }
  }
  progress << fmt::format("nds check: starting a local cluster of {} nodes in {}\n",
                          options.local_nodes, setup.dir)
           << std::flush;
  setup.cluster = std::make_unique<launcher::LocalCluster>(std::move(cluster_options));
  NDS_RETURN_IF_ERROR(setup.cluster->Start());
  return setup;
}

// Fresh keys for every run, so that a run against an existing cluster sees none of the values of
// earlier runs (each key starts as an empty register).
std::string MakePrefix(uint64_t seed) {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return fmt::format("check/{:x}-{:x}/", seed,
                     std::chrono::duration_cast<std::chrono::microseconds>(now).count());
}

std::vector<std::string> MakeKeys(size_t n, const std::string& prefix) {
  std::vector<std::string> keys;
  for (size_t i = 0; i < n; ++i) keys.push_back(fmt::format("{}k{}", prefix, i));
  return keys;
}

// Waits until `deadline`, or until `done` is set (checked every 10 ms).
void WaitUntil(std::chrono::steady_clock::time_point deadline, const std::atomic<bool>& done) {
  while (!done.load() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// Reads every key on every node (retrying a node a few times); a key that no node could read is
// a problem: its acknowledged writes cannot be vouched for.
void FinalReads(ClientWorker& reader, const std::vector<std::string>& keys,
                const std::vector<std::string>& addresses, std::vector<std::string>& problems) {
  for (const std::string& key : keys) {
    bool read_once = false;
    for (const std::string& address : addresses) {
      for (size_t attempt = 0; attempt < kFinalReadAttempts; ++attempt) {
        if (reader.ReadFrom(key, address) == sim::OpOutcome::kOk) {
          read_once = true;
          break;
        }
        std::this_thread::sleep_for(kFinalReadRetryDelay);
      }
    }
    if (!read_once) problems.push_back(fmt::format("no node could read key '{}' at the end", key));
  }
}

RolePollerOptions PollerOptions(const CheckOptions& options) {
  RolePollerOptions o;
  o.tls = options.tls;
  return o;
}

// The pieces of one run, alive from the cluster's start to the report. Main thread only.
class CheckRun {
 public:
  CheckRun(const CheckOptions& options, std::ostream& progress)
      : options_(options),
        progress_(progress),
        recorder_(kHistoryOpsMax),
        targets_({}),
        poller_(&recorder_, PollerOptions(options)),
        prefix_(MakePrefix(options.seed)),
        keys_(MakeKeys(options.keys, prefix_)),
        ops_left_(options.ops.value_or(kOpsMax)),
        clients_running_(options.clients) {}

  Status Start();
  // Runs the clients (and the faults) until the duration or the operation budget is spent.
  void Drive();
  // Heals the cluster and reads every key on every node.
  void Finish();
  Result<CheckReport> Conclude();

 private:
  WorkerShared Shared() {
    return {&recorder_,
            &targets_,
            &keys_,
            &stop_,
            &ops_left_,
            options_.request_timeout,
            options_.auth_token,
            options_.tls,
            options_.protocol,
            &resp_addresses_};
  }

  const CheckOptions& options_;
  std::ostream& progress_;
  LocalSetup local_;
  Recorder recorder_;
  Targets targets_;
  RolePoller poller_;
  std::string prefix_;  // of every key of the run
  std::vector<std::string> keys_;
  std::unique_ptr<WorkloadRunner> workload_;  // a workload other than register
  // --protocol resp: each node's RESP address by its API address; fixed once the run starts.
  std::map<std::string, std::string> resp_addresses_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> clients_done_{false};
  std::atomic<uint64_t> ops_left_;
  std::atomic<size_t> clients_running_;
  std::unique_ptr<FaultInjector> faults_;
  CheckReport report_;
};

Status CheckRun::Start() {
  std::vector<std::string> addresses = options_.servers;
  if (options_.local_nodes > 0) {
    NDS_ASSIGN_OR_RETURN(local_, StartLocalCluster(options_, progress_));
    addresses = local_.cluster->ApiAddresses();
    for (size_t i = 0; i < local_.resp_addresses.size() && i < addresses.size(); ++i) {
      resp_addresses_[addresses[i]] = local_.resp_addresses[i];
    }
  }
  for (size_t i = 0; i < options_.resp_servers.size() && i < options_.servers.size(); ++i) {
    resp_addresses_[options_.servers[i]] = options_.resp_servers[i];
  }
  report_.cluster = options_.local_nodes > 0
                        ? fmt::format("local cluster of {} nodes", options_.local_nodes)
                        : fmt::format("servers {}", fmt::join(options_.servers, ","));
  if (options_.protocol != Protocol::kHttp) {
    report_.cluster += fmt::format(", over {}", ProtocolName(options_.protocol));
  }
  report_.clients = options_.clients;
  report_.keys = options_.keys;
  report_.seed = options_.seed;
  for (const std::string& a : addresses) {
    targets_.Add(a);
    poller_.Watch(a);
  }
  if (options_.workload != Workload::kRegister) {
    report_.cluster += fmt::format(", workload {}", WorkloadName(options_.workload));
    WorkloadContext context;
    context.targets = &targets_;
    context.stop = &stop_;
    context.clients = options_.clients;
    context.keys = options_.keys;
    context.value_bytes = options_.value_bytes;
    context.seed = options_.seed;
    context.request_timeout = options_.request_timeout;
    context.auth_token = options_.auth_token;
    context.tls = options_.tls;
    context.prefix = prefix_;
    workload_ = MakeWorkload(options_.workload, context);
    NDS_RETURN_IF_ERROR(workload_->Start());
  }
  return Status::Ok();
}

void CheckRun::Drive() {
  progress_ << fmt::format("nds check: {} clients on {} keys, seed {}\n", options_.clients,
                           options_.keys, options_.seed)
            << std::flush;
  auto start = std::chrono::steady_clock::now();
  // Without --duration, --ops ends the run (a day is only a backstop).
  auto deadline = start + options_.duration.value_or(std::chrono::hours(24));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < options_.clients; ++i) {
    threads.emplace_back([this, i] {
      if (workload_) {
        workload_->RunClient(i);
      } else {
        ClientWorker(i, options_.seed, Shared()).Run();
      }
      if (clients_running_.fetch_sub(1) == 1) clients_done_.store(true);
    });
  }
  if (local_.cluster && !options_.faults.empty()) {
    faults_ = std::make_unique<FaultInjector>(local_.cluster.get(), &targets_, &poller_, &recorder_,
                                              options_.faults, options_.fault_interval,
                                              options_.seed, local_.net.get());
    faults_->Run(deadline, clients_done_);
  }
  WaitUntil(deadline, clients_done_);
  stop_.store(true);
  for (std::thread& t : threads) t.join();
  report_.elapsed_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void CheckRun::Finish() {
  if (faults_) {
    faults_->HealAll(kReadyTimeout);
    report_.faults = faults_->events();
    report_.problems = faults_->problems();
  } else if (local_.cluster) {
    Status ready = local_.cluster->WaitReady(kReadyTimeout);
    if (!ready.ok()) report_.problems.push_back("the cluster is not ready: " + ready.ToString());
  }
  if (workload_) {
    workload_->Finish(progress_);
  } else {
    ClientWorker reader(options_.clients, options_.seed, Shared());
    FinalReads(reader, keys_, targets_.Get(), report_.problems);
  }
  poller_.Stop();
}

Result<CheckReport> CheckRun::Conclude() {
  if (workload_) {
    report_.workload = workload_->Conclude();
  } else {
    std::vector<sim::Operation> ops = recorder_.Snapshot();
    progress_ << fmt::format("nds check: checking {} operations\n", ops.size()) << std::flush;
    report_.counts = CountOps(ops);
    NDS_ASSIGN_OR_RETURN(report_.linearizability, CheckHistory(ops));
  }
  report_.two_geese = FindTwoGeese(poller_.GooseSamples());
  report_.role_answers = poller_.answers();
  report_.role_failures = poller_.failures();
  if (!options_.history_path.empty()) {
    std::ofstream out(options_.history_path, std::ios::trunc);
    out << recorder_.ToText();
    if (!out) return IoError(fmt::format("cannot write the history to {}", options_.history_path));
    report_.history_path = options_.history_path;
  }
  if (local_.cluster) {
    local_.cluster->StopAll();
    if (report_.HasAnomaly()) {
      report_.cluster += fmt::format(" (data and logs kept in {})", local_.dir);
    } else {
      std::error_code ec;
      std::filesystem::remove_all(local_.dir, ec);
    }
  }
  return report_;
}

}  // namespace

Result<CheckReport> RunCheck(const CheckOptions& options, std::ostream& progress) {
  CheckRun run(options, progress);
  NDS_RETURN_IF_ERROR(run.Start());
  run.Drive();
  run.Finish();
  return run.Conclude();
}

}  // namespace nds::check
