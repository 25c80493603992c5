// LocalNode: a node that is its own whole cluster, applying each write to the engine durably
// (fsync'd) before answering. Writes are queued to one apply thread, which applies everything
// queued since its last write as one engine batch with one fsync (group commit).
//
// Owns its apply thread; thread-safe. Stop() (or the destructor) finishes queued writes first.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "node/node.h"
#include "util/limits.h"
#include "util/thread_annotations.h"

namespace nds::node {

struct LocalNodeOptions {
  uint64_t id = 1;
  std::string name = "node1";
  std::string cluster_id;
  std::string api_address;
  std::string peer_address;
  Limits limits;
  // Commands applied in one engine batch at most; bytes likewise.
  size_t apply_batch_commands_max = 1024;
  size_t apply_batch_bytes_max = 32 << 20;
};

class LocalNode final : public Node {
 public:
  // Takes ownership of `engine`. Starts the apply thread.
  LocalNode(std::unique_ptr<engine::Engine> engine, LocalNodeOptions options);
  ~LocalNode() override;

  void Submit(store::Command cmd, SubmitCallback done) override;
  void WaitForReadPoint(ReadCallback done) override;
  const engine::Engine& engine() const override { return *engine_; }
  void TransferLeadership(uint64_t to, ReadCallback done) override;
  NodeStatus GetStatus() const override;
  std::vector<MemberInfo> Members() const override;

  // Applies what is queued, then stops the apply thread. Later Submits get kUnavailable.
  void Stop();

 private:
  struct Pending {
    store::Command cmd;
    SubmitCallback done;
    // A write still queued at this time is answered kUnavailable and never applied.
    std::chrono::steady_clock::time_point deadline;
  };

  void ApplyLoop();
  void ApplyBatch(std::deque<Pending>& batch);

  std::unique_ptr<engine::Engine> engine_;
  const LocalNodeOptions options_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Pending> queue_ NDS_GUARDED_BY(mu_);
  size_t queued_bytes_ NDS_GUARDED_BY(mu_) = 0;
  bool stopping_ NDS_GUARDED_BY(mu_) = false;
  std::thread apply_thread_;
};

}  // namespace nds::node
