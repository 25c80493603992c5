// LeaseClocks: the lease keeper's decisions, without threads or I/O (docs/leases.md). It is told
// the leases of this node's applied state (all at once, or as changes) and, at a time `now`, says
// which ones to expire.
//
// Each lease has a clock that (re)starts when the clocks first see it, when its keepalive index
// changes (a grant or a keepalive through the log was applied), when the leader keeps it alive in
// memory (KeepAlive), and for every lease when this node becomes leader (a new term, or
// leadership regained): a lease expires only after the leader itself has watched it go a whole
// TTL without a keepalive, so a failover never expires one early. Only the leader decides; the
// others keep clocks too, to estimate the time left (GET /leases/{id}).
// Not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "store/lease_state.h"

namespace nds::api {

class LeaseClocks {
 public:
  using Clock = std::chrono::steady_clock;

  struct Expiry {
    uint64_t id = 0;
    uint64_t keepalive_index = 0;  // what the expire command is based on (kLeaseExpire)
    bool operator==(const Expiry&) const = default;
  };

  // `expiries_max`: the most expiries in flight at once (the rest wait for a later round).
  explicit LeaseClocks(size_t expiries_max) : expiries_max_(expiries_max) {}

  // `leases`: every lease of the applied state, as store::ReadLeases returns them. A lease whose
  // keepalive index is unchanged keeps its clock; the others start theirs at `now`; the leases
  // not in `leases` are forgotten.
  void Reset(const std::vector<store::LeaseSummary>& leases, Clock::time_point now);
  // One lease of the applied state was written (granted, kept alive through the log, or its
  // record rewritten) or deleted.
  void Set(const store::LeaseSummary& lease, Clock::time_point now);
  void Remove(uint64_t id);

  // `leader` and `term`: this node's role and term now. Returns the leases to expire now (empty
  // unless leader); each stays in flight (not returned again) until Settled or its keepalive
  // index changes or it disappears.
  std::vector<Expiry> Decide(bool leader, uint64_t term, Clock::time_point now);

  // Reset, then Decide.
  std::vector<Expiry> Observe(bool leader, uint64_t term, Clock::time_point now,
                              const std::vector<store::LeaseSummary>& leases);

  // The expire command for `id` finished without deleting the lease (refused, failed, or timed
  // out): it may be decided again.
  void Settled(uint64_t id);

  // A keepalive of lease `id` that the leader of `term` keeps in memory, without the log: the
  // lease's clock restarts at `now` and its TTL is returned. std::nullopt when it must go through
  // the log instead: these clocks do not lead in `term` (Decide has not yet seen this node lead in
  // it), do not know the lease, or an expiry of the lease was decided since its keepalive index
  // last changed (that expiry may still be applied; only a keepalive in the log before it
  // defeats it).
  std::optional<uint64_t> KeepAlive(uint64_t id, uint64_t term, Clock::time_point now);

  // How long lease `id` has left by this node's clock (zero once due), or std::nullopt when these
  // clocks do not know it.
  std::optional<std::chrono::milliseconds> Remaining(uint64_t id, Clock::time_point now) const;

  size_t size() const { return clocks_.size(); }

 private:
  struct LeaseClock {
    uint64_t ttl_ms = 0;
    uint64_t keepalive_index = 0;
    Clock::time_point started;
    bool in_flight = false;
    // An expire command was submitted for this keepalive index (it may be applied still).
    bool expiry_decided = false;
  };

  const size_t expiries_max_;
  std::map<uint64_t, LeaseClock> clocks_;
  size_t in_flight_ = 0;
  // The term in which this node has led since its clocks last restarted; nullopt when not leader.
  std::optional<uint64_t> leader_term_;
};

}  // namespace nds::api
