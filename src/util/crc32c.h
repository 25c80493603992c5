// CRC32C (Castagnoli), the checksum of every WAL record and snapshot header. Uses the SSE4.2
// crc32 instruction when the CPU has it (checked once at run time), a table otherwise.
// Thread-safe (pure functions).
#pragma once

#include <cstdint>
#include <string_view>

namespace nds::crc32c {

// Extends `crc` (the CRC of some earlier bytes; 0 for none) with `data`.
uint32_t Extend(uint32_t crc, const char* data, size_t n);
inline uint32_t Value(std::string_view data) { return Extend(0, data.data(), data.size()); }

// Whether the hardware path is in use (for benchmarks and logs).
bool IsHardwareAccelerated();

}  // namespace nds::crc32c
