// The applier's lease changes, handed to the lease keeper (lease_feed.h).
#include "store/lease_feed.h"

namespace nds::store {

void LeaseFeed::Publish(const std::unordered_map<uint64_t, std::optional<LeaseSummary>>& changes) {
  MutexLock lock(mu_);
  if (reload_) return;  // the next take reads the engine, which holds these already
  for (const auto& [id, lease] : changes) pending_[id] = lease;
  if (pending_.size() > pending_max_) {
    pending_.clear();
    reload_ = true;
  }
}

void LeaseFeed::Invalidate() {
  MutexLock lock(mu_);
  pending_.clear();
  reload_ = true;
}

Result<LeaseFeed::Taken> LeaseFeed::Take(const engine::Engine& engine) {
  Taken taken;
  MutexLock lock(mu_);
  if (reload_) {
    // Under the lock: a batch written before this view is in it; one written after publishes
    // once this returns, into pending_.
    auto view = engine.NewView();
    NDS_ASSIGN_OR_RETURN(taken.leases, ReadLeases(*view));
    taken.all = true;
    reload_ = false;
    pending_.clear();
    return taken;
  }
  for (const auto& [id, lease] : pending_) {
    if (lease) {
      taken.leases.push_back(*lease);
    } else {
      taken.gone.push_back(id);
    }
  }
  pending_.clear();
  return taken;
}

}  // namespace nds::store
