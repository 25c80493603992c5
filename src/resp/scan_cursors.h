// The SCAN cursors of one node: each cursor is a 63-bit number that stands for the last key a
// SCAN page reached, so that the next page resumes after it in key order. Clients such as
// redis-cli and redis-py parse cursors as integers, so the key itself cannot be the cursor.
//
// Bounded: at most `capacity` cursors; making one more forgets the least recently used. A cursor
// is known only to the node that made it and is lost on restart ("ERR invalid cursor").
// Thread-safe (one mutex).
#pragma once

#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>

#include "util/thread_annotations.h"

namespace nds::resp {

class ScanCursors {
 public:
  explicit ScanCursors(size_t capacity);

  // A new cursor (never 0, below 2^63) that stands for `last_key`.
  uint64_t Make(std::string last_key);
  // The key `cursor` stands for, or nullopt when this node does not know it (any more).
  std::optional<std::string> Find(uint64_t cursor);

 private:
  struct Entry {
    std::string last_key;
    std::list<uint64_t>::iterator lru;  // its place in lru_
  };
  const size_t capacity_;
  Mutex mu_;
  std::mt19937_64 rng_ NDS_GUARDED_BY(mu_);
  std::unordered_map<uint64_t, Entry> entries_ NDS_GUARDED_BY(mu_);
  std::list<uint64_t> lru_ NDS_GUARDED_BY(mu_);  // most recently used first
};

}  // namespace nds::resp
