// The workloads of `nds check` besides the register one (docs/check.md "Workloads"): watch, lease
// and lock. Each runs its own client threads against the cluster while the faults of the run
// happen, then checks what it recorded with a pure analysis (watch_check.h, lease_check.h,
// lock_check.h) and reports counts and problems (WorkloadFindings).
//
// Every wait of a workload is bounded in time and count, so a run ends by itself whatever the
// cluster does: the clients stop with the run's stop flag (checked between operations, each
// bounded by the request timeout), and Finish gives up after its own deadline.
//
// WorkloadRunner: Start, Finish and Conclude on the run's main thread; RunClient on each client
// thread, concurrently.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "check/targets.h"
#include "client/client.h"
#include "util/status.h"

namespace nds::check {

enum class Workload : uint8_t {
  kRegister = 0,  // reads, writes and CAS of registers, checked for linearizability
  kWatch = 1,     // writers and watchers: every acknowledged write seen once, in order
  kLease = 2,     // keys on leases: kept-alive ones stay, expired ones never come back
  kLock = 3,      // nds::client::Lock holders with fencing revisions: never two at once
};

// "register", "watch", "lease" or "lock".
std::string_view WorkloadName(Workload workload);
// kInvalidArgument naming the flag for anything else.
Result<Workload> ParseWorkload(std::string_view text);

// What a workload found: named counts (in the order given) and problems (each an anomaly).
struct WorkloadFindings {
  std::string name;
  std::vector<std::pair<std::string, uint64_t>> counts;
  // Facts worth a line that are no anomaly (e.g. "watcher 2 ended: history compacted at 17").
  std::vector<std::string> notes;
  std::vector<std::string> problems;
  // Observations that were checked; a run that checked none is an anomaly (nothing was shown).
  uint64_t checked = 0;
};

// Problems up to a bound, then (Finish) one line counting the rest. Not thread-safe.
class ProblemList {
 public:
  ProblemList(std::vector<std::string>* out, size_t max) : out_(out), max_(max) {}
  void Add(std::string text);
  // Adds the count of the problems left out.
  void Finish();

 private:
  std::vector<std::string>* out_;
  size_t max_;
  size_t dropped_ = 0;
};

struct WorkloadContext {
  Targets* targets = nullptr;
  const std::atomic<bool>* stop = nullptr;  // set when the run's duration or budget is spent
  size_t clients = 1;
  size_t keys = 5;         // the watch workload's writers share this many keys
  size_t value_bytes = 0;  // the watch workload's values padded to at least this (0: not padded)
  uint64_t seed = 1;
  std::chrono::milliseconds request_timeout{3'000};
  std::string auth_token;
  client::ClientTlsOptions tls;
  // Keys of the run start with this (fresh for every run).
  std::string prefix;
};

class WorkloadRunner {
 public:
  virtual ~WorkloadRunner() = default;
  // Before the clients: prepares the run (e.g. the watchers' starting revision).
  virtual Status Start() = 0;
  // The work of client `index` (0 to clients-1) until the stop flag is set.
  virtual void RunClient(size_t index) = 0;
  // After the clients stopped and the cluster healed: the final steps (bounded in time).
  virtual void Finish(std::ostream& progress) = 0;
  virtual WorkloadFindings Conclude() = 0;
};

// kRegister has no runner (check_run.cc runs it itself): nullptr.
std::unique_ptr<WorkloadRunner> MakeWorkload(Workload workload, const WorkloadContext& context);

// A client of the run's current nodes, the first tried being node `first` (mod their number), with
// `attempts` attempts per idempotent call and the run's request timeout.
Result<std::unique_ptr<Client>> MakeRunClient(const WorkloadContext& context, size_t first,
                                              size_t attempts);
// The ClientOptions MakeRunClient uses (for a Lease's or Lock's keepalive connection).
Result<client::ClientOptions> RunClientOptions(const WorkloadContext& context, size_t first,
                                               size_t attempts);

// Microseconds on the steady clock (shared by every process of the machine).
uint64_t SteadyMicros();

// Sleeps `wait` in steps of at most 20 ms; returns early (false) when *stop is set.
bool SleepUnlessStopped(std::chrono::milliseconds wait, const std::atomic<bool>& stop);

}  // namespace nds::check
