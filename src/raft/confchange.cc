// Single-server membership changes: encoding, validation and application (docs/raft.md).
#include "raft/confchange.h"

#include <algorithm>

#include <fmt/format.h>

#include "util/coding.h"

namespace nds::raft {

namespace {

bool Contains(const std::vector<NodeId>& v, NodeId id) {
  return std::binary_search(v.begin(), v.end(), id);
}

void Insert(std::vector<NodeId>* v, NodeId id) {
  auto it = std::lower_bound(v->begin(), v->end(), id);
  if (it == v->end() || *it != id) v->insert(it, id);
}

void Erase(std::vector<NodeId>* v, NodeId id) {
  auto it = std::lower_bound(v->begin(), v->end(), id);
  if (it != v->end() && *it == id) v->erase(it);
}

std::string_view TypeName(ConfChangeType t) {
  switch (t) {
    case ConfChangeType::kAddVoter:
      return "add-voter";
    case ConfChangeType::kAddLearner:
      return "add-learner";
    case ConfChangeType::kRemoveNode:
      return "remove";
  }
  return "unknown";
}

}  // namespace

std::string ToString(const ConfChange& cc) {
  return fmt::format("{} {}", TypeName(cc.type), cc.node);
}

std::string EncodeConfChange(const ConfChange& cc) {
  std::string out;
  PutVarint64(&out, static_cast<uint64_t>(cc.type));
  PutVarint64(&out, cc.node.value);
  return out;
}

Result<ConfChange> DecodeConfChange(std::string_view data) {
  Decoder d(data);
  auto type = d.Varint64();
  if (!type.ok()) return Corruption("conf change: truncated type");
  auto node = d.Varint64();
  if (!node.ok()) return Corruption("conf change: truncated node id");
  if (!d.done()) return Corruption(fmt::format("conf change: {} trailing bytes", d.remaining()));
  if (*type > static_cast<uint64_t>(ConfChangeType::kRemoveNode)) {
    return Corruption(fmt::format("conf change: unknown type {}", *type));
  }
  return ConfChange{static_cast<ConfChangeType>(*type), NodeId(*node)};
}

bool IsVoter(const ConfState& cs, NodeId id) {
  return Contains(cs.voters, id) || Contains(cs.voters_outgoing, id);
}

bool IsMember(const ConfState& cs, NodeId id) {
  return IsVoter(cs, id) || Contains(cs.learners, id);
}

Status ValidateConfChange(const ConfState& cs, const ConfChange& cc) {
  if (cc.node == kNoNode) return InvalidArgument("conf change: node id 0");
  if (!cs.voters_outgoing.empty()) {
    return FailedPrecondition("conf change: joint configurations are not supported");
  }
  const bool voter = Contains(cs.voters, cc.node);
  const bool learner = Contains(cs.learners, cc.node);
  switch (cc.type) {
    case ConfChangeType::kAddVoter:
      if (voter) return AlreadyExists(fmt::format("conf change: {} is already a voter", cc.node));
      return Status::Ok();
    case ConfChangeType::kAddLearner:
      if (learner) {
        return AlreadyExists(fmt::format("conf change: {} is already a learner", cc.node));
      }
      if (voter) {
        return FailedPrecondition(
            fmt::format("conf change: demoting voter {} to learner is not supported", cc.node));
      }
      return Status::Ok();
    case ConfChangeType::kRemoveNode:
      if (!voter && !learner) {
        return NotFound(fmt::format("conf change: {} is not a member", cc.node));
      }
      if (voter && cs.voters.size() == 1) {
        return FailedPrecondition("conf change: cannot remove the last voter");
      }
      return Status::Ok();
  }
  return InvalidArgument("conf change: unknown type");
}

ConfState ApplyConfChange(const ConfState& cs, const ConfChange& cc) {
  ConfState out = cs;
  switch (cc.type) {
    case ConfChangeType::kAddVoter:
      Erase(&out.learners, cc.node);
      Insert(&out.voters, cc.node);
      break;
    case ConfChangeType::kAddLearner:
      if (!Contains(out.voters, cc.node)) Insert(&out.learners, cc.node);
      break;
    case ConfChangeType::kRemoveNode:
      if (out.voters.size() == 1 && out.voters[0] == cc.node) break;  // never empty the voters
      Erase(&out.voters, cc.node);
      Erase(&out.learners, cc.node);
      break;
  }
  return out;
}

}  // namespace nds::raft
