// The lease keeper's clocks and expiry decisions (lease_clocks.h).
#include "api/lease_clocks.h"

namespace nds::api {

std::vector<LeaseClocks::Expiry> LeaseClocks::Observe(
    bool leader, uint64_t term, Clock::time_point now,
    const std::vector<store::LeaseSummary>& leases) {
  // A node that has just become leader (or leads in a new term) trusts no clock it kept before:
  // the old leader may have seen keepalives it has not applied yet.
  const bool restart = leader && leader_term_ != term;
  leader_term_ = leader ? std::optional<uint64_t>(term) : std::nullopt;
  std::map<uint64_t, LeaseClock> next;
  for (const store::LeaseSummary& lease : leases) {
    auto old = clocks_.find(lease.id);
    LeaseClock clock;
    if (old != clocks_.end() && old->second.keepalive_index == lease.keepalive_index) {
      clock = old->second;
    } else {
      clock.keepalive_index = lease.keepalive_index;
      clock.started = now;
    }
    clock.ttl_ms = lease.ttl_ms;
    if (restart) clock.started = now;
    next.emplace(lease.id, clock);
  }
  clocks_ = std::move(next);
  in_flight_ = 0;
  for (const auto& [id, clock] : clocks_) in_flight_ += clock.in_flight ? 1 : 0;
  std::vector<Expiry> due;
  if (!leader) return due;
  for (auto& [id, clock] : clocks_) {
    if (in_flight_ >= expiries_max_) break;
    if (clock.in_flight || now - clock.started < std::chrono::milliseconds(clock.ttl_ms)) continue;
    clock.in_flight = true;
    ++in_flight_;
    due.push_back(Expiry{id, clock.keepalive_index});
  }
  return due;
}

void LeaseClocks::Settled(uint64_t id) {
  auto it = clocks_.find(id);
  if (it == clocks_.end() || !it->second.in_flight) return;
  it->second.in_flight = false;
  --in_flight_;
}

std::optional<std::chrono::milliseconds> LeaseClocks::Remaining(uint64_t id,
                                                                Clock::time_point now) const {
  auto it = clocks_.find(id);
  if (it == clocks_.end()) return std::nullopt;
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(now - it->second.started);
  auto ttl = std::chrono::milliseconds(it->second.ttl_ms);
  return elapsed >= ttl ? std::chrono::milliseconds(0) : ttl - elapsed;
}

}  // namespace nds::api
