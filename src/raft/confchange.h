// Membership changes: the ConfChange command, its encoding inside a kConfChange log entry, and
// the pure functions that validate and apply one to a ConfState. We use single-server changes
// (Raft thesis §4.1), one at a time; the safety argument is in docs/raft.md "Membership".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "raft/types.h"
#include "util/status.h"

namespace nds::raft {

enum class ConfChangeType : uint8_t {
  kAddVoter = 0,  // add a new voter, or promote a learner to voter
  kAddLearner = 1,
  kRemoveNode = 2,
};

struct ConfChange {
  ConfChangeType type = ConfChangeType::kAddVoter;
  NodeId node;

  bool operator==(const ConfChange&) const = default;
};

std::string ToString(const ConfChange& cc);

// Encoding stored as the data of a kConfChange entry: varint type, varint node id.
std::string EncodeConfChange(const ConfChange& cc);
// kCorruption when `data` is truncated, has trailing bytes or an unknown type.
Result<ConfChange> DecodeConfChange(std::string_view data);

// Ok when `cc` may be applied to `cs`: node != kNoNode; cs is not joint; removing the last voter is
// refused; a change that would be a no-op is refused (kAlreadyExists / kNotFound) so that a client
// learns its change did nothing. kFailedPrecondition for a demotion of a voter to learner.
Status ValidateConfChange(const ConfState& cs, const ConfChange& cc);

// Applies `cc` to `cs` and returns the result, lists kept sorted. Total (never fails): a change
// that is a no-op leaves `cs` unchanged, so a replay after restart is idempotent.
ConfState ApplyConfChange(const ConfState& cs, const ConfChange& cc);

// True when `id` is a voter (incoming or outgoing) or a learner of `cs`.
bool IsMember(const ConfState& cs, NodeId id);
bool IsVoter(const ConfState& cs, NodeId id);

}  // namespace nds::raft
