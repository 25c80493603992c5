// Inflights: a deque of (last index, bytes), freed from the front as acknowledgements arrive.
#include "raft/inflights.h"

#include "util/check.h"

namespace nds::raft {

Inflights::Inflights(size_t count_max, uint64_t bytes_max)
    : count_max_(count_max), bytes_max_(bytes_max) {
  NDS_CHECK(count_max > 0);
  NDS_CHECK(bytes_max > 0);
}

void Inflights::Add(LogIndex last_index, uint64_t bytes) {
  NDS_CHECK(!Full(), "inflights full: {} msgs {} bytes", items_.size(), bytes_);
  NDS_CHECK(items_.empty() || items_.back().last_index < last_index, "inflights out of order");
  items_.push_back(Item{last_index, bytes});
  bytes_ += bytes;
}

void Inflights::FreeLE(LogIndex index) {
  while (!items_.empty() && items_.front().last_index <= index) {
    NDS_CHECK(bytes_ >= items_.front().bytes);
    bytes_ -= items_.front().bytes;
    items_.pop_front();
  }
}

void Inflights::FreeFirstOne() {
  if (items_.empty()) return;
  FreeLE(items_.front().last_index);
}

void Inflights::Reset() {
  items_.clear();
  bytes_ = 0;
}

}  // namespace nds::raft
