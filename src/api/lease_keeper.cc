// The lease keeper's thread (lease_keeper.h).
#include "api/lease_keeper.h"

#include <spdlog/spdlog.h>

#include "store/lease_state.h"
#include "util/thread_name.h"

namespace nds::api {

LeaseKeeper::LeaseKeeper(node::Node* node, LeaseKeeperOptions options)
    : node_(node),
      options_(options),
      state_(std::make_shared<State>(options.expiries_in_flight_max)) {}

LeaseKeeper::~LeaseKeeper() { Stop(); }

void LeaseKeeper::Stop() {
  {
    std::lock_guard lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void LeaseKeeper::Start() {
  thread_ = std::thread([this] {
    NameThisThread("nds-leases");
    Run();
  });
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
  std::vector<LeaseClocks::Expiry> due;
  {
    std::lock_guard lock(state_->mu);
    const auto now = LeaseClocks::Clock::now();
    if (!Sync(*state_, *node_, now)) return;
    due = state_->clocks.Decide(status.role == node::Role::kLeader, status.term, now);
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

bool LeaseKeeper::Sync(State& state, const node::Node& node, LeaseClocks::Clock::time_point now) {
  auto taken = node.lease_feed().Take(node.engine());
  if (!taken.ok()) {
    spdlog::warn("lease keeper: cannot read the leases: {}", taken.status().ToString());
    return false;
  }
  if (taken->all) {
    state.clocks.Reset(taken->leases, now);
    return true;
  }
  for (const store::LeaseSummary& lease : taken->leases) state.clocks.Set(lease, now);
  for (uint64_t id : taken->gone) state.clocks.Remove(id);
  return true;
}

void LeaseKeeper::KeepAlive(std::vector<uint64_t> ids, KeptInMemory done) {
  bool stopped = false;
  {
    std::lock_guard lock(stop_mu_);
    stopped = stopping_;
  }
  const node::NodeStatus status = node_->GetStatus();
  if (stopped || status.role != node::Role::kLeader) {
    return done(std::vector<uint64_t>(ids.size(), 0));
  }
  node_->WaitForReadPoint([node = node_, state = state_, term = status.term, ids = std::move(ids),
                           done = std::move(done)](const Status& read) {
    std::vector<uint64_t> ttls(ids.size(), 0);
    // Still the leader of the term the read point confirmed: no other node led in between.
    const node::NodeStatus now_status = node->GetStatus();
    if (read.ok() && now_status.role == node::Role::kLeader && now_status.term == term) {
      std::lock_guard lock(state->mu);
      const auto now = LeaseClocks::Clock::now();
      // The read point applied every entry before it: a lease revoked or expired by one of them
      // is gone from the clocks once they are synced.
      if (Sync(*state, *node, now)) {
        for (size_t i = 0; i < ids.size(); ++i) {
          ttls[i] = state->clocks.KeepAlive(ids[i], term, now).value_or(0);
        }
      }
    }
    done(std::move(ttls));
  });
}

std::optional<std::chrono::milliseconds> LeaseKeeper::Remaining(uint64_t id) const {
  std::lock_guard lock(state_->mu);
  return state_->clocks.Remaining(id, LeaseClocks::Clock::now());
}

}  // namespace nds::api
