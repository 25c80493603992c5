// RaftNode's peer traffic: hellos and frames from the transport, the frames the loop handles each
// pass (Raft messages, snapshot chunks, forwarded writes and their refusals, the members view),
// and the forwarder that routes a write to the leader or holds it while none is known.
#include <cstdlib>

#include <spdlog/spdlog.h>

#include "node/raft_codec.h"
#include "node/raft_node.h"
#include "store/fence.h"
#include "util/check.h"
#include "util/log_text.h"

namespace nds::node {
namespace {

// Member addresses claimed by hellos and not yet taken by the loop (drained every tick).
constexpr size_t kHelloClaimsMax = 1024;

// "leader=<id>" from a kNotLeader status; 0 when unknown.
uint64_t LeaderFromStatus(const Status& s) {
  constexpr std::string_view kPrefix = "leader=";
  if (!s.message().starts_with(kPrefix)) return 0;
  return std::strtoull(std::string(s.message().substr(kPrefix.size())).c_str(), nullptr, 10);
}

}  // namespace

Result<uint64_t> RaftNode::OnHello(std::string_view hello) {
  // Called once the dialer proved it holds the cluster secret. What it claims is checked still:
  // only a member (or the learner being added) may speak for its id.
  NDS_ASSIGN_OR_RETURN(Hello h, DecodeHello(hello));
  if (h.cluster_id != options_.cluster_id) {
    // A member of a cluster that `nds recover` fenced off (store/fence.h): say so.
    auto fence = engine_->Get(store::SystemKey(store::FenceKeyName(h.cluster_id)));
    if (fence.ok() && fence->has_value()) {
      return FailedPrecondition("peer " + std::to_string(h.node_id) + " belongs to cluster '" +
                                EscapeForLog(h.cluster_id) + "', which was " + **fence +
                                "; it may not come back: wipe its data directory and join it "
                                "again with --join");
    }
    // The claimed id is outside input and ends up in a log line: escaped (issue 11).
    return InvalidArgument("peer " + std::to_string(h.node_id) + " belongs to cluster '" +
                           EscapeForLog(h.cluster_id) + "', not '" + options_.cluster_id + "'");
  }
  if (h.node_id == options_.id) return InvalidArgument("a peer claims this node's own id");
  MutexLock lock(mu_);
  if (!allowed_peers_view_.contains(h.node_id) &&
      !MayBeLaterMember(h.node_id, status_.applied_index)) {
    return FailedPrecondition("node " + std::to_string(h.node_id) +
                              " is not a member of this cluster, nor being added");
  }
  if (!h.peer_address.empty() || !h.api_address.empty()) {
    // Drained every tick; members only, so the map stays as small as the cluster.
    if (hello_claims_.size() < kHelloClaimsMax || hello_claims_.contains(h.node_id)) {
      hello_claims_[h.node_id] = AddressClaim{h.peer_address, h.api_address};
    }
  }
  return h.node_id;
}

void RaftNode::OnFrame(uint64_t from, std::string frame) {
  {
    MutexLock lock(mu_);
    if (stopping_ || inbox_.size() >= options_.limits.peer_inbox_frames_max) return;
    inbox_.push_back(Inbound{from, std::move(frame)});
  }
  wake_.notify_one();
}

void RaftNode::HandleInbound(std::deque<Inbound> frames) {
  for (auto& in : frames) {
    // The connection proved its peer holds the cluster secret when it opened; a peer removed
    // since (or never a member) may still hold it, and must not move the term or propose.
    const bool unknown = !allowed_peers_.contains(in.from);
    if (unknown && !MayBeLaterMember(in.from, applied_.value)) {
      RefuseFrame(in.from, "a frame from node " + std::to_string(in.from) +
                               ", which is not a member of this cluster");
      continue;
    }
    auto kind = PeekFrameKind(in.frame);
    if (!kind.ok()) {
      RejectFrame(in.from, "a frame of unknown kind: " + kind.status().ToString());
      continue;
    }
    if (unknown && *kind != FrameKind::kRaft && *kind != FrameKind::kSnapshotChunk) {
      // A member added since may lead and send this node the log; it has no reason to forward.
      RefuseFrame(in.from, "a frame other than Raft or a snapshot chunk from node " +
                               std::to_string(in.from) + ", whose join this node has not applied");
      continue;
    }
    if (*kind == FrameKind::kRaft) {
      // Big entries stay where the frame put them (slices of it), not copied out.
      const SharedBytes frame(std::move(in.frame));
      auto m = DecodeSharedRaftFrame(frame);
      if (!m.ok()) {
        RejectFrame(in.from, "a Raft frame that does not decode: " + m.status().ToString());
        continue;
      }
      if (m->from.value != in.from || m->to.value != options_.id) {
        const std::string what = "a Raft message from " + std::to_string(m->from.value) + " to " +
                                 std::to_string(m->to.value) + " on the connection of node " +
                                 std::to_string(in.from);
        RefuseFrame(in.from, what);
        RejectFrame(in.from, what);
        continue;
      }
      if (m->type == raft::MessageType::kHeartbeatResponse) {
        // The answer to the last heartbeat sent to this peer: its round trip.
        auto t = peer_traffic_.find(in.from);
        if (t != peer_traffic_.end() && t->second.heartbeat_round == m->round &&
            t->second.heartbeat_round != 0) {
          t->second.round_trip_seconds =
              std::chrono::duration<double>(Now() - t->second.heartbeat_sent).count();
          t->second.heartbeat_round = 0;
        }
      }
      if (m->type == raft::MessageType::kSnapshot && !SnapshotStaged(*m)) {
        spdlog::warn("dropping a snapshot message from {} for {}: its data has not arrived",
                     in.from, m->snapshot.index.value);
        continue;
      }
      Status s = raw_->Step(*m);
      if (!s.ok()) spdlog::debug("peer {}: {}", in.from, s.ToString());
      continue;
    }
    if (*kind == FrameKind::kSnapshotChunk) {
      HandleSnapshotChunk(in.from, in.frame);
      continue;
    }
    if (*kind == FrameKind::kForwardRefused) {
      HandleForwardRefusal(in.from, in.frame);
      continue;
    }
    if (*kind == FrameKind::kMembersView) {
      HandleMembersView(in.from, in.frame);
      continue;
    }
    if (*kind == FrameKind::kSnapshotResume) {
      HandleSnapshotResume(in.from, in.frame);
      continue;
    }
    // The only kind left is kForward (checked by PeekFrameKind above): an envelope after the
    // kind byte.
    auto e = DecodeEnvelopeView(std::string_view(in.frame).substr(1));
    if (!e.ok()) {
      RejectFrame(in.from, "a forwarded write that does not decode: " + e.status().ToString());
      continue;
    }
    const uint64_t origin = e->origin;
    const uint64_t request_id = e->request_id;
    // A forwarded write is proposed here if this node leads. Otherwise leadership moved on, or
    // the leader refused it (a limit, a transfer): it goes back to its origin, never further (two
    // nodes with stale views could bounce it forever). The origin routes it again or fails it.
    if (seen_forwards_.Contains(origin, request_id)) {
      spdlog::debug("dropping a duplicate of write {} forwarded by {}", request_id, in.from);
      continue;
    }
    // The entry is the envelope as it arrived: the frame's bytes after its kind byte, moved down
    // in place (a big value is neither decoded into a copy nor encoded again).
    std::string envelope = std::move(in.frame);
    envelope.erase(0, 1);
    const SharedBytes entry(std::move(envelope));
    Status s = raw_->Propose(entry);
    if (s.ok()) {
      seen_forwards_.Insert(origin, request_id);
      continue;
    }
    spdlog::debug("handing back a write forwarded by {}: {}", in.from, s.ToString());
    auto refused = DecodeEnvelope(entry.view());
    NDS_CHECK(refused.ok(), "a forwarded envelope decoded once and not again");
    (void)SendFrame(in.from,
                    EncodeForwardRefusalFrame(ForwardRefusal{std::move(refused).value(), s}));
  }
}

void RaftNode::RejectFrame(uint64_t from, const std::string& what) {
  // The frame arrived intact (the transport checked its CRC), so the peer sent it: a bug or a
  // stranger. Dropping its connection makes that visible; it dials again.
  peers_->CloseInbound(from, "dropped " + what);
}

void RaftNode::RefuseFrame(uint64_t from, const std::string& what) {
  {
    MutexLock lock(mu_);
    ++status_.peer_messages_rejected;
  }
  uint64_t suppressed = 0;
  if (refused_frame_log_.Allow(&suppressed)) {
    spdlog::warn(
        "dropped {} (peer {}){}", what, from,
        suppressed == 0 ? std::string() : " (" + std::to_string(suppressed) + " more not logged)");
  }
}

void RaftNode::HandleForwardRefusal(uint64_t from, std::string_view frame) {
  auto r = DecodeForwardRefusalFrame(frame);
  if (!r.ok()) {
    RejectFrame(from, "a forward refusal that does not decode: " + r.status().ToString());
    return;
  }
  const uint64_t request_id = r->envelope.request_id;
  if (r->envelope.origin != options_.id || request_id == 0) {
    RejectFrame(from, "a forward refusal for another node's write");
    return;
  }
  {
    MutexLock lock(mu_);
    if (!writes_.contains(request_id)) return;  // answered already (deadline)
  }
  if (r->status.code() == StatusCode::kNotLeader) {
    // Nothing was proposed: route it again once this node may know better, at the next tick.
    refused_.push_back(Proposal{request_id, EncodeEnvelope(r->envelope)});
    return;
  }
  Fail(request_id, Unavailable("the leader could not take the write: " + r->status.ToString()));
}

void RaftNode::Route(Proposal p) {
  // The log entry shares the envelope's bytes (no copy of a big value); p keeps them for the
  // forward and hold paths below.
  Status s = raw_->Propose(p.envelope);
  if (s.ok()) return;
  if (s.code() == StatusCode::kNotLeader) {
    uint64_t leader = LeaderFromStatus(s);
    if (leader == 0) {
      // An election is under way: hold the write until a leader exists or its deadline passes.
      held_.push_back(std::move(p));
      return;
    }
    if (leader != options_.id && SendFrame(leader, ForwardFrameOf(p.envelope))) {
      return;
    }
    held_.push_back(std::move(p));
    return;
  }
  Fail(p.request_id, Unavailable("the leader could not take the write: " + s.ToString()));
}

void RaftNode::SendMessages(std::vector<raft::Message> messages) {
  {
    // A lease read answered off the loop (WaitForReadPoint) takes the published read point, and
    // /role the published lease: the read point must cover every commit and read point this node
    // tells a member of, and the lease must be dropped before a transferee is told to campaign
    // (PublishLease runs before a Ready's messages leave).
    MutexLock lock(mu_);
    for (const auto& m : messages) {
      NDS_CHECK(lease_read_index_ == 0 || (m.commit.value <= lease_read_index_ &&
                                           (m.type != raft::MessageType::kReadIndexResponse ||
                                            m.index.value <= lease_read_index_)),
                "a {} tells member {} of commit {} (index {}) beyond the published read point {}",
                raft::MessageTypeName(m.type), m.to.value, m.commit.value, m.index.value,
                lease_read_index_);
      NDS_CHECK(m.type != raft::MessageType::kTimeoutNow || lease_until_ == Clock::time_point{},
                "a transfer to member {} starts while the published lease holds", m.to.value);
    }
  }
  for (auto& m : messages) {
    uint64_t to = m.to.value;
    if (m.type == raft::MessageType::kSnapshot) {
      StartSnapshotSend(std::move(m));
      continue;
    }
    if (m.type == raft::MessageType::kHeartbeat) {
      PeerTraffic& t = peer_traffic_[to];
      t.heartbeat_round = m.round;
      t.heartbeat_sent = Now();
    }
    bool sent = SendFrame(to, EncodeRaftFrame(m));
    if (!sent && !peers_->Connected(to)) {
      raw_->ReportUnreachable(m.to);
    }
  }
}

bool RaftNode::SendFrame(uint64_t to, net::PeerPayload frame) {
  peer_traffic_[to].sent_bytes += frame.size();
  return peers_->Send(to, std::move(frame));
}

}  // namespace nds::node
