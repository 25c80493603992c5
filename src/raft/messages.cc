// Names and trace formatting of messages and the value types of raft/types.h.
#include "raft/messages.h"

#include <fmt/format.h>

namespace nds::raft {

std::string_view MessageTypeName(MessageType type) {
  switch (type) {
    case MessageType::kVote:
      return "kVote";
    case MessageType::kVoteResponse:
      return "kVoteResponse";
    case MessageType::kPreVote:
      return "kPreVote";
    case MessageType::kPreVoteResponse:
      return "kPreVoteResponse";
    case MessageType::kAppend:
      return "kAppend";
    case MessageType::kAppendResponse:
      return "kAppendResponse";
    case MessageType::kHeartbeat:
      return "kHeartbeat";
    case MessageType::kHeartbeatResponse:
      return "kHeartbeatResponse";
    case MessageType::kSnapshot:
      return "kSnapshot";
    case MessageType::kTimeoutNow:
      return "kTimeoutNow";
    case MessageType::kReadIndex:
      return "kReadIndex";
    case MessageType::kReadIndexResponse:
      return "kReadIndexResponse";
    case MessageType::kTransferLeader:
      return "kTransferLeader";
  }
  return "kUnknown";
}

bool IsVoteMessage(MessageType type) {
  return type == MessageType::kVote || type == MessageType::kVoteResponse ||
         type == MessageType::kPreVote || type == MessageType::kPreVoteResponse;
}

bool MessageNeedsDurableState(MessageType type) {
  switch (type) {
    case MessageType::kAppend:
    case MessageType::kHeartbeat:
    case MessageType::kSnapshot:
    case MessageType::kTimeoutNow:
      return false;
    default:
      return true;
  }
}

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kFollower:
      return "follower";
    case Role::kPreCandidate:
      return "pre-candidate";
    case Role::kCandidate:
      return "candidate";
    case Role::kLeader:
      return "leader";
  }
  return "unknown";
}

namespace {

std::string Ids(const std::vector<NodeId>& ids) {
  std::string out = "(";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ' ';
    out += fmt::format("{}", ids[i]);
  }
  return out + ")";
}

}  // namespace

std::string ToString(const Entry& e) {
  std::string data =
      e.data.size() <= 16 ? e.data.str() : std::string(e.data.view().substr(0, 16)) + "...";
  return fmt::format("{}/{}{} {:?}", e.term, e.index,
                     e.type == EntryType::kConfChange ? " conf" : "", data);
}

std::string ToString(const HardState& hs) {
  return fmt::format("term={} vote={} commit={}", hs.term, hs.vote, hs.commit);
}

std::string ToString(const ConfState& cs) {
  std::string out = fmt::format("voters={}", Ids(cs.voters));
  if (!cs.learners.empty()) out += fmt::format(" learners={}", Ids(cs.learners));
  if (!cs.voters_outgoing.empty()) out += fmt::format(" outgoing={}", Ids(cs.voters_outgoing));
  return out;
}

std::string ToString(const Message& m) {
  std::string out = fmt::format("{}->{} {} term={}", m.from, m.to, MessageTypeName(m.type), m.term);
  switch (m.type) {
    case MessageType::kAppend:
      out += fmt::format(" prev={}/{} commit={}", m.log_term, m.index, m.commit);
      if (!m.entries.empty()) {
        out += " [";
        for (size_t i = 0; i < m.entries.size(); ++i) {
          if (i > 0) out += ", ";
          out += ToString(m.entries[i]);
        }
        out += "]";
      }
      break;
    case MessageType::kAppendResponse:
      out += fmt::format(" index={}", m.index);
      if (m.reject) out += fmt::format(" reject hint={}/{}", m.reject_term_hint, m.reject_hint);
      break;
    case MessageType::kVote:
    case MessageType::kPreVote:
      out += fmt::format(" last={}/{}", m.log_term, m.index);
      if (!m.context.empty()) out += fmt::format(" ctx={}", m.context);
      break;
    case MessageType::kVoteResponse:
    case MessageType::kPreVoteResponse:
      out += m.reject ? " rejected" : " granted";
      break;
    case MessageType::kHeartbeat:
      out += fmt::format(" commit={} round={}", m.commit, m.round);
      break;
    case MessageType::kHeartbeatResponse:
      out += fmt::format(" round={}", m.round);
      break;
    case MessageType::kSnapshot:
      out += fmt::format(" snap={}/{} {}", m.snapshot.term, m.snapshot.index,
                         ToString(m.snapshot.conf_state));
      break;
    case MessageType::kReadIndex:
      out += fmt::format(" ctx={}", m.context);
      break;
    case MessageType::kReadIndexResponse:
      out += fmt::format(" index={} ctx={}{}", m.index, m.context, m.reject ? " rejected" : "");
      break;
    case MessageType::kTransferLeader:
      out += fmt::format(" transferee={}", m.transferee);
      break;
    case MessageType::kTimeoutNow:
      break;
  }
  return out;
}

}  // namespace nds::raft
