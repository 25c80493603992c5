// The lease workload of `nds check` (docs/check.md "Workloads"): each client, over and over,
// grants a lease, puts a key on it, keeps it alive for a while reading the key between
// keepalives, then stops the keepalives, waits until the lease is seen gone (GET /leases/{id}
// answers 404) and reads the key on every node. lease_check.h decides.
//
// Bounds: each call is bounded by the request timeout; the wait for an expiry by kExpiryWaitMax
// past the TTL (a lease not seen to expire is counted, and checked no further); every loop looks
// at the run's stop flag.

#include <fmt/format.h>

#include "check/lease_check.h"
#include "check/workload.h"
#include "client/lease.h"
#include "util/thread_annotations.h"

namespace nds::check {
namespace {

constexpr std::chrono::milliseconds kTtl{2'000};
constexpr std::chrono::milliseconds kKeepFor{2'500};  // longer than the TTL
constexpr std::chrono::milliseconds kReadEvery{100};
constexpr std::chrono::milliseconds kExpiryWaitMax{10'000};
constexpr std::chrono::milliseconds kExpiryPoll{100};
constexpr size_t kCyclesMax = 100'000;

ProbeResult ResultOf(const Status& status) {
  if (status.ok()) return ProbeResult::kPresent;
  return status.code() == StatusCode::kNotFound ? ProbeResult::kGone : ProbeResult::kUnknown;
}

class LeaseWorkload : public WorkloadRunner {
 public:
  explicit LeaseWorkload(const WorkloadContext& context) : context_(context) {}

  Status Start() override { return Status::Ok(); }

  void RunClient(size_t index) override {
    Result<std::unique_ptr<Client>> client = MakeRunClient(context_, index, 3);
    if (!client.ok()) return;
    for (uint64_t n = 0; !context_.stop->load() && cycles_started_.fetch_add(1) < kCyclesMax; ++n) {
      LeaseCycle cycle;
      cycle.key = fmt::format("{}lease/c{}-{}", context_.prefix, index, n);
      cycle.ttl_us = std::chrono::microseconds(kTtl).count();
      cycle.granted_invoked_us = SteadyMicros();
      Result<uint64_t> lease = client::GrantLease(client->get(), kTtl);
      if (!lease.ok()) {
        SleepUnlessStopped(kReadEvery, *context_.stop);
        // From the nodes the run has now: membership faults replace them all in time.
        if (auto fresh = MakeRunClient(context_, index, 3); fresh.ok()) client = std::move(fresh);
        continue;
      }
      cycle.lease = *lease;
      if (!client::PutWithLease(client->get(), cycle.key, "v", *lease).ok()) continue;
      KeepAlive(**client, cycle);
      if (!context_.stop->load()) AwaitExpiry(**client, cycle);
      if (cycle.expiry_seen_us != 0) ReadEverywhere(index, cycle);
      MutexLock lock(mu_);
      cycles_.push_back(std::move(cycle));
    }
  }

  void Finish(std::ostream&) override {}

  WorkloadFindings Conclude() override {
    MutexLock lock(mu_);
    return CheckLeaseHistory(cycles_);
  }

 private:
  LeaseProbe Probe(ProbeKind kind, const std::function<Status()>& call) {
    LeaseProbe p;
    p.kind = kind;
    p.invoked_us = SteadyMicros();
    Status status = call();
    p.completed_us = SteadyMicros();
    p.result = ResultOf(status);
    return p;
  }

  // Keepalives every quarter TTL and reads in between, for kKeepFor (or until the run stops).
  void KeepAlive(Client& client, LeaseCycle& cycle) {
    auto until = std::chrono::steady_clock::now() + kKeepFor;
    auto next_keepalive = std::chrono::steady_clock::now() + kTtl / 4;
    while (std::chrono::steady_clock::now() < until && !context_.stop->load()) {
      if (std::chrono::steady_clock::now() >= next_keepalive) {
        next_keepalive = std::chrono::steady_clock::now() + kTtl / 4;
        cycle.kept.push_back(Probe(ProbeKind::kKeepAlive, [&] {
          return client::KeepAliveLease(&client, cycle.lease).status();
        }));
      }
      cycle.kept.push_back(Probe(ProbeKind::kRead, [&] { return client.Get(cycle.key).status(); }));
      SleepUnlessStopped(kReadEvery, *context_.stop);
    }
  }

  // Polls GET /leases/{id} until it answers 404 (sets expiry_seen_us) or kExpiryWaitMax passes.
  void AwaitExpiry(Client& client, LeaseCycle& cycle) {
    auto until = std::chrono::steady_clock::now() + kTtl + kExpiryWaitMax;
    while (std::chrono::steady_clock::now() < until) {
      Result<client::LeaseInfo> info = client::ShowLease(&client, cycle.lease);
      if (!info.ok() && info.status().code() == StatusCode::kNotFound) {
        cycle.expiry_seen_us = SteadyMicros();
        return;
      }
      std::this_thread::sleep_for(kExpiryPoll);
    }
  }

  // One read of the key starting at each node.
  void ReadEverywhere(size_t index, LeaseCycle& cycle) {
    size_t nodes = context_.targets->Get().size();
    for (size_t i = 0; i < nodes; ++i) {
      Result<std::unique_ptr<Client>> reader = MakeRunClient(context_, index + i, 1);
      if (!reader.ok()) continue;
      cycle.after_expiry.push_back(
          Probe(ProbeKind::kRead, [&] { return (*reader)->Get(cycle.key).status(); }));
    }
  }

  const WorkloadContext context_;
  std::atomic<uint64_t> cycles_started_{0};
  Mutex mu_;
  std::vector<LeaseCycle> cycles_ NDS_GUARDED_BY(mu_);
};

}  // namespace

std::unique_ptr<WorkloadRunner> MakeLeaseWorkload(const WorkloadContext& context) {
  return std::make_unique<LeaseWorkload>(context);
}

}  // namespace nds::check
