// The simulator's only source of randomness: a seeded xoshiro256** generator. One 64-bit seed
// drives a whole run (STYLE.md §5 item 5), so a run replays exactly from its seed; nothing in sim/
// reads std::random_device or a clock. Fork() derives independent streams (network, disk, clients,
// faults) so that adding a draw in one part does not shift the others.
// Value type; not thread-safe.
#pragma once

#include <cstdint>

namespace nds::sim {

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    // Expand the seed with splitmix64, as the xoshiro authors recommend.
    uint64_t x = seed;
    for (uint64_t& s : s_) {
      x += 0x9e3779b97f4a7c15ULL;
      uint64_t z = x;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      s = z ^ (z >> 31);
    }
  }

  uint64_t Next() {
    uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n) (the modulo bias is negligible for the small n used here). Precondition:
  // n > 0.
  uint64_t Below(uint64_t n) { return Next() % n; }
  // Uniform in [lo, hi]. Precondition: lo <= hi.
  uint64_t Between(uint64_t lo, uint64_t hi) { return lo + Below(hi - lo + 1); }
  // True with probability per_million / 1e6.
  bool Chance(uint64_t per_million) { return Below(1'000'000) < per_million; }
  // A new generator whose stream is independent of this one's.
  Rng Fork() { return Rng(Next()); }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  uint64_t s_[4];
};

}  // namespace nds::sim
