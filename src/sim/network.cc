// The simulated network: random drop, duplication and delay; directed link cuts (see network.h).
#include "sim/network.h"

#include <utility>

#include "util/check.h"

namespace nds::sim {

Network::Network(const NetworkOptions& options, Rng rng) : options_(options), rng_(rng) {
  NDS_CHECK(options.delay_ticks_min >= 1);
  NDS_CHECK(options.delay_ticks_min <= options.delay_ticks_max);
  NDS_CHECK(options.delay_ticks_max <= options.long_delay_ticks_max);
}

uint64_t Network::DrawDelayTicks() {
  if (options_.long_delay_per_million > 0 && rng_.Chance(options_.long_delay_per_million) &&
      options_.long_delay_ticks_max > options_.delay_ticks_max) {
    return rng_.Between(options_.delay_ticks_max + 1, options_.long_delay_ticks_max);
  }
  return rng_.Between(options_.delay_ticks_min, options_.delay_ticks_max);
}

void Network::Send(Packet m, uint64_t now_ticks) {
  ++stats_.sent;
  if (IsCut(m.from, m.to)) {
    ++stats_.dropped_cut;
    return;
  }
  if (options_.drop_per_million > 0 && rng_.Chance(options_.drop_per_million)) {
    ++stats_.dropped_random;
    return;
  }
  int copies = 1;
  if (options_.duplicate_per_million > 0 && rng_.Chance(options_.duplicate_per_million)) {
    copies = 2;
    ++stats_.duplicated;
  }
  for (int c = 0; c < copies; ++c) {
    if (in_flight_.size() >= options_.in_flight_max) {
      ++stats_.dropped_overflow;
      return;
    }
    uint64_t due = now_ticks + DrawDelayTicks();
    if (c + 1 < copies) {
      in_flight_.emplace(std::make_pair(due, next_sequence_++), m);
    } else {
      in_flight_.emplace(std::make_pair(due, next_sequence_++), std::move(m));
      break;
    }
  }
}

std::vector<Packet> Network::TakeDue(uint64_t now_ticks) {
  std::vector<Packet> out;
  auto it = in_flight_.begin();
  while (it != in_flight_.end() && it->first.first <= now_ticks) {
    if (IsCut(it->second.from, it->second.to)) {
      ++stats_.dropped_cut;
    } else {
      ++stats_.delivered;
      out.push_back(std::move(it->second));
    }
    it = in_flight_.erase(it);
  }
  return out;
}

}  // namespace nds::sim
