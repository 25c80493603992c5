// LeaseKeeper: the thread that expires leases (docs/leases.md). Every check interval it reads the
// leases of this node's applied state, shows them to its LeaseClocks with this node's role and
// term, and submits an expire command (store::LeaseExpireCommand, based on the keepalive index it
// saw) for each lease the clocks say is due. It needs nothing from node/ beyond node::Node: the
// keepalives reach it through the log, as changes of each lease's keepalive index.
//
// Thread-safe. Start() once; the destructor stops and joins the thread and waits for no command.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "api/lease_clocks.h"
#include "node/node.h"

namespace nds::api {

struct LeaseKeeperOptions {
  std::chrono::milliseconds check_interval{100};  // --lease-check-interval-ms
  size_t expiries_in_flight_max = 256;
};

class LeaseKeeper {
 public:
  // `node` must outlive the keeper.
  LeaseKeeper(node::Node* node, LeaseKeeperOptions options);
  ~LeaseKeeper();
  LeaseKeeper(const LeaseKeeper&) = delete;
  LeaseKeeper& operator=(const LeaseKeeper&) = delete;

  void Start();
  // One round now (the thread calls it every check interval; tests may call it directly).
  void CheckOnce();
  // The time lease `id` has left by this node's clock; std::nullopt when it does not know it.
  std::optional<std::chrono::milliseconds> Remaining(uint64_t id) const;

 private:
  void Run();

  node::Node* node_;
  const LeaseKeeperOptions options_;
  // Shared with the completions of expire commands, which may outlive a round.
  struct State {
    mutable std::mutex mu;
    LeaseClocks clocks;
    explicit State(size_t expiries_max) : clocks(expiries_max) {}
  };
  std::shared_ptr<State> state_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace nds::api
