// The lease keeper's thread (lease_keeper.h).
#include "api/lease_keeper.h"

#include <spdlog/spdlog.h>

#include "store/lease_state.h"

namespace nds::api {

LeaseKeeper::LeaseKeeper(node::Node* node, LeaseKeeperOptions options)
    : node_(node),
      options_(options),
      state_(std::make_shared<State>(options.expiries_in_flight_max)) {}

LeaseKeeper::~LeaseKeeper() {
  {
    std::lock_guard lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LeaseKeeper::Start() {
  thread_ = std::thread([this] { Run(); });
}

void LeaseKeeper::Run() {
  std::unique_lock lock(stop_mu_);
  while (!stop_cv_.wait_for(lock, options_.check_interval, [this] { return stopping_; })) {
    lock.unlock();
    CheckOnce();
    lock.lock();
  }
}

void LeaseKeeper::CheckOnce() {
  // Status first, then the engine: a node that leads in this term has applied at least what the
  // previous leader committed by the time it serves, and a stale view only delays expiries.
  node::NodeStatus status = node_->GetStatus();
  if (status.role == node::Role::kRemoved) return;
  auto view = node_->engine().NewView();
  auto leases = store::ReadLeases(*view);
  if (!leases.ok()) {
    spdlog::warn("lease keeper: cannot read the leases: {}", leases.status().ToString());
    return;
  }
  std::vector<LeaseClocks::Expiry> due;
  {
    std::lock_guard lock(state_->mu);
    due = state_->clocks.Observe(status.role == node::Role::kLeader, status.term,
                                 LeaseClocks::Clock::now(), *leases);
  }
  for (const LeaseClocks::Expiry& e : due) {
    node_->Submit(store::LeaseExpireCommand(e.id, e.keepalive_index),
                  [state = state_, id = e.id](store::ApplyResult r) {
                    if (r.status.ok()) {
                      spdlog::debug("lease {} expired at revision {}", id, r.revision);
                      return;
                    }
                    std::lock_guard lock(state->mu);
                    state->clocks.Settled(id);
                  });
  }
}

std::optional<std::chrono::milliseconds> LeaseKeeper::Remaining(uint64_t id) const {
  std::lock_guard lock(state_->mu);
  return state_->clocks.Remaining(id, LeaseClocks::Clock::now());
}

}  // namespace nds::api
