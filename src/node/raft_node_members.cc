// RaftNode's membership: the member table in the replicated state machine says who should be in
// the cluster; the leader moves the Raft configuration towards it one single-server change at a
// time (docs/cluster.md "Membership"). Loop thread only, except Members().
#include <algorithm>

#include <spdlog/spdlog.h>

#include "node/raft_codec.h"
#include "node/raft_node.h"
#include "store/keyspace.h"
#include "util/log_text.h"

namespace nds::node {
namespace {

bool Contains(const std::vector<NodeId>& ids, uint64_t id) {
  return std::find(ids.begin(), ids.end(), NodeId{id}) != ids.end();
}

}  // namespace

void RaftNode::LoadMembers() {
  auto records = store::ReadMembers(*engine_);
  if (!records.ok()) {
    spdlog::error("cannot read the member table: {}", records.status().ToString());
    return;
  }
  members_.clear();
  for (auto& r : *records) {
    peer_addresses_[r.id] = r.peer_address;
    members_[r.id] = std::move(r);
  }
  for (const auto& r : options_.known_members) {
    if (!peer_addresses_.contains(r.id)) peer_addresses_[r.id] = r.peer_address;
  }
  members_dirty_ = true;
  // The record of this node is removed while it is still in the configuration, so it applies
  // that removal (the configuration change that follows may never reach it).
  if (members_.contains(options_.id)) {
    in_member_table_ = true;
  } else if (in_member_table_ && !removed_) {
    NoteRemoved();
  }
  if (peers_) UpdatePeers();
}

void RaftNode::UpdatePeers() {
  // Peers are the recorded members plus every node still in the configuration: a member whose
  // record was removed must keep receiving until the change that removes it has committed.
  std::set<uint64_t> wanted;
  for (const auto& [id, r] : members_) wanted.insert(id);
  if (raw_) {
    const raft::ConfState& cs = raw_->GetConfState();
    for (NodeId id : cs.voters) wanted.insert(id.value);
    for (NodeId id : cs.learners) wanted.insert(id.value);
  }
  for (const auto& r : options_.known_members) wanted.insert(r.id);
  for (const auto& [id, address] : provisional_peers_) wanted.insert(id);
  wanted.erase(options_.id);
  if (wanted != allowed_peers_) {
    allowed_peers_ = wanted;
    MutexLock lock(mu_);
    allowed_peers_view_ = wanted;
  }
  for (uint64_t id : wanted) {
    auto it = peer_addresses_.find(id);
    const std::string* address = it == peer_addresses_.end() ? nullptr : &it->second;
    if (address == nullptr) {
      auto p = provisional_peers_.find(id);
      if (p == provisional_peers_.end()) continue;
      address = &p->second;
    }
    peers_->SetPeer(id, *address);
    transport_peers_.insert(id);
  }
  for (auto it = transport_peers_.begin(); it != transport_peers_.end();) {
    if (wanted.contains(*it)) {
      ++it;
    } else {
      peers_->RemovePeer(*it);
      it = transport_peers_.erase(it);
    }
  }
}

void RaftNode::UpdateProvisionalPeers(uint64_t id, const std::string& peer_address) {
  if (!MayBeLaterMember(id, applied_.value) || peer_address.empty() ||
      !store::IsMemberAddress(peer_address)) {
    return;
  }
  auto it = provisional_peers_.find(id);
  if (it != provisional_peers_.end() && it->second == peer_address) return;
  if (it == provisional_peers_.end() &&
      provisional_peers_.size() >= options_.limits.provisional_peers_max)
    return;
  spdlog::info(
      "membership: node {} (not in the member table this node applied, whose join may "
      "come later in the log) is answered at {}",
      id, EscapeForLog(peer_address));
  provisional_peers_[id] = peer_address;
  if (peers_) UpdatePeers();
}

void RaftNode::PruneProvisionalPeers() {
  const uint64_t applied = applied_.value;
  bool changed = false;
  for (auto it = provisional_peers_.begin(); it != provisional_peers_.end();) {
    // Applied past its join (or the member table holds it now): the member table decides.
    if (!MayBeLaterMember(it->first, applied) || members_.contains(it->first)) {
      it = provisional_peers_.erase(it);
      changed = true;
    } else {
      ++it;
    }
  }
  if (changed && peers_) UpdatePeers();
}

void RaftNode::SeedNewCluster() {
  // The lone voter of a new cluster records itself and the join token's hash, at Open, before
  // any client write is proposed: so in the log the first member record always precedes every
  // other one, and Reconcile never sees a voter without a record unless it was removed. Once the
  // member table holds anyone, the cluster has been seeded (possibly by an earlier incarnation).
  if (seeded_ || !members_.empty()) return;
  raft::BasicStatus bs = raw_->GetStatus();
  if (bs.role != raft::Role::kLeader) return;
  const raft::ConfState& cs = raw_->GetConfState();
  if (cs.voters.size() != 1 || cs.voters[0] != NodeId{options_.id}) return;
  seeded_ = true;
  store::MemberRecord self{options_.id, options_.name, options_.peer_address, options_.api_address};
  // Embedded uses (tests) may leave the advertised addresses out: record where we listen.
  if (self.peer_address.empty()) {
    self.peer_address = options_.peer_listen_host + ":" + std::to_string(peer_port());
  }
  if (self.api_address.empty()) self.api_address = "unknown:0";
  if (self.name.empty()) self.name = "node" + std::to_string(options_.id);
  std::vector<store::Command> cmds = options_.seed_commands;
  cmds.push_back(
      store::PutSystemCommand(store::MemberKeyName(options_.id), store::EncodeMemberRecord(self)));
  if (!options_.join_token_hash.empty()) {
    cmds.push_back(
        store::PutSystemCommand(std::string(store::kJoinTokenHashKey), options_.join_token_hash));
  }
  for (const auto& c : cmds) {
    Envelope e;
    e.origin = options_.id;
    e.request_id = 0;
    store::EncodeCommand(c, &e.command);
    Route(Proposal{0, EncodeEnvelope(e)});
  }
  spdlog::info("new cluster: recorded member {} ('{}')", options_.id, options_.name);
}

void RaftNode::Reconcile() {
  raft::BasicStatus bs = raw_->GetStatus();
  if (bs.role != raft::Role::kLeader || members_.empty()) return;
  // The configuration in force may be ahead of the member table: a node whose record is not yet
  // collected from the apply stage (a new leader's backlog) must not look like one removed. Every
  // record a configuration change followed is before it in the log.
  if (applied_ < conf_change_handed_) return;
  const raft::ConfState& cs = raw_->GetConfState();
  auto propose = [&](raft::ConfChangeType type, uint64_t id, std::string_view what) {
    Status s = raw_->ProposeConfChange(raft::ConfChange{type, NodeId{id}});
    if (s.ok()) {
      spdlog::info("membership: {} {} event=membership_change member={} term={} index={}", what, id,
                   id, bs.term.value, bs.last_index.value);
    } else if (s.code() != StatusCode::kFailedPrecondition) {
      spdlog::debug("membership: cannot {} {} yet: {}", what, id, s.ToString());
    }
  };
  // One change at a time; the core refuses a second while one is pending (kFailedPrecondition).
  for (const auto& [id, r] : members_) {
    if (!Contains(cs.voters, id) && !Contains(cs.learners, id)) {
      return propose(raft::ConfChangeType::kAddLearner, id, "adding learner");
    }
  }
  for (NodeId id : cs.learners) {
    if (!members_.contains(id.value)) {
      return propose(raft::ConfChangeType::kRemoveNode, id.value, "removing");
    }
  }
  for (NodeId id : cs.voters) {
    if (!members_.contains(id.value)) {
      return propose(raft::ConfChangeType::kRemoveNode, id.value, "removing");
    }
  }
  // A learner that has everything the leader has committed becomes a voter.
  for (const raft::PeerProgress& p : bs.progress) {
    if (p.is_learner && p.match >= bs.commit && bs.commit.value > 0) {
      return propose(raft::ConfChangeType::kAddVoter, p.id.value, "promoting learner");
    }
  }
}

void RaftNode::RecordClaimedAddresses() {
  {
    MutexLock lock(mu_);
    for (auto& [id, claim] : hello_claims_) claimed_addresses_[id] = std::move(claim);
    hello_claims_.clear();
  }
  PruneProvisionalPeers();
  if (claimed_addresses_.empty()) return;
  const bool leader = raw_->GetStatus().role == raft::Role::kLeader;
  // A proposal that has not shown in the member table after about an election timeout is made
  // again (it may have been lost with a leadership change).
  const uint64_t retry_ticks = static_cast<uint64_t>(
      std::max<int64_t>(2, options_.limits.election_timeout.count() /
                               std::max<int64_t>(1, options_.limits.heartbeat_interval.count())));
  for (auto it = claimed_addresses_.begin(); it != claimed_addresses_.end();) {
    const uint64_t id = it->first;
    AddressClaim& claim = it->second;
    auto member = members_.find(id);
    if (member == members_.end()) {  // not (or no longer) a member: nothing to record
      UpdateProvisionalPeers(id, claim.peer_address);
      it = claimed_addresses_.erase(it);
      continue;
    }
    store::MemberRecord want = member->second;
    if (!claim.peer_address.empty()) want.peer_address = claim.peer_address;
    if (!claim.api_address.empty()) want.api_address = claim.api_address;
    if (want == member->second) {
      it = claimed_addresses_.erase(it);
      continue;
    }
    if (!leader || (claim.proposed_tick != 0 && ticks_ < claim.proposed_tick + retry_ticks)) {
      ++it;
      continue;
    }
    Status valid = store::ValidateMemberRecord(want);
    for (const std::string* address : {&claim.peer_address, &claim.api_address}) {
      if (valid.ok() && !address->empty() && !store::IsMemberAddress(*address)) {
        valid = InvalidArgument("'" + EscapeForLog(*address) + "' is not HOST:PORT");
      }
    }
    bool taken = std::any_of(members_.begin(), members_.end(), [&](const auto& m) {
      return m.first != id && m.second.peer_address == want.peer_address;
    });
    if (!valid.ok() || taken) {
      spdlog::warn("membership: member {} claims peer {} api {}, which cannot be recorded: {}", id,
                   EscapeForLog(want.peer_address), EscapeForLog(want.api_address),
                   taken ? "another member has that peer address" : valid.message());
      it = claimed_addresses_.erase(it);
      continue;
    }
    spdlog::info(
        "membership: member {} ('{}') is now at peer {} api {} (was {} / {}); recording it", id,
        EscapeForLog(want.name), EscapeForLog(want.peer_address), EscapeForLog(want.api_address),
        EscapeForLog(member->second.peer_address), EscapeForLog(member->second.api_address));
    Envelope e;
    e.origin = options_.id;
    store::EncodeCommand(
        store::PutSystemCommand(store::MemberKeyName(id), store::EncodeMemberRecord(want),
                                store::Precondition::kMustExist),
        &e.command);
    Route(Proposal{0, EncodeEnvelope(e)});
    claim.proposed_tick = std::max<uint64_t>(1, ticks_);
    ++it;
  }
}

void RaftNode::CompleteMembershipWaits(Clock::time_point now) {
  if (membership_waits_.empty()) return;
  const raft::ConfState& cs = raw_->GetConfState();
  std::vector<PendingMembership> waits;
  waits.swap(membership_waits_);
  for (auto& w : waits) {
    bool in = Contains(cs.voters, w.member) || Contains(cs.learners, w.member);
    if (in == w.add) {
      w.done(std::move(w.result));
    } else if (now >= w.deadline) {
      w.result.status = Unavailable(
          "the member table changed but the Raft configuration did not follow within "
          "--request-timeout-ms; it will when a leader is available");
      w.done(std::move(w.result));
    } else {
      membership_waits_.push_back(std::move(w));
    }
  }
}

void RaftNode::CompleteTransfers(Clock::time_point now) {
  if (transfers_.empty()) return;
  raft::BasicStatus bs = raw_->GetStatus();
  const raft::ConfState& cs = raw_->GetConfState();
  std::vector<PendingTransfer> transfers;
  transfers.swap(transfers_);
  for (auto& t : transfers) {
    if (!Contains(cs.voters, t.to)) {
      t.done(NotFound("no voter with id " + std::to_string(t.to)));
      continue;
    }
    if (bs.leader.value == t.to) {
      t.done(Status::Ok());
      continue;
    }
    if (now >= t.deadline) {
      t.done(Unavailable("leadership did not move within --request-timeout-ms"));
      continue;
    }
    if (t.asked && bs.leader.value == options_.id && bs.lead_transferee.value == 0) {
      // This node leads and asked its core, which gave the transfer up (the target did not take
      // over within an election timeout).
      t.done(Unavailable("member " + std::to_string(t.to) +
                         " did not take over within the election timeout"));
      continue;
    }
    if (!t.asked && bs.leader.value != 0) {
      Status s = raw_->TransferLeadership(NodeId{t.to});
      if (!s.ok() && s.code() != StatusCode::kNotLeader && s.code() != StatusCode::kUnavailable) {
        t.done(s);
        continue;
      }
      t.asked = s.ok();
    }
    transfers_.push_back(std::move(t));
  }
}

void RaftNode::PublishMembers() {
  if (members_dirty_) UpdatePeers();
  members_dirty_ = false;
  raft::BasicStatus bs = raw_->GetStatus();
  const raft::ConfState& cs = raw_->GetConfState();
  const Clock::time_point now = Now();
  if (bs.role == raft::Role::kLeader) SendMembersView(bs);
  std::vector<MemberInfo> view;
  auto add = [&](uint64_t id, bool voter) {
    MemberInfo m;
    m.id = id;
    m.voter = voter;
    if (auto it = members_.find(id); it != members_.end()) {
      m.name = it->second.name;
      m.peer_address = it->second.peer_address;
      m.api_address = it->second.api_address;
    } else if (id == options_.id) {
      m.name = options_.name;
      m.peer_address = options_.peer_address;
      m.api_address = options_.api_address;
    }
    if (bs.role == raft::Role::kLeader) {
      for (const raft::PeerProgress& p : bs.progress) {
        if (p.id.value != id) continue;
        m.reachable = id == options_.id || p.heard_lately;
        // The leader itself is never behind: its own match lags only by the writes its log
        // writer has not finished (docs/cluster.md).
        m.behind = id == options_.id || bs.last_index.value <= p.match.value
                       ? 0
                       : bs.last_index.value - p.match.value;
      }
    } else {
      FillFromLeaderView(bs, now, &m);
    }
    view.push_back(std::move(m));
  };
  for (NodeId id : cs.voters) add(id.value, true);
  for (NodeId id : cs.learners) add(id.value, false);
  // Recorded but not yet in the configuration (a join in progress): listed as learners.
  for (const auto& [id, r] : members_) {
    if (!Contains(cs.voters, id) && !Contains(cs.learners, id)) add(id, false);
  }
  std::sort(view.begin(), view.end(),
            [](const MemberInfo& a, const MemberInfo& b) { return a.id < b.id; });
  MutexLock lock(mu_);
  members_view_ = std::move(view);
}

std::vector<MemberInfo> RaftNode::Members() const {
  MutexLock lock(mu_);
  std::vector<MemberInfo> members = members_view_;
  for (MemberInfo& m : members) {
    auto t = peer_traffic_view_.find(m.id);
    if (t == peer_traffic_view_.end()) continue;
    m.sent_bytes = t->second.sent_bytes;
    m.round_trip_seconds = t->second.round_trip_seconds;
  }
  return members;
}

}  // namespace nds::node
