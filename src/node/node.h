// The replica as api/ sees it: submit a write and learn its outcome and revision, wait for a
// linearizable read point, read the engine, ask for status and membership. api/ knows nothing of
// Raft; its implementation is RaftNode (node/raft_node.h).
//
// Threading: every method is thread-safe and none blocks on I/O; completions run on an internal
// thread and must not block either.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "node/node_metrics.h"
#include "store/applier.h"
#include "store/command.h"
#include "store/lease_feed.h"
#include "store/token_cache.h"
#include "util/status.h"

namespace nds::node {

// kRemoved: this node was removed from its cluster (it serves no data any more).
enum class Role { kLeader, kFollower, kCandidate, kLearner, kRemoved };

// What a node removed from its cluster answers (kRemoved) to every write and read.
inline constexpr std::string_view kRemovedMessage =
    "this node was removed from its cluster and serves no data; to add it back, stop it, move its "
    "--data directory away, and start it with an empty --data and --join ADDR of a member";
std::string_view RoleName(Role role);  // "leader", "follower", ...

struct NodeStatus {
  uint64_t id = 0;
  std::string name;
  std::string cluster_id;
  Role role = Role::kFollower;
  // True only on the leader while it holds a valid leader lease: /role answers "goose".
  bool has_lease = false;
  uint64_t term = 0;
  uint64_t leader_id = 0;
  uint64_t commit_index = 0;
  uint64_t applied_index = 0;
  // Knows a leader and has applied what it knows to be committed (/readyz).
  bool ready = false;
  std::string engine;  // "rocksdb" or "memory"
  // Reads served from the leader lease (--lease-reads) since start: a loop batch counts once.
  uint64_t lease_read_batches = 0;
  // Peer frames dropped because their sender is not a member or a Raft message claims another
  // sender or receiver than its authenticated connection (/metrics), since start.
  uint64_t peer_messages_rejected = 0;
};

struct MemberInfo {
  uint64_t id = 0;
  std::string name;
  std::string peer_address;
  std::string api_address;
  bool voter = true;
  bool reachable = true;  // as seen from the leader
  uint64_t behind = 0;    // entries behind the leader's last index
  // Peer traffic as this node sees it: bytes of frames it handed to the transport for the member
  // since it started, and the time its last answered heartbeat to the member took (-1: none yet;
  // only a leader sends heartbeats).
  uint64_t sent_bytes = 0;
  double round_trip_seconds = -1;
};

using SubmitCallback = std::function<void(store::ApplyResult)>;
using ReadCallback = std::function<void(Status)>;

class Node {
 public:
  virtual ~Node() = default;

  // Orders `cmd` after every write submitted before it and applies it. `done` runs exactly once
  // with the outcome: ok with the revision; a failed precondition (kNotFound, kAlreadyExists,
  // kFailedPrecondition); kUnavailable when too many writes are in flight (nothing done);
  // kNoSpace when it could not be made durable (nothing done); kUnavailable when it could not
  // commit within the request timeout (it may still take effect later).
  virtual void Submit(store::Command cmd, SubmitCallback done) = 0;

  // Runs `done` once every write acknowledged before this call is visible in engine(): ok, or
  // kUnavailable (no quorum within the request timeout), kResourceExhausted (too many reads wait).
  virtual void WaitForReadPoint(ReadCallback done) = 0;

  // The state machine. Read-only for api/; valid for the node's lifetime.
  virtual const engine::Engine& engine() const = 0;
  // The token records of engine(), cached (store/token_cache.h); thread-safe, kept true by the
  // node as it applies entries and installs snapshots.
  virtual store::TokenCache& token_cache() const = 0;
  // The lease records the node applies, as changes (store/lease_feed.h), for the lease keeper;
  // kept true by the node as it applies entries and installs snapshots.
  virtual store::LeaseFeed& lease_feed() const = 0;

  // Hands leadership to voter `to`: ok once `to` leads; kNotFound when `to` is not a voter;
  // kUnavailable when it did not happen within the request timeout.
  virtual void TransferLeadership(uint64_t to, ReadCallback done) = 0;

  virtual NodeStatus GetStatus() const = 0;
  virtual std::vector<MemberInfo> Members() const = 0;
  // Counters and histograms for /metrics; valid for the node's lifetime.
  virtual const NodeMetrics& metrics() const = 0;
};

}  // namespace nds::node
