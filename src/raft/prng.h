// A small deterministic PRNG (splitmix64) for the election jitter: the core has no randomness of
// its own (STYLE.md §7), only this generator seeded from Config::seed.
// Value type; not thread-safe.
#pragma once

#include <cstdint>

namespace nds::raft {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform enough in [0, n) for jitter. Precondition: n > 0.
  uint64_t Uniform(uint64_t n) { return Next() % n; }

 private:
  uint64_t state_;
};

}  // namespace nds::raft
