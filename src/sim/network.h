// The simulated network between the nodes of a simulated cluster: every peer frame (node/
// raft_codec.h: Raft messages, forwarded writes, snapshot chunks, ...) travels through it. It
// drops, duplicates, delays and thereby reorders messages, all decided by its own seeded Rng, and
// it can cut directed links (partitions: symmetric, one-way, and the link-by-link
// "swizzle-clogging" that sim/simulation.cc drives). Time is the simulator's logical tick.
//
// Owned by the Cluster; not thread-safe (the simulator is single-threaded).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "raft/types.h"
#include "sim/rng.h"

namespace nds::sim {

// One frame in flight from one node to another.
struct Packet {
  NodeId from;
  NodeId to;
  std::string frame;
};

struct NetworkOptions {
  uint64_t drop_per_million = 0;
  uint64_t duplicate_per_million = 0;
  // Every message takes a delay drawn from [delay_ticks_min, delay_ticks_max] (>= 1: a message is
  // never delivered in the tick it was sent), or, with long_delay_per_million, from
  // (delay_ticks_max, long_delay_ticks_max].
  uint64_t delay_ticks_min = 1;
  uint64_t delay_ticks_max = 2;
  uint64_t long_delay_per_million = 0;
  uint64_t long_delay_ticks_max = 20;
  // Messages in flight at once; beyond it new messages are dropped (and counted).
  size_t in_flight_max = 20'000;
};

struct NetworkStats {
  uint64_t sent = 0;
  uint64_t delivered = 0;
  uint64_t dropped_random = 0;
  uint64_t dropped_cut = 0;
  uint64_t dropped_overflow = 0;
  uint64_t duplicated = 0;
};

class Network {
 public:
  Network(const NetworkOptions& options, Rng rng);

  // Replaces the fault options (e.g. the calm phase at the end of a run). Messages in flight keep
  // their delivery times.
  void SetOptions(const NetworkOptions& options) { options_ = options; }
  const NetworkOptions& options() const { return options_; }

  // Puts `m` in flight from m.from to m.to, at logical time `now_ticks`. Dropped at once when the
  // link is cut, by chance, or when in_flight_max messages are in flight.
  void Send(Packet m, uint64_t now_ticks);

  // Removes and returns the messages due at or before `now_ticks`, ordered by delivery time and
  // then by the order they were sent. A message whose link is cut now is dropped instead.
  std::vector<Packet> TakeDue(uint64_t now_ticks);

  // Directed links. Cutting a cut link or healing a healthy one does nothing.
  void Cut(NodeId from, NodeId to) { cut_.insert({from, to}); }
  void Heal(NodeId from, NodeId to) { cut_.erase({from, to}); }
  void HealAll() { cut_.clear(); }
  bool IsCut(NodeId from, NodeId to) const { return cut_.count({from, to}) > 0; }
  // The cut links, sorted.
  std::vector<std::pair<NodeId, NodeId>> CutLinks() const { return {cut_.begin(), cut_.end()}; }

  size_t in_flight() const { return in_flight_.size(); }
  const NetworkStats& stats() const { return stats_; }

 private:
  uint64_t DrawDelayTicks();

  NetworkOptions options_;
  Rng rng_;
  // Keyed by (delivery tick, send sequence number): the iteration order is the delivery order.
  std::map<std::pair<uint64_t, uint64_t>, Packet> in_flight_;
  uint64_t next_sequence_ = 0;
  std::set<std::pair<NodeId, NodeId>> cut_;
  NetworkStats stats_;
};

}  // namespace nds::sim
