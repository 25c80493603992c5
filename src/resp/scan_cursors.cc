// SCAN cursor table (scan_cursors.h).
#include "resp/scan_cursors.h"

#include "util/check.h"

namespace nds::resp {

ScanCursors::ScanCursors(size_t capacity) : capacity_(capacity), rng_(std::random_device{}()) {
  NDS_CHECK(capacity_ > 0);
}

uint64_t ScanCursors::Make(std::string last_key) {
  MutexLock lock(mu_);
  uint64_t id = 0;
  // Random ids: a cursor from before a restart is unknown rather than another scan's position.
  while (id == 0 || entries_.contains(id)) id = rng_() >> 1;
  if (entries_.size() >= capacity_) {
    entries_.erase(lru_.back());
    lru_.pop_back();
  }
  lru_.push_front(id);
  entries_.emplace(id, Entry{std::move(last_key), lru_.begin()});
  return id;
}

std::optional<std::string> ScanCursors::Find(uint64_t cursor) {
  MutexLock lock(mu_);
  auto it = entries_.find(cursor);
  if (it == entries_.end()) return std::nullopt;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return it->second.last_key;
}

}  // namespace nds::resp
