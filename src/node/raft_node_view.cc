// RaftNode's copy of the leader's member view: only the leader knows which members answer and how
// far behind they are, so it sends that view to the others every few ticks (a kMembersView frame,
// docs/formats/raft_messages.md), and /cluster/members says the same wherever it is asked.
// Loop thread only.
#include <spdlog/spdlog.h>

#include "node/raft_node.h"

namespace nds::node {
namespace {

// The leader sends its view every this many ticks (heartbeat intervals).
constexpr uint64_t kMembersViewEveryTicks = 4;

}  // namespace

void RaftNode::SendMembersView(const raft::BasicStatus& bs) {
  if (ticks_ < members_view_sent_tick_ + kMembersViewEveryTicks) return;
  members_view_sent_tick_ = ticks_;
  std::vector<MemberHealth> view;
  for (const raft::PeerProgress& p : bs.progress) {
    if (view.size() >= kMembersViewEntriesMax) break;
    const uint64_t behind =
        bs.last_index.value > p.match.value ? bs.last_index.value - p.match.value : 0;
    view.push_back(MemberHealth{p.id.value, p.id.value == options_.id || p.recent_active, behind});
  }
  const std::string frame = EncodeMembersViewFrame(view);
  for (const raft::PeerProgress& p : bs.progress) {
    if (p.id.value != options_.id) (void)SendFrame(p.id.value, frame);
  }
}

void RaftNode::HandleMembersView(uint64_t from, const std::string& frame) {
  auto view = DecodeMembersViewFrame(frame);
  if (!view.ok()) {
    RejectFrame(from, "a members view that does not decode: " + view.status().ToString());
    return;
  }
  // Only the leader's view counts; a deposed leader's late frame is dropped.
  if (raw_->GetStatus().leader.value != from) return;
  leader_view_.clear();
  for (const MemberHealth& m : *view) leader_view_[m.id] = m;
  leader_view_from_ = from;
  leader_view_at_ = Now();
}

void RaftNode::FillFromLeaderView(const raft::BasicStatus& bs, Clock::time_point now,
                                  MemberInfo* m) const {
  const bool fresh = bs.leader.value != 0 && leader_view_from_ == bs.leader.value &&
                     now - leader_view_at_ < options_.limits.election_timeout;
  if (fresh) {
    if (auto it = leader_view_.find(m->id); it != leader_view_.end()) {
      m->reachable = it->second.reachable;
      m->behind = it->second.behind;
      return;
    }
  }
  // No leader, or none heard from lately: this node's own links are the best it knows, and how
  // far behind each member is cannot be told (0).
  m->reachable = m->id == options_.id || peers_->Connected(m->id);
  m->behind = 0;
}

}  // namespace nds::node
