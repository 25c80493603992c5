// RaftNode: a node::Node whose writes go through the Raft core (raft::RawNode) and the durable
// Raft log (wal::Wal) before the apply loop applies them to the engine. This first step runs a
// ONE-node cluster (Bootstrap({id}) on an empty log); peers, forwarding and membership come later
// (docs/cluster.md says what is done and what is left).
//
// Owns its raft loop thread, the RawNode, the Wal and the engine. Thread-safe: Submit,
// WaitForReadPoint, GetStatus and Members may be called from any thread; completions run on the
// raft loop thread and must not block.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "node/node.h"
#include "raft/raw_node.h"
#include "util/limits.h"
#include "util/thread_annotations.h"
#include "wal/wal.h"

namespace nds::node {

struct RaftNodeOptions {
  uint64_t id = 1;
  std::string name = "node1";
  std::string cluster_id;
  std::string api_address;
  std::string peer_address;
  // The data directory: the Raft log lives in DIR/wal (and DIR/snap).
  std::string data_dir;
  Limits limits;
};

class RaftNode final : public Node {
 public:
  // Opens the Wal in options.data_dir, creates the RawNode (Config.applied = the engine's applied
  // index), bootstraps a one-node cluster when the log is empty, and starts the raft loop thread.
  // Errors from the Wal or the core are returned as they are.
  static Result<std::unique_ptr<RaftNode>> Open(std::unique_ptr<engine::Engine> engine,
                                                RaftNodeOptions options);
  ~RaftNode() override;

  void Submit(store::Command cmd, SubmitCallback done) override;
  void WaitForReadPoint(ReadCallback done) override;
  const engine::Engine& engine() const override { return *engine_; }
  NodeStatus GetStatus() const override;
  std::vector<MemberInfo> Members() const override;

  // Stops the raft loop; writes and reads still waiting are answered kUnavailable.
  void Stop();

 private:
  struct PendingWrite {
    SubmitCallback done;
    std::chrono::steady_clock::time_point deadline;
  };
  struct PendingRead {
    ReadCallback done;
    std::chrono::steady_clock::time_point deadline;
  };
  struct Proposal {
    uint64_t request_id = 0;
    std::string envelope;  // an encoded Envelope
  };

  RaftNode(std::unique_ptr<engine::Engine> engine, std::unique_ptr<wal::Wal> wal,
           RaftNodeOptions options);
  void Loop();
  // Runs on the loop thread: one pass over the mailbox, the clock and the core's output.
  void Step(std::chrono::steady_clock::time_point now);
  void HandleReady();
  void ApplyCommitted(const std::vector<raft::Entry>& entries);
  void ExpireDeadlines(std::chrono::steady_clock::time_point now);
  void FailAll(const Status& s);

  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<wal::Wal> wal_;
  const RaftNodeOptions options_;
  std::unique_ptr<raft::RawNode> raw_;  // loop thread only (after Open)

  // Loop-thread state.
  std::chrono::steady_clock::time_point last_tick_;
  uint64_t read_seq_ = 0;
  std::deque<Proposal> held_;  // refused while no leader was known; retried every pass
  std::map<uint64_t, std::deque<PendingRead>> reads_in_flight_;  // read context seq -> reads
  std::deque<std::pair<uint64_t, std::deque<PendingRead>>> reads_ready_;  // (index, reads)

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ NDS_GUARDED_BY(mu_) = false;
  uint64_t next_request_id_ NDS_GUARDED_BY(mu_) = 1;
  std::deque<Proposal> proposals_ NDS_GUARDED_BY(mu_);
  std::deque<PendingRead> new_reads_ NDS_GUARDED_BY(mu_);
  std::map<uint64_t, PendingWrite> writes_ NDS_GUARDED_BY(mu_);
  NodeStatus status_ NDS_GUARDED_BY(mu_);
  std::thread loop_thread_;
};

}  // namespace nds::node
