// A node's cache of the token records it has applied (auth_state.h), so that checking a request's
// token neither reads the engine nor hashes the stored record on every request. Entries are tagged
// with a generation; Invalidate() (called after every engine change that may touch a token record:
// an applied batch that wrote one, a snapshot installed) makes every entry stale at once, and a
// stale entry is read again from the engine on its next lookup. Absent tokens are cached too, so an
// unknown name costs one engine read per generation; the number of entries is bounded.
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "engine/engine.h"
#include "store/auth_state.h"
#include "util/status.h"
#include "util/thread_annotations.h"

namespace nds::store {

class TokenCache {
 public:
  // At most `names_max` (> 0; Limits::token_cache_names_max, --max-token-cache-names) names are
  // kept; a lookup that would pass it empties the cache first.
  explicit TokenCache(size_t names_max) : names_max_(names_max) {}

  struct Entry {
    std::string stored;  // the record's bytes as the engine holds them
    TokenRecord record;  // decoded
    std::string digest;  // TokenRecordDigest(stored)
  };

  // The record of token `name` as `engine` holds it (nullptr: no such token). Errors reading the
  // engine or decoding the record are returned and not cached.
  Result<std::shared_ptr<const Entry>> Lookup(const engine::Engine& engine, std::string_view name)
      NDS_EXCLUDES(mu_);

  // Every entry looked up before this call is read again from the engine on its next lookup.
  void Invalidate() { generation_.fetch_add(1, std::memory_order_acq_rel); }

  // Names held now, current or stale.
  size_t size() const NDS_EXCLUDES(mu_);

 private:
  struct Slot {
    uint64_t generation = 0;
    std::shared_ptr<const Entry> entry;  // nullptr: the token did not exist
  };

  const size_t names_max_;
  std::atomic<uint64_t> generation_{1};
  mutable Mutex mu_;
  std::unordered_map<std::string, Slot> slots_ NDS_GUARDED_BY(mu_);
};

}  // namespace nds::store
