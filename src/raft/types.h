// Plain value types of the Raft core that cross its edges: log entries, the hard state, the
// membership configuration and snapshot metadata. No protobuf here (STYLE.md §1): the WAL and
// the peer transport encode these at their edges. Messages between peers live in messages.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/shared_bytes.h"
#include "util/strong_id.h"

namespace nds::raft {

enum class EntryType : uint8_t {
  kNormal = 0,      // data is an opaque client command (store/ decodes it); empty = leader no-op
  kConfChange = 1,  // data is an encoded ConfChange (raft/confchange.h)
};

struct Entry {
  Term term;
  LogIndex index;
  EntryType type = EntryType::kNormal;
  SharedBytes data;  // copies of an entry share its data (util/shared_bytes.h)

  bool operator==(const Entry&) const = default;
};

// What must be durable before a node answers a vote or acknowledges an append (Raft §5.1, §5.2).
struct HardState {
  Term term;
  NodeId vote;  // kNoNode when no vote was cast in `term`
  LogIndex commit;

  bool operator==(const HardState&) const = default;
  bool IsEmpty() const { return term.value == 0 && vote == kNoNode && commit.value == 0; }
};

// The membership configuration. Sorted, duplicate-free id lists. During a joint configuration
// (Raft thesis §4.3), `voters_outgoing` holds the old voters and both majorities are needed.
struct ConfState {
  std::vector<NodeId> voters;
  std::vector<NodeId> learners;
  std::vector<NodeId> voters_outgoing;
  // Learners that become voters once the joint configuration is left.
  std::vector<NodeId> learners_next;
  // Leave the joint configuration automatically once it has committed.
  bool auto_leave = false;

  bool operator==(const ConfState&) const = default;
};

struct SnapshotMetadata {
  LogIndex index;  // the last index the snapshot covers
  Term term;       // the term of that entry
  ConfState conf_state;

  bool operator==(const SnapshotMetadata&) const = default;
};

}  // namespace nds::raft
