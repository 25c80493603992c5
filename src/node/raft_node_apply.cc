// RaftNode and its apply stage (node/apply_stage.h): the loop hands the committed entries of each
// Ready to the stage and takes back, at a later pass, what they did: the applied index, the member
// table and the answers of this node's writes, which it runs after publishing its status.
#include <spdlog/spdlog.h>

#include "node/raft_node.h"
#include "util/check.h"

namespace nds::node {

void RaftNode::StartApplyStage() {
  ApplyStage::Config c;
  c.engine = engine_;
  c.token_cache = &token_cache_;
  c.lease_feed = &lease_feed_;
  c.history_revisions = options_.limits.history_revisions;
  c.history_bytes = options_.limits.history_bytes;
  c.self_id = options_.id;
  c.on_applied = options_.on_applied;
  c.capture_events_bytes = options_.capture_events_bytes;
  c.wake = [this] {
    { MutexLock lock(mu_); }
    wake_.notify_one();
  };
  c.die = [this](std::string_view what, const Status& s) { Die(what, s); };
  c.run = env_.run_apply;
  c.threaded = transport_ != nullptr;
  apply_ = std::make_unique<ApplyStage>(std::move(c));
}

void RaftNode::CollectApplied() {
  std::deque<ApplyStage::Applied> batches = apply_->TakeApplied();
  if (batches.empty()) return;
  bool membership_changed = false;
  for (const ApplyStage::Applied& a : batches) {
    // Applied in log order, each entry once: every batch starts right after the one before.
    NDS_CHECK(a.first == applied_.Next() && a.last >= a.first, "batch {}..{} applied after {}",
              a.first, a.last, applied_);
    applied_ = a.last;
    applied_bytes_since_snapshot_ += a.bytes;
    metrics_.apply.Observe(a.took);
    metrics_.applied_entry_bytes.fetch_add(a.bytes, std::memory_order_relaxed);
    membership_changed = membership_changed || a.membership_changed;
  }
  NDS_CHECK(applied_ <= engine_->AppliedIndex(), "collected {} beyond the engine's {}", applied_,
            engine_->AppliedIndex());
  members_dirty_ = true;
  if (membership_changed) LoadMembers();
  auto now = Now();
  for (ApplyStage::Applied& a : batches) {
    for (auto& [id, r, removed_member] : a.mine) {
      PendingWrite w;
      {
        MutexLock lock(mu_);
        auto it = writes_.find(id);
        if (it == writes_.end()) continue;  // already answered (timed out)
        w = std::move(it->second);
        writes_.erase(it);
      }
      bool add = w.type == store::CommandType::kAddMember;
      if (r.status.ok() && (add || w.type == store::CommandType::kRemoveMember)) {
        // Answer once the configuration follows the member table (Reconcile on the leader).
        uint64_t member = add ? r.revision : removed_member;
        membership_waits_.push_back(PendingMembership{
            std::move(w.done), r, now + options_.limits.request_timeout, add, member});
        continue;
      }
      NDS_CHECK(w.done != nullptr, "write {} applied with nobody to answer", id);
      completions_.emplace_back(std::move(w.done), std::move(r));
    }
  }
}

Status RaftNode::DrainApply() {
  Status s = apply_->Drain();
  CollectApplied();
  return s;
}

}  // namespace nds::node
