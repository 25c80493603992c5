// The forwarded writes (kForward frames) a node has proposed, so that a frame delivered twice is
// proposed once: otherwise both copies commit and the write is applied twice, undoing a later
// write to the same key (the real-node simulator found this with a network that duplicates
// frames). Keyed by the envelope's (origin, request id), which is unique per origin. Bounded: the
// oldest are forgotten first, and a duplicate arrives soon after its original. Loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <set>
#include <utility>

namespace nds::node {

// Far more than the writes that can be in flight from every origin at once.
inline constexpr size_t kSeenForwardsMax = 1 << 16;

class SeenForwards {
 public:
  bool Contains(uint64_t origin, uint64_t request_id) const {
    return seen_.contains({origin, request_id});
  }
  void Insert(uint64_t origin, uint64_t request_id) {
    if (!seen_.insert({origin, request_id}).second) return;
    order_.emplace_back(origin, request_id);
    if (order_.size() > kSeenForwardsMax) {
      seen_.erase(order_.front());
      order_.pop_front();
    }
  }

 private:
  std::set<std::pair<uint64_t, uint64_t>> seen_;
  std::deque<std::pair<uint64_t, uint64_t>> order_;
};

}  // namespace nds::node
