// The few functions of the Node interface's types (node.h).
#include "node/node.h"

namespace nds::node {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kLeader:
      return "leader";
    case Role::kFollower:
      return "follower";
    case Role::kCandidate:
      return "candidate";
    case Role::kLearner:
      return "learner";
    case Role::kRemoved:
      return "removed";
  }
  return "unknown";
}

}  // namespace nds::node
