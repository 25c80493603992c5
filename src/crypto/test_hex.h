// Test-only helpers for crypto/ tests: hex text to bytes and back, so that published test vectors
// can be pasted as they are printed in their RFCs. Not part of nds_crypto's API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace nds::crypto::testing {

// Decodes lower- or upper-case hex with no separators; a malformed vector fails the test.
inline std::string FromHex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  EXPECT_EQ(hex.size() % 2, 0u) << "odd hex length in a test vector";
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    const int hi = nibble(hex[i]);
    const int lo = nibble(hex[i + 1]);
    EXPECT_TRUE(hi >= 0 && lo >= 0) << "bad hex digit in a test vector at " << i;
    out.push_back(static_cast<char>((hi << 4) | lo));
  }
  return out;
}

inline std::vector<uint8_t> BytesFromHex(std::string_view hex) {
  const std::string s = FromHex(hex);
  return {s.begin(), s.end()};
}

inline std::string ToHex(std::string_view bytes, bool upper = false) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

}  // namespace nds::crypto::testing
