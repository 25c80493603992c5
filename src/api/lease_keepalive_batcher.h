// KeepAliveBatcher: gathers the keepalives this node receives for a short window and submits them
// together (docs/leases.md). On the leader, the keeper keeps them in memory where it can
// (LeaseKeeper::KeepAlive: no log entry at all); the others go as one
// store::LeaseKeepAliveCommand per batch, so that 10,000 leases kept alive every second through a
// follower cost a few log entries per second, not 10,000. Each request is answered with its
// lease's TTL once kept in memory or once the command applied.
//
// Thread-safe. The destructor stops the thread; requests still gathered are answered kCancelled,
// and completions of submitted commands run as the node delivers them (the node outlives this).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "api/lease_keeper.h"
#include "node/node.h"
#include "util/status.h"

namespace nds::api {

struct KeepAliveBatcherOptions {
  std::chrono::milliseconds window{50};  // --lease-keepalive-batch-ms
  size_t ids_per_command_max = 1000;
  size_t waiting_max = 100000;  // requests gathered at once; beyond: kResourceExhausted
};

class KeepAliveBatcher {
 public:
  // The lease's TTL in ms; kNotFound when there is no such lease; the submit's error otherwise.
  using Done = std::function<void(Result<uint64_t>)>;

  // `node` must outlive the batcher, and `keeper` too (may be null: every keepalive goes through
  // the log).
  KeepAliveBatcher(node::Node* node, KeepAliveBatcherOptions options,
                   LeaseKeeper* keeper = nullptr);
  ~KeepAliveBatcher();
  KeepAliveBatcher(const KeepAliveBatcher&) = delete;
  KeepAliveBatcher& operator=(const KeepAliveBatcher&) = delete;

  void KeepAlive(uint64_t id, Done done);

 private:
  void Run();
  void Flush(std::map<uint64_t, std::vector<Done>> batch);

  node::Node* node_;
  const KeepAliveBatcherOptions options_;
  LeaseKeeper* keeper_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  size_t waiting_ = 0;
  std::map<uint64_t, std::vector<Done>> gathered_;
  std::thread thread_;
};

}  // namespace nds::api
