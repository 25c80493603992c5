// LeaseFeed: how the lease keeper (api/lease_keeper.h) learns what the applier did to leases
// without reading every lease record again. The applier publishes, after each batch it wrote to
// the engine, the lease records the batch wrote or deleted; the keeper takes what was published
// since it last looked. The first take, and the first after the engine was replaced (a snapshot
// installed: Invalidate), reads every lease of the engine instead.
//
// Thread-safe. Pending changes are kept per lease (the latest only) and bounded: past
// `pending_max` leases changed between two takes, the next take reads everything again.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "engine/engine.h"
#include "store/lease_state.h"
#include "util/status.h"
#include "util/thread_annotations.h"

namespace nds::store {

class LeaseFeed {
 public:
  explicit LeaseFeed(size_t pending_max = size_t{1} << 20) : pending_max_(pending_max) {}

  // What the keeper takes: when `all`, `leases` is every lease of the engine (and every lease it
  // knew of but does not find there is gone); otherwise `leases` holds the leases written and
  // `gone` the ones deleted since the last take, each at its latest state.
  struct Taken {
    bool all = false;
    std::vector<LeaseSummary> leases;
    std::vector<uint64_t> gone;
  };

  // From the applier, after the batch's engine write: each lease the batch wrote (its summary)
  // or deleted (nullopt).
  void Publish(const std::unordered_map<uint64_t, std::optional<LeaseSummary>>& changes)
      NDS_EXCLUDES(mu_);

  // The engine was replaced: the next Take reads every lease again.
  void Invalidate() NDS_EXCLUDES(mu_);

  // The changes since the last Take, or everything (see Taken). A full read holds the feed's
  // lock while it reads `engine`, so a publish that follows cannot be missed; its errors are
  // returned and the next Take reads everything again.
  Result<Taken> Take(const engine::Engine& engine) NDS_EXCLUDES(mu_);

 private:
  const size_t pending_max_;
  Mutex mu_;
  bool reload_ NDS_GUARDED_BY(mu_) = true;
  std::unordered_map<uint64_t, std::optional<LeaseSummary>> pending_ NDS_GUARDED_BY(mu_);
};

}  // namespace nds::store
