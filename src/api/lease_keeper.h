// LeaseKeeper: the thread that expires leases (docs/leases.md). Every check interval it takes the
// changes of this node's applied leases (store::LeaseFeed: what the applier wrote since the last
// round, or every lease after a start or a snapshot), shows them to its LeaseClocks with this
// node's role and term, and submits an expire command (store::LeaseExpireCommand, based on the
// keepalive index it saw) for each lease the clocks say is due. It needs nothing from node/
// beyond node::Node. Keepalives reach it through the log, as changes of each lease's keepalive
// index, or, on the leader, in memory (KeepAlive).
//
// Thread-safe. Start() once; the destructor stops and joins the thread and waits for no command.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

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
  // Stops and joins the thread (the destructor does too); KeepAlive then keeps nothing in
  // memory. Idempotent.
  void Stop();
  // One round now (the thread calls it every check interval; tests may call it directly).
  void CheckOnce();
  // Keepalives of `ids` received by this node. On the leader, once a read point confirmed it
  // leads (so that no other node can have led since, and every entry of an earlier term is
  // applied), those its clocks may keep in memory restart their clocks there, without a log
  // entry (LeaseClocks::KeepAlive). `done` runs once, on a node thread or this one, with one TTL
  // per id in order: the TTL in ms when kept in memory, 0 when that keepalive must go through the
  // log. Never blocks.
  using KeptInMemory = std::function<void(std::vector<uint64_t> ttls_ms)>;
  void KeepAlive(std::vector<uint64_t> ids, KeptInMemory done);
  // The time lease `id` has left by this node's clock; std::nullopt when it does not know it.
  std::optional<std::chrono::milliseconds> Remaining(uint64_t id) const;

 private:
  void Run();
  struct State;
  // Brings the clocks up to the applied state (store::LeaseFeed::Take); false when the engine
  // could not be read (logged). Called with state.mu held.
  static bool Sync(State& state, const node::Node& node, LeaseClocks::Clock::time_point now);

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
