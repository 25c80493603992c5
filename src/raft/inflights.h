// Inflights: the leader's bounded window of appends sent to one follower but not yet acknowledged
// (etcd's tracker/inflights). Bounded by message count AND by entry bytes (STYLE.md §6), so a slow
// follower cannot make the leader buffer unbounded data in the transport.
// Owned by the follower's Progress; not thread-safe (raft strand only).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>

#include "util/strong_id.h"

namespace nds::raft {

class Inflights {
 public:
  // Preconditions: count_max > 0, bytes_max > 0.
  Inflights(size_t count_max, uint64_t bytes_max);

  // Records an append whose last entry is `last_index`, carrying `bytes` of entry data.
  // Preconditions: !Full(); last_index greater than every index already in flight.
  void Add(LogIndex last_index, uint64_t bytes);
  // Frees every append whose last index is <= `index` (they were acknowledged).
  void FreeLE(LogIndex index);
  // Frees the oldest append (a heartbeat response proved the follower alive while the window is
  // full: sending one more append lets a lost one be detected by its rejection).
  void FreeFirstOne();
  void Reset();

  // True when no more appends may be sent: count_max messages or bytes_max bytes in flight.
  bool Full() const { return items_.size() >= count_max_ || bytes_ >= bytes_max_; }
  size_t Count() const { return items_.size(); }
  uint64_t Bytes() const { return bytes_; }
  size_t count_max() const { return count_max_; }
  uint64_t bytes_max() const { return bytes_max_; }

 private:
  struct Item {
    LogIndex last_index;
    uint64_t bytes;
  };
  size_t count_max_;
  uint64_t bytes_max_;
  // Ascending by last_index; size() <= count_max_ (checked in Add).
  std::deque<Item> items_;
  uint64_t bytes_ = 0;  // sum of items_[*].bytes
};

}  // namespace nds::raft
