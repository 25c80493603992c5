// Cryptographically secure random bytes from OpenSSL's DRBG (RAND_bytes), for keys and nonces.
// Never use <random> or a seeded PRNG for these: the simulator's seeded PRNG is for schedules only.
#pragma once

#include <cstdint>
#include <span>

#include "util/status.h"

namespace nds::crypto {

// Fills `out` with random bytes. Thread-safe. Returns kUnavailable when the generator cannot
// produce output (it could not be seeded); `out` is then wiped rather than left partly filled.
// Any size is accepted; an empty span succeeds at once.
Status RandomBytes(std::span<uint8_t> out);

}  // namespace nds::crypto
