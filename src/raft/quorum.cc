// Majority maths: sort the voters' values and take the one a majority reaches.
#include "raft/quorum.h"

#include <algorithm>
#include <limits>

namespace nds::raft {

uint64_t MajorityValue(const std::vector<NodeId>& voters,
                       const std::function<uint64_t(NodeId)>& value) {
  if (voters.empty()) return std::numeric_limits<uint64_t>::max();
  std::vector<uint64_t> values;
  values.reserve(voters.size());
  for (NodeId id : voters) values.push_back(value(id));
  // Descending: values[q-1] is reached by the q largest, where q = n/2 + 1 is a majority.
  std::sort(values.begin(), values.end(), std::greater<uint64_t>());
  const size_t quorum = voters.size() / 2 + 1;
  return values[quorum - 1];
}

uint64_t JointMajorityValue(const std::vector<NodeId>& incoming,
                            const std::vector<NodeId>& outgoing,
                            const std::function<uint64_t(NodeId)>& value) {
  return std::min(MajorityValue(incoming, value), MajorityValue(outgoing, value));
}

LogIndex MajorityCommitted(const std::vector<NodeId>& voters,
                           const std::map<NodeId, LogIndex>& acked) {
  return LogIndex(MajorityValue(voters, [&acked](NodeId id) -> uint64_t {
    auto it = acked.find(id);
    return it == acked.end() ? 0 : it->second.value;
  }));
}

VoteResult MajorityVoteResult(const std::vector<NodeId>& voters,
                              const std::map<NodeId, bool>& votes) {
  if (voters.empty()) return VoteResult::kWon;
  size_t granted = 0;
  size_t missing = 0;
  for (NodeId id : voters) {
    auto it = votes.find(id);
    if (it == votes.end()) {
      ++missing;
    } else if (it->second) {
      ++granted;
    }
  }
  const size_t quorum = voters.size() / 2 + 1;
  if (granted >= quorum) return VoteResult::kWon;
  if (granted + missing >= quorum) return VoteResult::kPending;
  return VoteResult::kLost;
}

VoteResult JointVoteResult(const std::vector<NodeId>& incoming, const std::vector<NodeId>& outgoing,
                           const std::map<NodeId, bool>& votes) {
  VoteResult a = MajorityVoteResult(incoming, votes);
  VoteResult b = MajorityVoteResult(outgoing, votes);
  if (a == b) return a;
  if (a == VoteResult::kLost || b == VoteResult::kLost) return VoteResult::kLost;
  return VoteResult::kPending;
}

}  // namespace nds::raft
