#include "store/token_cache.h"

#include <utility>

#include "store/keyspace.h"

namespace nds::store {

Result<std::shared_ptr<const TokenCache::Entry>> TokenCache::Lookup(const engine::Engine& engine,
                                                                    std::string_view name) {
  // The generation is read before the engine: an Invalidate() that follows a write this read
  // missed tags what it stores as stale, so a stale record is never served as current.
  const uint64_t generation = generation_.load(std::memory_order_acquire);
  {
    MutexLock lock(mu_);
    auto it = slots_.find(std::string(name));
    if (it != slots_.end() && it->second.generation == generation) return it->second.entry;
  }
  NDS_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                       engine.Get(SystemKey(TokenKeyName(name))));
  std::shared_ptr<const Entry> entry;
  if (stored) {
    NDS_ASSIGN_OR_RETURN(TokenRecord record, DecodeTokenRecord(*stored));
    std::string digest = TokenRecordDigest(*stored);
    entry = std::make_shared<const Entry>(
        Entry{std::move(*stored), std::move(record), std::move(digest)});
  }
  MutexLock lock(mu_);
  if (slots_.size() >= names_max_ && !slots_.contains(std::string(name))) slots_.clear();
  Slot& slot = slots_[std::string(name)];
  // Two lookups racing across an Invalidate(): keep the newer read.
  if (slot.generation <= generation) slot = Slot{generation, entry};
  return entry;
}

size_t TokenCache::size() const {
  MutexLock lock(mu_);
  return slots_.size();
}

}  // namespace nds::store
