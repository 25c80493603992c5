// The client threads of `nds check` (see client_worker.h).
#include "check/client_worker.h"

#include <thread>
#include <utility>

#include <fmt/format.h>

namespace nds::check {
namespace {

// The operation mix, in percent: reads, then writes, the rest compare-and-swaps.
constexpr uint32_t kReadPercent = 50;
constexpr uint32_t kWritePercent = 25;
// After an answer that leaves a write's effect open (a 503 while the cluster has no quorum comes
// back at once), a client waits this long before its next operation: without it, a client spins
// through hundreds of indeterminate writes per second, which makes the checker's search explode.
constexpr std::chrono::milliseconds kPauseAfterIndeterminate{50};

}  // namespace

ClientWorker::ClientWorker(uint64_t client_id, uint64_t seed, const WorkerShared& shared)
    : client_id_(client_id),
      rng_(seed ^ (client_id * 0x9e3779b97f4a7c15ULL)),
      shared_(shared),
      ops_(RegisterOps::Make(RegisterOpsOptions{shared.protocol, shared.request_timeout,
                                                shared.auth_token, shared.tls,
                                                shared.resp_addresses})) {}

void ClientWorker::Run() {
  while (!shared_.stop->load() && !history_full_) {
    uint64_t left = shared_.ops_left->load();
    do {
      if (left == 0) return;
    } while (!shared_.ops_left->compare_exchange_weak(left, left - 1));
    std::vector<std::string> addresses = shared_.targets->Get();
    if (addresses.empty()) return;
    const std::string& address = addresses[rng_() % addresses.size()];
    const std::string& key = (*shared_.keys)[rng_() % shared_.keys->size()];
    uint32_t dice = static_cast<uint32_t>(rng_() % 100);
    auto seen = seen_.find(key);
    if (dice < kReadPercent || (dice >= kReadPercent + kWritePercent && seen == seen_.end())) {
      ReadFrom(key, address);
    } else {
      bool cas = dice >= kReadPercent + kWritePercent && ops_->CanCas(seen->second);
      if (Update(key, address, cas ? &seen->second : nullptr) == sim::OpOutcome::kIndeterminate &&
          !shared_.stop->load()) {
        std::this_thread::sleep_for(kPauseAfterIndeterminate);
      }
    }
  }
}

sim::OpOutcome ClientWorker::ReadFrom(const std::string& key, const std::string& address) {
  sim::Operation op;
  op.client_id = client_id_;
  op.kind = sim::OpKind::kRead;
  op.key = key;
  Result<size_t> handle = shared_.recorder->Invoke(std::move(op));
  if (!handle.ok()) {
    history_full_ = true;
    return sim::OpOutcome::kFailed;
  }
  ReadVerdict v = ops_->Read(address, key);
  // The checker drops a read that is not ok, failed or indeterminate alike.
  if (v.outcome == sim::OpOutcome::kFailed) {
    shared_.recorder->CompleteFailed(*handle);
    return v.outcome;
  }
  if (v.outcome != sim::OpOutcome::kOk) {
    shared_.recorder->CompleteIndeterminate(*handle);
    return v.outcome;
  }
  shared_.recorder->CompleteOk(*handle, v.value);
  seen_[key] = Seen{v.value, v.revision};
  return v.outcome;
}

sim::OpOutcome ClientWorker::Update(const std::string& key, const std::string& address,
                                    const Seen* seen) {
  sim::Operation op;
  op.client_id = client_id_;
  op.kind = seen != nullptr ? sim::OpKind::kCas : sim::OpKind::kWrite;
  op.key = key;
  if (seen != nullptr) op.expected = seen->value;
  op.value = fmt::format("c{}-{}", client_id_, next_value_++);
  std::string value = *op.value;
  Result<size_t> handle = shared_.recorder->Invoke(std::move(op));
  if (!handle.ok()) {
    history_full_ = true;
    return sim::OpOutcome::kFailed;
  }
  WriteVerdict verdict =
      seen != nullptr ? ops_->Cas(address, key, value, *seen) : ops_->Write(address, key, value);
  if (verdict.outcome == sim::OpOutcome::kOk) {
    shared_.recorder->CompleteOk(*handle, std::nullopt, verdict.cas_swapped);
  } else if (verdict.outcome == sim::OpOutcome::kFailed) {
    shared_.recorder->CompleteFailed(*handle);
  } else {
    shared_.recorder->CompleteIndeterminate(*handle);
  }
  return verdict.outcome;
}

}  // namespace nds::check
