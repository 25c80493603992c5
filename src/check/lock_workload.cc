// The lock workload of `nds check` (docs/check.md "Workloads"): every client, over and over, takes
// the run's lock with nds::client::Lock, reads the fenced register, writes its fencing revision
// there with a compare-and-swap, and releases the lock. lock_check.h decides.
//
// Bounds: Acquire waits at most kWaitMax (then the client tries again, or stops with the run);
// every call is bounded by the request timeout.
#include <charconv>

#include <fmt/format.h>

#include "check/lock_check.h"
#include "check/workload.h"
#include "client/lease.h"
#include "util/thread_annotations.h"

namespace nds::check {
namespace {

constexpr size_t kHoldsMax = 100'000;

class LockWorkload : public WorkloadRunner {
 public:
  explicit LockWorkload(const WorkloadContext& context)
      : context_(context),
        name_(LockName(context.prefix)),
        register_key_(context.prefix + "fenced") {}

  Status Start() override { return Status::Ok(); }

  void RunClient(size_t index) override {
    Result<client::ClientOptions> options = RunClientOptions(context_, index, 3);
    if (!options.ok()) return;
    Result<std::unique_ptr<Client>> client = Client::Create(*options);
    if (!client.ok()) return;
    client::LockOptions lock_options;
    // Much longer than a hold (two calls of at most the request timeout), so that a correct
    // lock never has two holders while their leases live.
    lock_options.ttl = std::max(std::chrono::milliseconds(5'000), 4 * context_.request_timeout);
    lock_options.wait_max = 2 * lock_options.ttl;
    while (!context_.stop->load() && holds_started_.fetch_add(1) < kHoldsMax) {
      Result<std::unique_ptr<client::Lock>> lock =
          client::Lock::Acquire(client->get(), *options, name_, lock_options);
      if (!lock.ok()) {
        acquire_failures_.fetch_add(1);
        SleepUnlessStopped(std::chrono::milliseconds(50), *context_.stop);
        // From the nodes the run has now: membership faults replace them all in time.
        if (auto fresh = RunClientOptions(context_, index, 3); fresh.ok()) {
          if (auto made = Client::Create(*fresh); made.ok()) {
            options = std::move(fresh);
            client = std::move(made);
          }
        }
        continue;
      }
      LockHold hold;
      hold.client = index;
      hold.fencing_revision = (*lock)->revision();
      hold.acquired_us = SteadyMicros();
      WriteFence(**client, hold);
      hold.lease_lost = !(*lock)->held();
      hold.releasing_us = SteadyMicros();
      IgnoreError((*lock)->Release(), "a lease not revoked expires by itself");
      MutexLock guard(mu_);
      holds_.push_back(hold);
    }
  }

  void Finish(std::ostream&) override {}

  WorkloadFindings Conclude() override {
    MutexLock guard(mu_);
    WorkloadFindings f = CheckLockHistory(holds_);
    f.counts.emplace_back("acquire_failures", acquire_failures_.load());
    return f;
  }

 private:
  static std::string LockName(const std::string& prefix) {
    // A lock name is 1 to 512 bytes; the prefix is unique to the run.
    std::string name = prefix + "lock";
    for (char& c : name) {
      if (c == '/') c = '-';
    }
    return name;
  }

  // Reads the register and writes this hold's fencing revision over what it read.
  void WriteFence(Client& client, LockHold& hold) {
    client::PutOptions put;
    Result<client::Blob> blob = client.Get(register_key_);
    if (blob.ok()) {
      uint64_t value = 0;
      auto [end, ec] =
          std::from_chars(blob->value.data(), blob->value.data() + blob->value.size(), value);
      if (ec != std::errc() || end != blob->value.data() + blob->value.size()) return;
      hold.register_read = true;
      hold.register_value = value;
      put.if_match_revision = blob->revision;
    } else if (blob.status().code() == StatusCode::kNotFound) {
      hold.register_read = true;
      put.if_none_match_star = true;
    } else {
      return;
    }
    if (hold.register_value && *hold.register_value >= hold.fencing_revision) return;
    Result<client::PutResult> written =
        client.Put(register_key_, std::to_string(hold.fencing_revision), put);
    if (written.ok()) {
      hold.write = FenceWrite::kSwapped;
    } else if (written.status().code() == StatusCode::kFailedPrecondition) {
      hold.write = FenceWrite::kMismatch;
    } else {
      hold.write = FenceWrite::kUnknown;
    }
  }

  const WorkloadContext context_;
  const std::string name_;
  const std::string register_key_;
  std::atomic<uint64_t> holds_started_{0};
  std::atomic<uint64_t> acquire_failures_{0};
  Mutex mu_;
  std::vector<LockHold> holds_ NDS_GUARDED_BY(mu_);
};

}  // namespace

std::unique_ptr<WorkloadRunner> MakeLockWorkload(const WorkloadContext& context) {
  return std::make_unique<LockWorkload>(context);
}

}  // namespace nds::check
