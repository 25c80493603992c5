// The simulated disk: ordered writes, durable at Sync, a random prefix kept at a crash (disk.h).
#include "sim/disk.h"

#include <utility>

#include <fmt/format.h>

#include "util/check.h"

namespace nds::sim {

void SimDisk::Apply(const Write& w, DiskState* state) {
  if (w.is_hard_state) {
    state->hard_state = w.hard_state;
    return;
  }
  if (w.entries.empty()) return;
  uint64_t first = w.entries.front().index.value;
  NDS_CHECK(first >= 1 && first <= state->entries.size() + 1);
  state->entries.resize(first - 1);
  state->entries.insert(state->entries.end(), w.entries.begin(), w.entries.end());
}

Status SimDisk::AppendEntries(const std::vector<raft::Entry>& entries) {
  if (fail_next_write_) {
    fail_next_write_ = false;
    return IoError("simulated disk: no space left for the log append");
  }
  if (entries.empty()) return Status::Ok();
  for (size_t k = 1; k < entries.size(); ++k) {
    if (entries[k].index != entries[k - 1].index.Next()) {
      return InvalidArgument("simulated disk: appended entries are not contiguous");
    }
  }
  uint64_t first = entries.front().index.value;
  if (first == 0 || first > written_.entries.size() + 1) {
    return InvalidArgument(fmt::format("simulated disk: append at {} leaves a gap after {}", first,
                                       written_.entries.size()));
  }
  Write w;
  w.entries = entries;
  Apply(w, &written_);
  pending_.push_back(std::move(w));
  return Status::Ok();
}

Status SimDisk::SaveHardState(const raft::HardState& hard_state) {
  if (fail_next_write_) {
    fail_next_write_ = false;
    return IoError("simulated disk: no space left for the hard state");
  }
  Write w;
  w.is_hard_state = true;
  w.hard_state = hard_state;
  Apply(w, &written_);
  pending_.push_back(std::move(w));
  return Status::Ok();
}

void SimDisk::Sync() {
  for (const Write& w : pending_) Apply(w, &durable_);
  pending_.clear();
  NDS_CHECK(durable_ == written_);
}

void SimDisk::Crash(Rng& rng) {
  size_t kept = rng.Below(pending_.size() + 1);
  for (size_t i = 0; i < kept; ++i) Apply(pending_[i], &durable_);
  if (kept < pending_.size() && !pending_[kept].is_hard_state && rng.Below(2) == 0) {
    // A torn append: a prefix of its entries reached the disk.
    Write torn = pending_[kept];
    torn.entries.resize(rng.Below(torn.entries.size() + 1));
    Apply(torn, &durable_);
  }
  pending_.clear();
  written_ = durable_;
  fail_next_write_ = false;
}

std::unique_ptr<raft::MemoryStorage> SimDisk::Load() const {
  auto storage = std::make_unique<raft::MemoryStorage>();
  storage->SetHardState(durable_.hard_state);
  Status s = storage->Append(durable_.entries);
  NDS_CHECK(s.ok(), "{}", s.ToString());
  return storage;
}

}  // namespace nds::sim
