// Majority and joint-majority maths (Raft §5.2, §5.3; thesis §4.3), pure functions over sets of
// voters. Used by the leader for the commit index and the lease, and by candidates to tally votes.
// No state; thread-compatible.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "util/strong_id.h"

namespace nds::raft {

enum class VoteResult : uint8_t {
  kPending = 0,  // neither a majority of grants nor of rejections yet
  kLost,
  kWon,
};

// The largest value v such that a majority of `voters` have value(id) >= v. `voters` must be
// duplicate-free. An empty voter set returns UINT64_MAX (it agrees to anything), so that a joint
// quorum with no outgoing half reduces to the incoming majority.
uint64_t MajorityValue(const std::vector<NodeId>& voters,
                       const std::function<uint64_t(NodeId)>& value);

// The joint version: both halves must agree, so the minimum of the two majority values.
uint64_t JointMajorityValue(const std::vector<NodeId>& incoming,
                            const std::vector<NodeId>& outgoing,
                            const std::function<uint64_t(NodeId)>& value);

// The committed index of a majority config given each voter's acknowledged (match) index;
// voters missing from `acked` count as 0. Empty voters: UINT64_MAX as LogIndex.
LogIndex MajorityCommitted(const std::vector<NodeId>& voters,
                           const std::map<NodeId, LogIndex>& acked);

// Tallies votes: `votes` maps voter -> granted; voters absent have not answered. Ids in `votes`
// that are not voters are ignored. An empty voter set wins.
VoteResult MajorityVoteResult(const std::vector<NodeId>& voters,
                              const std::map<NodeId, bool>& votes);

// Joint: won when both halves win, lost when either loses, else pending.
VoteResult JointVoteResult(const std::vector<NodeId>& incoming, const std::vector<NodeId>& outgoing,
                           const std::map<NodeId, bool>& votes);

}  // namespace nds::raft
