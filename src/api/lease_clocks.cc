// The lease keeper's clocks and expiry decisions (lease_clocks.h).
#include "api/lease_clocks.h"

namespace nds::api {

void LeaseClocks::Reset(const std::vector<store::LeaseSummary>& leases, Clock::time_point now) {
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
    next.emplace(lease.id, clock);
  }
  clocks_ = std::move(next);
  in_flight_ = 0;
  for (const auto& [id, clock] : clocks_) in_flight_ += clock.in_flight ? 1 : 0;
}

void LeaseClocks::Set(const store::LeaseSummary& lease, Clock::time_point now) {
  auto [it, added] = clocks_.try_emplace(lease.id);
  LeaseClock& clock = it->second;
  if (added || clock.keepalive_index != lease.keepalive_index) {
    if (clock.in_flight) --in_flight_;
    clock = LeaseClock{};
    clock.keepalive_index = lease.keepalive_index;
    clock.started = now;
  }
  clock.ttl_ms = lease.ttl_ms;
}

void LeaseClocks::Remove(uint64_t id) {
  auto it = clocks_.find(id);
  if (it == clocks_.end()) return;
  if (it->second.in_flight) --in_flight_;
  clocks_.erase(it);
}

std::vector<LeaseClocks::Expiry> LeaseClocks::Decide(bool leader, uint64_t term,
                                                     Clock::time_point now) {
  // A node that has just become leader (or leads in a new term) trusts no clock it kept before:
  // the old leader may have seen keepalives it has not applied yet, or kept them in memory.
  const bool restart = leader && leader_term_ != term;
  leader_term_ = leader ? std::optional<uint64_t>(term) : std::nullopt;
  if (restart) {
    for (auto& [id, clock] : clocks_) clock.started = now;
  }
  std::vector<Expiry> due;
  if (!leader) return due;
  for (auto& [id, clock] : clocks_) {
    if (in_flight_ >= expiries_max_) break;
    if (clock.in_flight || now - clock.started < std::chrono::milliseconds(clock.ttl_ms)) continue;
    clock.in_flight = true;
    clock.expiry_decided = true;
    ++in_flight_;
    due.push_back(Expiry{id, clock.keepalive_index});
  }
  return due;
}

std::vector<LeaseClocks::Expiry> LeaseClocks::Observe(
    bool leader, uint64_t term, Clock::time_point now,
    const std::vector<store::LeaseSummary>& leases) {
  Reset(leases, now);
  return Decide(leader, term, now);
}

void LeaseClocks::Settled(uint64_t id) {
  auto it = clocks_.find(id);
  if (it == clocks_.end() || !it->second.in_flight) return;
  it->second.in_flight = false;
  --in_flight_;
}

std::optional<uint64_t> LeaseClocks::KeepAlive(uint64_t id, uint64_t term, Clock::time_point now) {
  if (leader_term_ != term) return std::nullopt;
  auto it = clocks_.find(id);
  if (it == clocks_.end() || it->second.expiry_decided) return std::nullopt;
  it->second.started = now;
  return it->second.ttl_ms;
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
