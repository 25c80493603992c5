// ConfHistory: the Raft configuration in force at each applied index since a starting point, so
// that a snapshot cut off the Raft loop (raft_node_checkpoint.cc) records the configuration as of
// the index its checkpoint holds, not the one the loop has moved on to since. It mirrors the core's
// own rule (raft/raft.cc: a committed kConfChange entry takes effect once applied).
// Loop thread only; not thread-safe.
#pragma once

#include <map>
#include <optional>

#include "raft/confchange.h"
#include "raft/types.h"
#include "util/check.h"

namespace nds::node {

class ConfHistory {
 public:
  // Forgets everything: `cs` is the configuration in force at `index` (at start: the core's
  // applied configuration and index; after installing a snapshot: the snapshot's).
  void Reset(LogIndex index, raft::ConfState cs) {
    by_index_.clear();
    by_index_.emplace(index.value, std::move(cs));
    last_index_ = index;
  }

  // A committed entry applied, in log order. Entries at or below the last index applied are
  // ignored (the core skips them too).
  void Apply(const raft::Entry& e) {
    NDS_CHECK(!by_index_.empty(), "ConfHistory::Apply before Reset");
    if (e.index <= last_index_) return;
    NDS_CHECK(e.index == last_index_.Next(), "conf history: entry {} applied after {}", e.index,
              last_index_);
    last_index_ = e.index;
    if (e.type != raft::EntryType::kConfChange) return;
    auto last = std::prev(by_index_.end());
    // A bad encoding is ignored on every node alike, as the core ignores it.
    Result<raft::ConfChange> cc = raft::DecodeConfChange(e.data);
    if (!cc.ok()) return;
    raft::ConfState next = raft::ApplyConfChange(last->second, *cc);
    by_index_.emplace(e.index.value, std::move(next));
  }

  // The configuration in force once every entry up to `index` is applied; std::nullopt for an
  // index before the starting point.
  std::optional<raft::ConfState> At(LogIndex index) const {
    auto it = by_index_.upper_bound(index.value);
    if (it == by_index_.begin()) return std::nullopt;
    return std::prev(it)->second;
  }

  // The newest configuration noted.
  const raft::ConfState& Latest() const {
    NDS_CHECK(!by_index_.empty(), "ConfHistory::Latest before Reset");
    return std::prev(by_index_.end())->second;
  }

  // Forgets what no later At(i >= index) needs: everything before the entry in force at `index`.
  void DropBefore(LogIndex index) {
    auto it = by_index_.upper_bound(index.value);
    if (it == by_index_.begin()) return;
    by_index_.erase(by_index_.begin(), std::prev(it));
  }

  size_t size() const { return by_index_.size(); }
  // The last index applied (Reset's, or the last entry given to Apply).
  LogIndex last_index() const { return last_index_; }

 private:
  std::map<uint64_t, raft::ConfState> by_index_;  // index of the change -> the configuration
  LogIndex last_index_;
};

}  // namespace nds::node
