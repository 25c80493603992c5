// The messages Raft peers exchange, and the small value types the core hands to its driver
// (node/ or the simulator): soft state, read states. Plain structs, printable for traces; the peer
// transport encodes them at its edge (STYLE.md §1). Entries, hard state and snapshot metadata are
// in raft/types.h.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "raft/types.h"

namespace nds::raft {

enum class MessageType : uint8_t {
  kVote = 0,      // candidate -> voter: RequestVote (Raft §5.2)
  kVoteResponse,  // reject = vote refused
  kPreVote,  // pre-candidate -> voter, for term+1 without changing anyone's term (thesis §9.6)
  kPreVoteResponse,    //
  kAppend,             // leader -> follower: AppendEntries (§5.3); index/log_term = previous entry
  kAppendResponse,     // index = last index matched (or the rejected index when reject)
  kHeartbeat,          // leader -> follower: commit index and lease round, no entries
  kHeartbeatResponse,  // echoes the round; lets the leader count lease and ReadIndex acks
  kSnapshot,           // leader -> follower: `snapshot` metadata; see docs/raft.md "Snapshots"
  kTimeoutNow,         // leader -> transfer target: campaign now, ignoring leader stickiness
  kReadIndex,          // follower -> leader: please confirm a read point for `context`
  kReadIndexResponse,  // leader -> follower: `index` is the read point for `context`
  kTransferLeader,     // follower -> leader: please transfer leadership to `transferee`
};

// Returns "kAppend" etc.; valid for the program's lifetime.
std::string_view MessageTypeName(MessageType type);

// True for kVote/kPreVote and their responses (messages whose term may be ahead of the receiver's
// without meaning that a leader exists at that term).
bool IsVoteMessage(MessageType type);

// True when the message may only be sent after the hard state and entries of the Ready that carried
// it are durable (STYLE.md §7). Every message a leader sends to replicate (kAppend, kHeartbeat,
// kSnapshot, kTimeoutNow) may go out before the leader's own fsync; everything else may not.
bool MessageNeedsDurableState(MessageType type);

struct Message {
  MessageType type = MessageType::kAppend;
  NodeId from;
  NodeId to;
  Term term;  // the sender's term (0 for local messages)
  // kAppend: term and index of the entry preceding `entries`. kVote/kPreVote: the candidate's last
  // log term and index. kAppendResponse: the last index matched, or the index rejected.
  Term log_term;
  LogIndex index;
  std::vector<Entry> entries;
  LogIndex commit;
  bool reject = false;
  // kAppendResponse with reject: the follower's hint of where to probe next (fast back-off,
  // thesis §5.3 / etcd findConflictByTerm): index and the term of the follower's entry there.
  LogIndex reject_hint;
  Term reject_term_hint;
  SnapshotMetadata snapshot;  // kSnapshot only
  // kReadIndex/kReadIndexResponse: the caller's read request id (opaque to the core).
  // kVote/kPreVote: "transfer" when the campaign was started by kTimeoutNow (forced).
  std::string context;
  // kHeartbeat/kHeartbeatResponse: the leader's heartbeat round number (lease and ReadIndex acks).
  uint64_t round = 0;
  // kTransferLeader: the node that should become leader.
  NodeId transferee;

  bool operator==(const Message&) const = default;
};

// One-line human-readable form for traces and scenario tests; entry data is shown abbreviated.
std::string ToString(const Message& m);
std::string ToString(const Entry& e);
std::string ToString(const HardState& hs);
std::string ToString(const ConfState& cs);

enum class Role : uint8_t { kFollower = 0, kPreCandidate, kCandidate, kLeader };
std::string_view RoleName(Role role);

// Volatile state the driver may want to observe; never needs to be persisted.
struct SoftState {
  NodeId leader;  // kNoNode when unknown
  Role role = Role::kFollower;

  bool operator==(const SoftState&) const = default;
};

// A confirmed read point: once the applied index reaches `index`, a read issued with `context`
// (via RawNode::ReadIndex) is linearizable (thesis §6.4).
struct ReadState {
  LogIndex index;
  std::string context;

  bool operator==(const ReadState&) const = default;
};

}  // namespace nds::raft
